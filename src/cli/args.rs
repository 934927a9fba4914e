//! Command-line arguments as parsed.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Fymo: Svelte 5 pages rendered in Rust.
#[derive(Debug, Parser)]
#[command(name = "fymo", version, about)]
pub(super) struct Args {
    /// The app directory.
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Compile templates into .fymo/build/.
    Build,
    /// Build, serve, watch and reload: the development server.
    Dev(ServeArgs),
    /// Serve the app (builds first if there is no build output).
    Serve(ServeArgs),
    /// Print the route table.
    Routes,
    /// Create a new app in DIR.
    New {
        /// Where to create it (must not exist, or be empty).
        dir: PathBuf,
        /// An app driven by Inertia's own Svelte adapter (client.js and ssr.js at its root).
        #[arg(long)]
        inertia: bool,
    },
    /// Check Node, npm, Python, node-tools packages, routes.yml and the build output.
    Doctor,
    /// Print a new random app secret (for FYMO_SECRET or `secret:` in fymo.yml).
    Secret,
    /// Render every `prerender: true` route into DIR, with the client files and static/.
    Export {
        /// Where to write the site.
        dir: PathBuf,
        /// Engine and pool options, as for `serve`.
        #[command(flatten)]
        serve: ServeArgs,
    },
}

/// Options of `fymo serve`.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// `HOST:PORT` or `unix:/path`; overrides --host and --port.
    #[arg(long)]
    pub bind: Option<crate::server::Bind>,
    /// Prefork worker processes (`serve` only); without it, one process serves.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Seconds a worker may go without a heartbeat before it is killed and replaced.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Seconds stopping workers may take to finish their requests.
    #[arg(long, default_value_t = 30)]
    pub graceful_timeout: u64,
    /// Recycle a worker after this many requests (0 = never).
    #[arg(long, default_value_t = 0)]
    pub max_requests: u64,
    /// Add up to this many requests to --max-requests, per worker.
    #[arg(long, default_value_t = 0)]
    pub max_requests_jitter: u64,
    /// Write the master's pid to this file.
    #[arg(long)]
    pub pid: Option<PathBuf>,
    /// JavaScript engine: `v8` when built with it (the default then), else `quickjs`.
    #[arg(long, value_enum, default_value_t = crate::engine::Engine::default())]
    pub engine: crate::engine::Engine,
    /// Engine instances (threads); default one per core.
    #[arg(long)]
    pub engines: Option<usize>,
    /// Render deadline in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub render_timeout_ms: u64,
    /// Heap limit per engine instance, in MiB (0 = none).
    #[arg(long, default_value_t = 256)]
    pub engine_memory_mb: usize,
    /// Replace an engine instance after this many renders (0 = never, the default, like
    /// gunicorn's `max_requests`); a leak guard for apps that need one.
    #[arg(long, default_value_t = 0)]
    pub max_renders: u64,
    /// Python interpreter for Python controllers.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Python worker processes; default one per core (at least 2).
    #[arg(long)]
    pub python_workers: Option<usize>,
    /// Longest a Python controller call may take, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub python_timeout_ms: u64,
    /// Show error details in responses (development).
    #[arg(long)]
    pub dev_errors: bool,
    /// Seconds a client may take to send a request's head; then the connection is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request's body; then it is answered 408.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Seconds a kept-alive connection may idle between requests.
    #[arg(long, default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive_timeout_secs: u64,
    /// Most connections open at once per process; more wait to be accepted.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Live pages' broker: `memory` (this process; with --workers, a relay through the
    /// master) or `redis://HOST:PORT` (shared by every host).
    #[arg(long)]
    pub broker: Option<crate::live::Broker>,
    /// Live connections (WebSockets, event streams) per process.
    #[arg(long, default_value_t = 10_000)]
    pub live_max_connections: usize,
    /// Live connections per client IP address, per process.
    #[arg(long, default_value_t = 64)]
    pub live_max_per_ip: usize,
    /// Messages kept per topic for late subscribers and reconnects.
    #[arg(long, default_value_t = 256)]
    pub live_buffer: usize,
    /// A live connection's send queue limit (messages).
    #[arg(long, default_value_t = 256)]
    pub live_queue: usize,
    /// Seconds between heartbeats on live connections.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub live_heartbeat_secs: u64,
    /// Query keys whose values the access log replaces with REDACTED (comma-separated;
    /// also matches a word of a key, e.g. `api_key`).
    #[arg(long, value_delimiter = ',', default_values_t = crate::server::DEFAULT_REDACTED.map(String::from))]
    pub redact_query_keys: Vec<String>,
}
