//! Shared test harness: app copies in temp dirs, `fymo build`, a server child process on
//! an ephemeral 127.0.0.1 port, and a small HTTP client.
#![allow(dead_code, unreachable_pub)]

pub mod ssr;
pub mod visitor;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The repository root (the demo app).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".fymo" || name == "node_modules" || name == "__pycache__" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of an app in a temp dir.
pub struct TestApp {
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// Copies the demo app (templates, controllers' Python files, routes.yml).
    pub fn demo() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("templates"), &dir.path().join("templates"));
        if repo().join("controllers").is_dir() {
            copy_dir(&repo().join("controllers"), &dir.path().join("controllers"));
        }
        std::fs::copy(repo().join("routes.yml"), dir.path().join("routes.yml")).unwrap();
        copy_dir(&repo().join("static"), &dir.path().join("static"));
        std::fs::copy(repo().join("fymo.yml"), dir.path().join("fymo.yml")).unwrap();
        Self { dir }
    }

    /// Copies the app at `root` (not its node_modules, which the copy links to).
    pub fn copy_of(root: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(root, dir.path());
        if root.join("node_modules").is_dir() {
            std::os::unix::fs::symlink(root.join("node_modules"), dir.path().join("node_modules")).unwrap();
        }
        Self { dir }
    }

    /// Copies `tests/apps/<name>`.
    pub fn fixture(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("tests/apps").join(name), dir.path());
        Self { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, contents: &str) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Runs `<bin> --root <dir> <args>` and returns (exit code, stdout, stderr).
    pub fn run(&self, bin: &str, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(bin)
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env("FYMO_SECRET", TEST_SECRET)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `fymo build`, asserting success.
    pub fn build(&self) {
        let (code, out, err) = self.run(FYMO, &["build"]);
        assert_eq!(code, 0, "fymo build failed:\n{out}\n{err}");
    }
}

pub const FYMO: &str = env!("CARGO_BIN_EXE_fymo");

/// The app secret every test server gets (fixtures have no `fymo.yml`).
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub const DEMO: &str = env!("CARGO_BIN_EXE_fymo-demo");

/// A running `fymo serve` child; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: mpsc::Receiver<String>,
    /// The log lines up to and including the "listening on" line.
    pub startup: Vec<String>,
}

impl Server {
    /// Starts `<bin> --root <app> serve --port 0 <args>` and waits for its address.
    pub fn start(bin: &str, app: &TestApp, args: &[&str]) -> Self {
        Self::start_command(bin, app, "serve", args)
    }

    /// Starts `<bin> --root <app> <command> --port 0 <args>` and waits for its address.
    pub fn start_command(bin: &str, app: &TestApp, command: &str, args: &[&str]) -> Self {
        Self::start_configured(bin, app, command, args, |_| {})
    }

