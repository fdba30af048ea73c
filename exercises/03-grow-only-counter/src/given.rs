//! Given: properties the exercise's protocol checks beyond the clients' history. Leave this
//! file as it is.
//!
//! This exercise needs none. The `counter_bounds` check that the `counter` workload adds
//! judges what the clients saw: every read must lie between the sum of the adds acknowledged
//! before it began and the sum of all adds invoked before it was answered. The grader's
//! `ok_min` catches requests that were refused or never answered. The file stays so that
//! every exercise has the same layout.
