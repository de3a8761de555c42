//! The `partner-pages` command: parse the arguments ([`cli`]), call the library ([`cmd`]),
//! print errors and exit (0 ok, 1 user error, 2 bug).

mod cli;
mod cmd;

use clap::Parser;
use cli::Cli;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; a bad argument is a user error (exit 1,
            // not clap's 2: 2 means a bug here).
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let code = match cmd::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            // Diagnostics in colour on a terminal, plain in CI and pipes and with NO_COLOR
            // (anstream strips the styles).
            match &e {
                partner_pages::Error::Input(d) => anstream::eprintln!("{}", d.render(true)),
                // A bad value of a request field: named as the flag that gave it.
                _ => eprintln!("{}", e.naming_fields(cli::flag)),
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
