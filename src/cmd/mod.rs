//! One small file per command: turn arguments into a library call and print the result.

use crate::cli::{Cli, Command};
use partner_pages::error::Result;

mod build;
mod calendar;
pub(crate) mod check;
mod forget;
mod init;
mod leads;
mod ledger;
mod mcp;
mod report;
mod serve;

pub(crate) fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Init(a) => init::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Build(a) => build::run(g, a),
        Command::Serve(a) => serve::run(g, a),
        Command::Report(a) => report::run(g, a),
        Command::Calendar(a) => calendar::run(g, a),
        Command::Leads(a) => leads::run(g, a),
        Command::Commissions(a) => ledger::commissions(g, a),
        Command::Payouts(a) => ledger::payouts(g, a),
        Command::Forget(a) => forget::run(g, a),
        Command::Mcp(a) => mcp::run(g, a),
    }
}
