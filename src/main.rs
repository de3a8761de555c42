use clap::Parser;
use partner_pages::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let code = match partner_pages::cmd::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            // Diagnostics in colour on a terminal, plain in CI and pipes.
            match &e {
                partner_pages::Error::Input(d) => {
                    use std::io::IsTerminal;
                    eprintln!("{}", d.render(std::io::stderr().is_terminal()))
                }
                _ => eprintln!("{e}"),
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
