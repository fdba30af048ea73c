//! Tests of primary-backup.
