//! The `ctxgen` binary: a thin shell over the library. All printing, environment and
//! exit codes live in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
