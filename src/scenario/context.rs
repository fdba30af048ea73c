//! What a scenario's second parsing pass knows: the node names, the protocol and its
//! properties and bugs, the run's duration. Deserializers consult it to reject references to
//! things that do not exist, so that those errors carry the YAML location of the bad value.

use std::cell::RefCell;

#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    pub(crate) nodes: Vec<String>,
    pub(crate) protocol: String,
    pub(crate) bugs: Vec<&'static str>,
    pub(crate) properties: Vec<&'static str>,
    /// The check of the workload's history, if the scenario has a workload.
    pub(crate) history_check: Option<&'static str>,
    pub(crate) duration_ns: u64,
    /// When the last fault, and the last heal, happen (for `eventually: { after: ... }`).
    pub(crate) last_fault_ns: Option<u64>,
    pub(crate) last_heal_ns: Option<u64>,
    pub(crate) max_nodes: u64,
    /// The client workload models the protocol serves.
    pub(crate) workloads: Vec<crate::workload::Model>,
    /// When the liveness phase begins: no fault may come at or after it.
    pub(crate) liveness_at_ns: Option<u64>,
    /// For a scenario without `params:`: whether the protocol's defaults fit a node count.
    pub(crate) default_params_check: Option<fn(u32) -> Result<(), String>>,
    /// The regions of `topology:`, in order (none without one).
    pub(crate) regions: Vec<String>,
    /// Whether `network.latency` is given, and a swarm's `latency_mean`: a topology replaces
    /// both.
    pub(crate) network_latency: bool,
    pub(crate) swarm_latency: bool,
    /// The workload's client count, if the scenario has a workload.
    pub(crate) workload_clients: Option<u32>,
}

thread_local! {
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
    /// The protocols a scenario may name, known on both passes.
    static PROTOCOLS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Installs the names of the protocols a scenario may name for the duration of a closure.
pub(crate) fn with_protocols<T>(names: Vec<&'static str>, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PROTOCOLS.with(|p| p.borrow_mut().clear());
        }
    }
    PROTOCOLS.with(|p| *p.borrow_mut() = names);
    let _reset = Reset;
    f()
}

/// Runs `f` on the names of the protocols a scenario may name.
pub(crate) fn protocols<T>(f: impl FnOnce(&[&'static str]) -> T) -> T {
    PROTOCOLS.with(|p| f(&p.borrow()))
}

/// Installs a context for the duration of a closure (the second pass).
pub(crate) fn with_context<T>(ctx: Context, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CONTEXT.with(|c| *c.borrow_mut() = None);
        }
    }
    CONTEXT.with(|c| *c.borrow_mut() = Some(ctx));
    let _reset = Reset;
    f()
}

/// Runs `f` on the context if one is installed (second pass), else returns `None` (first pass).
pub(crate) fn inspect<T>(f: impl FnOnce(&Context) -> T) -> Option<T> {
    CONTEXT.with(|c| c.borrow().as_ref().map(f))
}

/// `a, b or c` for messages listing what is allowed.
pub(crate) fn one_of(items: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => "none".to_string(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}
