//! Tests of quorum-kv.
