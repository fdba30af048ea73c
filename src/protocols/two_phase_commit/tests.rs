//! Tests of two-phase commit.
