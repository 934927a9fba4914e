//! The commands.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::args::{Args, Command, LogFormat, ServeArgs};
use super::Failure;
use crate::build::{self, BuildError, BuildEvent};
use crate::config::{AppFile, RoutesFile, APP_FILE, ROUTES_FILE};
use crate::controller::python::PythonConfig;
use crate::controller::random_token;
use crate::dev;
use crate::engine::{Limits, PoolConfig};
use crate::export::{self, ExportError};
use crate::live::{Broker, Hub, HubConfig, RelayServer, RELAY_ENV};
use crate::prefork::{self, Arbiter, ArbiterConfig, Ended, ServeError, WorkerEnv};
use crate::server::{self, Bind, BoundListener, ConnLimits, HttpOptions, Mode, MIN_SECRET_LEN};
use crate::site::{self, SiteOptions};
use crate::App;

pub(super) fn run(app: App, args: Args) -> Result<(), Failure> {
    init_logging(args.log_format);
    if let Command::Secret = &args.command {
        println!("{}", random_token());
        return Ok(());
    }
    if let Command::New { dir, inertia } = &args.command {
        super::scaffold::scaffold(dir, *inertia).map_err(Failure::config)?;
        // Inertia's adapter comes from npm; the plain app builds with Fymo's own Svelte.
        let next = if *inertia {
            format!("cd {} && npm install && fymo dev", dir.display())
        } else {
            format!("fymo --root {} dev", dir.display())
        };
        println!("created {}\nnext: {next}", dir.display());
        return Ok(());
    }
    let root = args
        .root
        .canonicalize()
        .with_context(|| format!("app directory {}", args.root.display()))
        .map_err(Failure::config)?;
    if let Command::Serve(serve) | Command::Dev(serve) = &args.command {
        server::configure(http_options(serve));
    }
    match args.command {
        Command::Build => build_app(&root),
        Command::Serve(serve) => serve_app(app, &root, &serve),
        Command::Dev(serve) => {
            let options = site_options(&root, &serve, secret_for(&root, true)?);
            dev::run(app, options, &bind_of(&serve)).map_err(Failure::runtime)
        }
        Command::Routes => print_routes(&app, &root),
        Command::Export { dir, serve } => export_app(&app, &root, &dir, &serve),
        Command::Doctor if super::doctor::doctor(&app, &root) => Ok(()),
        Command::Doctor => Err(Failure::runtime(anyhow::anyhow!("some checks failed"))),
        Command::New { .. } | Command::Secret => unreachable!("handled above"),
    }
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("FYMO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn build_app(root: &Path) -> Result<(), Failure> {
    // A routes.yml or fymo.yml that `fymo serve` would refuse, a build refuses first (a CI
    // step fails where the mistake is made), each error with file:line. Only the files
    // themselves: whether a name has a controller is the serving binary's to say (the
    // plain `fymo` does not know an app's Rust controllers).
    RoutesFile::load(&root.join(ROUTES_FILE)).map_err(Failure::config)?;
    AppFile::load(root).map_err(Failure::config)?;
    // Logs, not plain output: `fymo serve` builds first when it must.
    tracing::info!(target: "fymo::build", "building {}", root.display());
    build::build(root, |event| match event {
        BuildEvent::Templates { count } => tracing::info!(target: "fymo::build", "templates   {count} found"),
        BuildEvent::Svelte { version, owner } => {
            let whose = if owner == "app" { "the app's node_modules/svelte" } else { "Fymo's own" };
            tracing::info!(target: "fymo::build", "svelte      {version} ({whose})");
        }
        BuildEvent::Ssr { ms } => tracing::info!(target: "fymo::build", "ssr bundle  {ms} ms"),
        BuildEvent::Client { entries, ms } => {
            tracing::info!(target: "fymo::build", "client      {entries} entries, {ms} ms");
        }
        BuildEvent::Done { ms } => {
            tracing::info!(target: "fymo::build", "done        {ms} ms -> {}", build::output_dir(root).display());
        }
        BuildEvent::Warning(warning) => tracing::warn!(target: "fymo::build", "{warning}"),
        BuildEvent::Error(_) | BuildEvent::Failed => {}
    })
    .map_err(|e| match e {
        BuildError::Compile(_) => Failure::runtime(anyhow::anyhow!("build failed:\n{e}")),
        other => Failure::runtime(other),
    })
}

/// The app secret: `$FYMO_SECRET`, else `secret:` in `fymo.yml`, else (for `fymo dev`
/// only) a throwaway one.
fn secret_for(root: &Path, dev: bool) -> Result<String, Failure> {
    let secret = match std::env::var("FYMO_SECRET").ok().filter(|s| !s.is_empty()) {
        Some(secret) => Some((secret, "FYMO_SECRET")),
        None => AppFile::load(root).map_err(Failure::config)?.secret.map(|s| (s, APP_FILE)),
    };
    match secret {
        Some((secret, _)) if secret.len() >= MIN_SECRET_LEN => Ok(secret),
        Some((_, from)) => Err(Failure::config(anyhow::anyhow!(
            "the app secret in {from} is too short: use at least {MIN_SECRET_LEN} characters (`fymo secret` prints one)"
        ))),
        None if dev => Ok(random_token()),
        None => Err(Failure::config(anyhow::anyhow!(
            "no app secret: sessions are signed and encrypted with one. Set FYMO_SECRET, or `secret:` in {}; `fymo secret` prints a new one",
            root.join(APP_FILE).display()
        ))),
    }
}

fn site_options(root: &Path, args: &ServeArgs, secret: String) -> SiteOptions {
    let mut pool = PoolConfig {
        max_renders: args.max_renders,
        limits: Limits {
            deadline: Duration::from_millis(args.render_timeout_ms),
            memory_bytes: args.engine_memory_mb * 1024 * 1024,
        },
        ..PoolConfig::default()
    };
    if let Some(n) = args.engines {
        pool.size = n.max(1);
    }
    let mut python = PythonConfig { timeout: Duration::from_millis(args.python_timeout_ms), ..PythonConfig::default() };
    if let Some(p) = &args.python {
        python.python = p.clone();
    }
    if let Some(n) = args.python_workers {
        python.workers = n.max(1);
    }
    let live = Hub::new(HubConfig {
        buffer: args.live_buffer.max(1),
        queue_limit: args.live_queue.max(1),
        max_connections: args.live_max_connections,
        max_per_ip: args.live_max_per_ip,
        heartbeat: Duration::from_secs(args.live_heartbeat_secs),
    });
    // A prefork worker relays through its master unless a shared broker is named.
    let broker = match (&args.broker, std::env::var_os(RELAY_ENV)) {
        (Some(broker @ Broker::Redis(_)), _) => broker.clone(),
        (_, Some(path)) => Broker::Relay(path.into()),
        (broker, None) => broker.clone().unwrap_or(Broker::Memory),
    };
    SiteOptions { root: root.to_owned(), engine: args.engine, pool, python, dev_client: false, secret, live, broker }
}

fn http_options(args: &ServeArgs) -> HttpOptions {
    HttpOptions {
        limits: ConnLimits {
            header: Duration::from_secs(args.header_timeout_secs),
            body: Duration::from_secs(args.body_timeout_secs),
            keep_alive: Duration::from_secs(args.keepalive_timeout_secs),
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        },
        redact_query_keys: args.redact_query_keys.iter().filter(|k| !k.is_empty()).cloned().collect(),
    }
}

fn mode_of(args: &ServeArgs) -> Mode {
    if args.dev_errors {
        Mode::Details
    } else {
        Mode::Production
    }
}

fn bind_of(args: &ServeArgs) -> Bind {
    args.bind.clone().unwrap_or_else(|| Bind::Tcp(format!("{}:{}", args.host, args.port)))
}

fn serve_app(app: App, root: &Path, args: &ServeArgs) -> Result<(), Failure> {
    if let Some(env) = WorkerEnv::from_env() {
        // A prefork worker: the master already checked the app and bound the socket.
        let options = site_options(root, args, secret_for(root, false)?);
        std::process::exit(prefork::run_worker(&app, options, mode_of(args), &env));
    }
    let secret = secret_for(root, false)?;
    if !build::output_dir(root).join("manifest.json").is_file() {
        build_app(root)?;
    }
    let listener = BoundListener::bind(&bind_of(args))
        .with_context(|| format!("binding {:?}", bind_of(args)))
        .map_err(Failure::runtime)?;
    let Some(workers) = args.workers else {
        return prefork::serve_single(&app, site_options(root, args, secret), mode_of(args), listener, None).map_err(
            |e| match e {
                ServeError::Boot(e) if e.is_config() => Failure::config(e),
                other => Failure::runtime(other),
            },
        );
    };
    // Catch configuration mistakes here, once, rather than in every worker.
    site::load_routes(root, &app).map_err(Failure::config)?;
    let config = ArbiterConfig {
        workers,
        timeout: Duration::from_secs(args.timeout),
        graceful_timeout: Duration::from_secs(args.graceful_timeout),
        max_requests: args.max_requests,
        max_requests_jitter: args.max_requests_jitter,
        pid_file: args.pid.clone(),
        exe: std::env::current_exe()
            .context("finding this executable to start workers from")
            .map_err(Failure::runtime)?,
        worker_args: std::env::args_os().skip(1).collect(),
        worker_env: Vec::new(),
    };
    // Live pages across workers: the master relays, unless a shared broker does.
    let relay = match &args.broker {
        Some(Broker::Redis(_)) => None,
        _ => Some(RelayServer::start().context("starting the live relay").map_err(Failure::runtime)?),
    };
    let mut config = config;
    if let Some(relay) = &relay {
        config.worker_env.push((RELAY_ENV, relay.path().as_os_str().to_owned()));
    }
    let arbiter = Arbiter::new(config, listener).map_err(Failure::runtime)?;
    match arbiter.run() {
        Ended::Stopped => Ok(()),
        Ended::BootFailed => Err(Failure::runtime(anyhow::anyhow!("workers failed to boot the app"))),
    }
}

fn export_app(app: &App, root: &Path, dir: &Path, args: &ServeArgs) -> Result<(), Failure> {
    if !build::output_dir(root).join("manifest.json").is_file() {
        build_app(root)?;
    }
    // Sessions mean nothing in a static site: a throwaway secret.
    let options = site_options(root, args, random_token());
    let pages = export::run(app, options, dir).map_err(|e| match e {
        ExportError::Site(e) if e.is_config() => Failure::config(e),
        e @ ExportError::NoEntries { .. } => Failure::config(e),
        other => Failure::runtime(other),
    })?;
    for page in &pages {
        println!("{page}");
    }
    eprintln!("fymo: exported {} page(s) to {}", pages.len(), dir.display());
    Ok(())
}

fn print_routes(app: &App, root: &Path) -> Result<(), Failure> {
    let routes = site::load_routes(root, app).map_err(Failure::config)?;
    let rows: Vec<[String; 5]> = routes
        .routes()
        .iter()
        .map(|r| {
            [
                r.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(","),
                r.pattern.clone(),
                r.name.clone(),
                r.controller.map_or_else(|| "-".into(), |l| l.to_string()),
                match &r.page {
                    Some(p) if r.layouts.is_empty() => format!("templates/{p}.svelte"),
                    Some(p) => format!("templates/{p}.svelte (in {})", r.layouts.join(" > ")),
                    None => "(json)".into(),
                },
            ]
        })
        .collect();
    let header = ["METHODS", "PATH", "CONTROLLER", "LANG", "TEMPLATE"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", line.join("  ").trim_end());
    }
    for (path, route) in server::shadowed(root, &routes) {
        println!("note: static{path} is shadowed by the route {route} (a route wins over a file)");
    }
    Ok(())
}
