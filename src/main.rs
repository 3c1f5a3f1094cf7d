use clap::Parser;

use clawposture::front::cli::Cli;
use clawposture::front::dispatch;

// The binary's only (the library's callers keep theirs): see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    if let Err(f) = dispatch::run(cli) {
        if !f.message.is_empty() {
            eprintln!("clawposture: {}", f.message);
        }
        std::process::exit(f.code);
    }
}