    /// As [`Server::start_command`], with the command adjusted by `configure` first.
    pub fn start_configured(
        bin: &str,
        app: &TestApp,
        command: &str,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Self {
        Self::start_at(bin, app.root(), command, args, configure)
    }

    /// As [`Server::start_configured`], for the app at `root` (not a copy).
    pub fn start_at(
        bin: &str,
        root: &Path,
        command: &str,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Self {
        let mut command_line = Command::new(bin);
        command_line
            .arg("--root")
            .arg(root)
            .args([command, "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .env("NO_COLOR", "1")
            .env("FYMO_LOG", "info")
            .env("FYMO_SECRET", TEST_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        configure(&mut command_line);
        let mut child = command_line.spawn().unwrap();
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            match log.recv_timeout(remaining) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap().to_owned();
                        seen.push(line);
                        return Self { child, base: format!("http://{addr}"), log, startup: seen };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server did not start:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// The server process id (the master, with `--workers`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit, up to `limit`; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits (up to 30 s) for a log line containing `needle`; every line read so far,
    /// joined, for the assertion message.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while let Ok(line) = self.log.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen.join("\n");
            }
        }
        panic!("no log line contains {needle:?}; saw:\n{}", seen.join("\n"));
    }

    /// Log lines printed so far.
    pub fn drain_log(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response, whatever its status.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, split at commas (`Vary: a, b` twice gives all).
    pub fn header_list(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
            .collect()
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(30)).build()
}

fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = response.status();
    let mut headers = Vec::new();
    for name in response.headers_names() {
        for value in response.all(&name) {
            headers.push((name.clone(), value.to_owned()));
        }
    }
    Reply { status, headers, body: response.into_string().unwrap_or_default() }
}

/// The page object in a page's hydration target (its single-quoted `data-page`
/// attribute), decoded.
pub fn page_object(html: &str) -> serde_json::Value {
    let attribute = html.split("data-page='").nth(1).expect("data-page").split('\'').next().unwrap();
    assert!(!attribute.contains('<') && !attribute.contains('>'), "escaped: {attribute}");
    let json = attribute.replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// GET with extra headers.
pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    reply(req.call())
}

pub fn get(url: &str) -> Reply {
    get_with(url, &[])
}

/// GET, or `None` on a transport error: for polling in [`eventually`], where a reset
/// connection means "not yet", not a failed test.
pub fn try_get(url: &str) -> Option<Reply> {
    match agent().get(url).call() {
        Err(ureq::Error::Transport(_)) => None,
        other => Some(reply(other)),
    }
}

/// POST `body` as `content_type`.
pub fn post_body(url: &str, content_type: &str, body: &str) -> Reply {
    reply(agent().post(url).set("Content-Type", content_type).send_string(body))
}

/// A raw connection to `server` whose reads give up after 20 s: far longer than the
/// 1 s timeouts the tests set, so a busy machine does not make them fail.
pub fn connect(server: &Server) -> std::net::TcpStream {
    let addr = server.base.strip_prefix("http://").unwrap();
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// Reads one response off `stream`: its status and head, after reading its
/// `Content-Length` body. `None` when the server closed the connection first.
pub fn read_response(stream: &mut std::net::TcpStream) -> Option<(u16, String)> {
    use std::io::Read;
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => data.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("reading a response: {e}"),
        }
    }
    let head = String::from_utf8_lossy(&data).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    Some((status, head))
}

/// Whether the server closes `stream` (EOF or reset) within its read timeout, reading
/// and discarding anything sent before.
pub fn closed_by_server(stream: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
}

/// POST a form.
pub fn post_form(url: &str, fields: &[(&str, &str)]) -> Reply {
    reply(agent().post(url).send_form(fields))
}

/// Events from `/_fymo/dev/events`, read on a background thread.
pub struct EventStream {
    rx: mpsc::Receiver<serde_json::Value>,
}

impl EventStream {
    pub fn connect(server: &Server) -> Self {
        let response = ureq::get(&server.url("/_fymo/dev/events")).call().expect("event stream");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(response.into_reader());
            for line in reader.lines().map_while(Result::ok) {
                if let Some(data) = line.strip_prefix("data: ") {
                    if tx.send(serde_json::from_str(data).unwrap()).is_err() {
                        return;
                    }
                }
            }
        });
        let stream = Self { rx };
        stream.wait("hello");
        stream
    }

    /// The next event of type `kind`, skipping others; panics after 60 s.
    pub fn wait(&self, kind: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self.rx.recv_timeout(remaining).unwrap_or_else(|_| panic!("no `{kind}` event within 60 s"));
            eprintln!("event: {event}");
            if event["type"] == kind {
                return event;
            }
        }
    }
}

/// Sends `signal` (e.g. "HUP") to `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Child processes of `pid`, from /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        if ppid == pid {
            found.push(child);
        }
    }
    found.sort_unstable();
    found
}

