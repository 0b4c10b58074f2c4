//! `backprop-viz`: parse the command line and hand off.

use std::process::ExitCode;

fn main() -> ExitCode {
    backprop_viz::cli::main()
}
