//! The `faultline` binary: the command line of [`faultline::cli`] for the built-in protocols.

fn main() -> std::process::ExitCode {
    faultline::cli::main(faultline::Registry::builtin())
}
