//! Given: properties the exercise's protocol checks beyond the clients' history. Leave this
//! file as it is.
//!
//! This exercise needs none. The `set_full` check that the `set` workload adds judges what
//! the clients saw: an element whose add was acknowledged must be in the last read that
//! began after it, on whichever node that read ran. The grader's `ok_min` catches requests
//! that were refused or never answered. The file stays so that every exercise has the same
//! layout.
