// stateright's single-decree Paxos example, compiled unchanged from the
// stateright crate's own source: build.rs finds `examples/paxos.rs` of the
// stateright version in Cargo.lock in the local cargo registry and puts it in
// OUT_DIR. Nothing of it is kept in this folder.
include!(concat!(env!("OUT_DIR"), "/paxos.rs"));
