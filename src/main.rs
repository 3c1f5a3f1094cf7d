use clap::Parser;

use clawposture::cli::Cli;
use clawposture::run;

fn main() {
    let cli = Cli::parse();
    if let Err(f) = run::run(cli) {
        eprintln!("clawposture: {}", f.message);
        std::process::exit(f.code);
    }
}
