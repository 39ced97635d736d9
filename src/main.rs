//! The `behalf` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

/// mimalloc: fewer cycles per allocation than glibc's malloc on the token paths,
/// and memory returned to the system after a burst instead of kept per thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    behalf::cli::main()
}
