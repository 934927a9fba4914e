//! The `fymo` binary: the CLI with no Rust controllers of its own (Python controllers and
//! template-only routes work as they are). Apps with Rust controllers build their own
//! binary over `fymo::cli::main`, as `controllers/main.rs` does for the demo.

fn main() -> std::process::ExitCode {
    fymo::cli::main(fymo::App::default())
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
