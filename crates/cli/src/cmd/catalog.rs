//! Subcommand (under construction).

use crate::common::CliResult;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: &Args) -> CliResult {
    Err("not implemented yet".into())
}
