use clap::Parser;

use clawposture::front::cli::Cli;
use clawposture::front::dispatch;

// The binary's only (the library's callers keep theirs): see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options (v2's `mi_option_t` in `mimalloc.h`, the version the `v2` feature
/// builds): the `mimalloc` crate binds none of them, and `libmimalloc-sys` only with a
/// feature that adds a crate, for one call.
mod allocator {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
        #[cfg(test)]
        fn mi_option_get(option: c_int) -> c_long;
    }

    /// `mi_option_arena_eager_commit` (default 2: on overcommitting systems such as Linux).
    const ARENA_EAGER_COMMIT: c_int = 4;
    /// `mi_option_purge_delay` (default 10 ms).
    const PURGE_DELAY: c_int = 15;

    /// Memory freed goes back to the system at once, and arenas are committed as they are
    /// used: a big config's phases (read, plan, write, check) each free most of what the
    /// last one held, and with the defaults the peak RSS kept pages no phase still used (a
    /// 100k-line config: a median of 139 MB, spread 20 MB between runs; 108 MB with these).
    pub extern "C" fn tune() {
        // SAFETY: setters of process-wide integers, called before any thread starts.
        unsafe {
            mi_option_set(PURGE_DELAY, 0);
            mi_option_set(ARENA_EAGER_COMMIT, 0);
        }
    }

    // An arena is committed as the option says when it is made, at the first allocation:
    // the Rust runtime allocates before `main`, so on Linux the options are set from the
    // program's constructors, after mimalloc's own (priority 101, which reads the
    // environment) and before the runtime starts.
    #[cfg(target_os = "linux")]
    #[used]
    #[unsafe(link_section = ".init_array")]
    static TUNE: extern "C" fn() = tune;

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_options_are_set_before_main_and_the_numbers_are_the_options_meant() {
            let get = |o| {
                // SAFETY: a getter of a process-wide integer.
                unsafe { mi_option_get(o) }
            };
            if cfg!(target_os = "linux") {
                // This test binary has the constructor too (not `main`).
                assert_eq!((get(PURGE_DELAY), get(ARENA_EAGER_COMMIT)), (0, 0));
            }
            // Their neighbours at their documented defaults: eager_commit (1) and
            // purge_decommits (1) beside arena_eager_commit, eager_commit_delay (1) and
            // use_numa_nodes (0) beside purge_delay. A number off by one sets a neighbour.
            assert_eq!([get(3), get(5), get(14), get(16)], [1, 1, 1, 0]);
        }
    }
}

fn main() {
    #[cfg(not(target_os = "linux"))]
    allocator::tune();
    let cli = Cli::parse();
    if let Err(f) = dispatch::run(cli) {
        if !f.message.is_empty() {
            eprintln!("clawposture: {}", f.message);
        }
        std::process::exit(f.code);
    }
}