/// The state letter of process `pid` from /proc (`R`, `S`, `T` stopped, `Z` zombie...),
/// `None` once it is gone.
pub fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// Whether signal number `signal` is pending for process `pid` (e.g. sent while it is
/// stopped), from the process-wide pending set in /proc.
pub fn signal_pending(pid: u32, signal: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    status
        .lines()
        .find_map(|l| l.strip_prefix("ShdPnd:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
}

/// Whether process `pid` has exited: gone from /proc, or a zombie not yet reaped.
pub fn exited(pid: u32) -> bool {
    matches!(state_of(pid), None | Some('Z'))
}

/// One HTTP/1.0 GET on its own TCP connection, in steps: [`RawRequest::connect`] returns
/// once the handshake is done (the connection is then in the server's accept queue or
/// accepted), [`RawRequest::send`] writes the request, [`RawRequest::response`] reads
/// the whole response (HTTP/1.0: the server closes after it, and never chunks it).
pub struct RawRequest {
    stream: std::net::TcpStream,
    request: String,
}

impl RawRequest {
    /// Connects to `base` (`http://HOST:PORT`), for a GET of `path`.
    pub fn connect(base: &str, path: &str) -> Self {
        let host = base.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("connecting to {host}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Self { stream, request: format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n") }
    }

    /// Connects to `base` for `request`, sent as it is written (a malformed one too).
    pub fn exact(base: &str, request: &str) -> Self {
        let mut raw = Self::connect(base, "/");
        raw.request = request.to_owned();
        raw
    }

    pub fn send(&mut self) {
        use std::io::Write;
        self.stream.write_all(self.request.as_bytes()).unwrap_or_else(|e| panic!("sending the request: {e}"));
    }

    /// The response, or the I/O error that ended it (a reset, say).
    pub fn response(mut self) -> std::io::Result<Reply> {
        use std::io::Read;
        let mut raw = Vec::new();
        self.stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers =
            lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
        Ok(Reply { status, headers, body: body.to_owned() })
    }
}

/// `/_fymo/health` with its details (the app secret as the bearer): the process, the
/// build and every counter.
pub fn health_details(server: &Server) -> serde_json::Value {
    let bearer = format!("Bearer {TEST_SECRET}");
    let reply = get_with(&server.url("/_fymo/health"), &[("Authorization", &bearer)]);
    let health: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    health["details"].clone()
}

/// Polls `check` every 100 ms for up to `limit`.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// A steady, bounded load: `threads` loops of GET `url`, one new connection per
/// request (so a worker that stops accepting never strands a kept-alive connection).
pub struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    served: std::sync::Arc<std::sync::atomic::AtomicU64>,
    handles: Vec<std::thread::JoinHandle<(u64, Vec<String>)>>,
}

/// What a load saw.
#[derive(Debug)]
pub struct LoadReport {
    pub ok: u64,
    pub failures: Vec<String>,
}

impl Load {
    pub fn start(url: &str, threads: usize) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let served = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let handles = (0..threads)
            .map(|_| {
                let (url, stop, served) = (url.to_owned(), stop.clone(), served.clone());
                std::thread::spawn(move || {
                    let agent =
                        ureq::AgentBuilder::new().max_idle_connections(0).timeout(Duration::from_secs(30)).build();
                    let (mut ok, mut failures) = (0, Vec::new());
                    let started = std::time::Instant::now();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed)
                        && started.elapsed() < Duration::from_secs(120)
                    {
                        match agent.get(&url).call() {
                            Ok(r) if r.status() == 200 => {
                                ok += 1;
                                served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Ok(r) => failures.push(format!("status {}", r.status())),
                            Err(e) => failures.push(e.to_string()),
                        }
                    }
                    (ok, failures)
                })
            })
            .collect();
        Self { stop, served, handles }
    }

    /// Waits (up to 60 s) until `more` further requests have succeeded: the load is
    /// running, whatever the machine's speed.
    pub fn wait_served(&self, more: u64) {
        let target = self.served.load(std::sync::atomic::Ordering::Relaxed) + more;
        assert!(
            eventually(Duration::from_secs(60), || self.served.load(std::sync::atomic::Ordering::Relaxed) >= target),
            "the load stalled"
        );
    }

    pub fn finish(self) -> LoadReport {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut report = LoadReport { ok: 0, failures: Vec::new() };
        for h in self.handles {
            let (ok, failures) = h.join().unwrap();
            report.ok += ok;
            report.failures.extend(failures);
        }
        report
    }
}

/// A Redis server on a free port, stopped on drop.
pub struct Redis {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Starts one; the port is free when picked, but another process may take it before
    /// Redis binds it, so a Redis that exits is started again on another port.
    pub fn start() -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let dir = tempfile::tempdir().unwrap();
            let mut child = std::process::Command::new("/usr/bin/redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .current_dir(dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server (apt-get install redis-server)");
            let exited = |child: &mut std::process::Child| child.try_wait().ok().flatten().is_some();
            eventually(Duration::from_secs(20), || exited(&mut child) || pong(port));
            if !exited(&mut child) && pong(port) {
                return Self { child, port, _dir: dir };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// Whether Redis answers `PING` on `port` (not just anything accepting connections).
fn pong(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a browser script with `args`; asserts it passed `checks` checks.
pub fn run_browser_script(script: &str, args: &[&std::ffi::OsStr], checks: usize) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium not found at {chromium}: install it with `apt-get install -y chromium` (scripts/test does)"
    );
    assert!(
        repo().join("tests/browser/node_modules/playwright-core").is_dir(),
        "playwright-core missing: run `npm ci` in tests/browser (scripts/test does)"
    );
    let out = Command::new("node")
        .arg(repo().join("tests/browser").join(script))
        .args(args)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "browser checks failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.matches("ok - ").count(), checks, "{stdout}");
}
