use clap::Parser;
use partner_pages::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let code = match partner_pages::cmd::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
