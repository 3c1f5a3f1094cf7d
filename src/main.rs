use clap::Parser;

use clawposture::cli::Cli;
use clawposture::run;

fn main() {
    let cli = Cli::parse();
    if let Err(f) = run::run(cli) {
        if !f.message.is_empty() {
            eprintln!("clawposture: {}", f.message);
        }
        std::process::exit(f.code);
    }
}
