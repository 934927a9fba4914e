//! The demo app's binary: Fymo's CLI with the demo's Rust controllers compiled in.
//!
//! `cargo run --bin fymo-demo -- serve` serves the repository root.

mod home;
mod products;
mod pulse;
mod upload;

fn main() -> std::process::ExitCode {
    let app = fymo::App::builder()
        .controller("home", home::index)
        .controller("products.index", products::index)
        .controller("products.show", products::show)
        .controller("products.api", products::api)
        .controller("counter", home::counter)
        .controller("snippets", home::snippets)
        .controller("hello", home::hello)
        .controller("demo.fail", home::fail)
        .controller("upload", upload::upload)
        .controller("visits", home::visits)
        .controller("auth._layout", home::auth_layout)
        .controller("echo", home::echo)
        .controller("pulse", pulse::pulse)
        .build();
    fymo::cli::main(app)
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
