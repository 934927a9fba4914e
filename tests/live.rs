//! Live pages over the wire: the `/_fymo/live` protocol (subscribe from a rendered
//! position, patches and events from Rust and Python controllers, calls), its refusals
//! and limits, and fan-out across prefork workers and across servers sharing Redis.
//! Every wait is on an event, with a generous timeout.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::visitor::{csrf_of, Visitor};
use common::{eventually, get, get_with, signal, try_get, Redis, Server, TestApp, DEMO, TEST_SECRET};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A live socket read on a task of its own, as a browser reads one: the client answers
/// the server's pings while the test is busy elsewhere (starting a server, say), where a
/// socket nobody read for three heartbeats would be closed as silent.
struct Socket {
    sink: futures_util::stream::SplitSink<Ws, Message>,
    frames: tokio::sync::mpsc::UnboundedReceiver<Result<Message, tungstenite::Error>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Socket {
    fn new(ws: Ws) -> Self {
        let (sink, mut stream) = ws.split();
        let (tx, frames) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                if tx.send(frame).is_err() {
                    break;
                }
            }
        });
        Self { sink, frames, reader }
    }

    /// The next frame, `None` once the connection ended.
    async fn next(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        self.frames.recv().await
    }

    async fn send(&mut self, message: Message) -> Result<(), tungstenite::Error> {
        self.sink.send(message).await
    }
}

impl Drop for Socket {
    /// Closes the connection: the reading task holds the other half of it.
    fn drop(&mut self) {
        self.reader.abort();
    }
}

const WAIT: Duration = Duration::from_secs(20);

fn built_demo() -> TestApp {
    let app = TestApp::demo();
    app.build();
    app
}

fn serve(app: &TestApp, extra: &[&str]) -> Server {
    let mut args = vec!["--engines", "1", "--python-workers", "1"];
    args.extend_from_slice(extra);
    Server::start(DEMO, app, &args)
}

/// A rendered page as a visitor got it: its props and the visitor's cookie.
struct Page {
    path: String,
    props: Value,
    cookie: String,
}

impl Page {
    fn live(&self) -> &Value {
        &self.props["fymo"]["live"]
    }

    fn position(&self, topic: &str) -> u64 {
        self.live()["topics"][topic].as_u64().expect("the page carries the topic's position")
    }

    /// The `sub` frame its client sends.
    fn sub(&self) -> Value {
        json!({
            "t": "sub", "page": self.path, "topics": self.live()["topics"],
            "sig": self.live()["sig"], "csrf": self.props["fymo"]["csrf"],
        })
    }
}

/// GETs `path` as JSON (the page object), keeping the visitor's cookie.
fn open_page(server: &Server, path: &str, cookie: Option<&str>) -> Page {
    let mut headers = vec![("accept", "application/json")];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    let reply = get_with(&server.url(path), &headers);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data: Value = serde_json::from_str(&reply.body).unwrap();
    let set: Vec<String> = (reply.headers.iter())
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, c)| c.split(';').next().unwrap().to_owned())
        .collect();
    let cookie = if set.is_empty() { cookie.unwrap_or_default().to_owned() } else { set.join("; ") };
    Page { path: path.to_owned(), props: data["props"].clone(), cookie }
}

async fn connect_as(server: &Server, cookie: &str, origin: &str) -> Result<Socket, u16> {
    let url = server.base.replace("http://", "ws://") + "/_fymo/live";
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    if !cookie.is_empty() {
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(Socket::new(socket)),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("connecting: {e}"),
    }
}

/// Opens a socket for `page` and subscribes it; returns the socket and its `hello`.
async fn subscribe(server: &Server, page: &Page) -> (Socket, Value) {
    let origin = server.base.clone();
    let mut socket = connect_as(server, &page.cookie, &origin).await.expect("the socket opens");
    let hello = next(&mut socket, |f| f["t"] == "hello").await;
    send(&mut socket, &page.sub()).await;
    (socket, hello)
}

async fn send(socket: &mut Socket, frame: &Value) {
    socket.send(Message::Text(frame.to_string().into())).await.expect("sending a frame");
}

/// The next frame `wanted` picks, skipping others (heartbeats, presence); panics after
/// [`WAIT`].
async fn next(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Value {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if wanted(&frame) {
                        return frame;
                    }
                }
                Some(Ok(Message::Close(frame))) => panic!("closed by the server: {frame:?}"),
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(WAIT, read).await.expect("a frame in time")
}

/// The next `ev` or `stale` frame.
async fn next_event(socket: &mut Socket) -> Value {
    next(socket, |f| f["t"] == "ev" || f["t"] == "stale").await
}

/// POST /_fymo/live/publish, as an outside process does.
fn publish(server: &Server, body: &Value) {
    let reply = ureq::post(&server.url("/_fymo/live/publish"))
        .set("authorization", &format!("Bearer {TEST_SECRET}"))
        .send_json(body.clone())
        .expect("publishing");
    assert_eq!(reply.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_action_publishes_a_patch_and_an_event_that_every_page_gets_once() {
    let app = built_demo();
    let server = serve(&app, &[]);
    let a = open_page(&server, "/pulse", None);
    let b = open_page(&server, "/pulse", None);
    let caller = open_page(&server, "/pulse", None);
    assert_eq!(a.position("pulse"), 0);
    let (mut sa, _) = subscribe(&server, &a).await;
    let (mut sb, _) = subscribe(&server, &b).await;
    let (mut sc, _) = subscribe(&server, &caller).await;
    // All are subscribed once the first sees the third arrive.
    next(&mut sa, |f| f["t"] == "presence" && f["count"] == 3).await;
    send(&mut sc, &json!({ "t": "call", "id": 7, "action": "bump", "args": { "by": 2 } })).await;
    let reply = next(&mut sc, |f| f["t"] == "reply").await;
    assert_eq!(reply, json!({ "t": "reply", "id": 7, "ok": true, "result": { "count": 2 } }));
    for socket in [&mut sa, &mut sb] {
        let patch = next_event(socket).await;
        assert_eq!(patch, json!({ "t": "ev", "topic": "pulse", "seq": 1, "patch": { "count": 2 } }));
        let event = next_event(socket).await;
        assert_eq!(event, json!({ "t": "ev", "topic": "pulse", "seq": 2, "event": "ping", "data": { "count": 2 } }));
    }
    // Nothing twice: the next thing each gets is the next publish.
    publish(&server, &json!({ "topic": "pulse", "patch": { "label": "x" } }));
    for socket in [&mut sa, &mut sb] {
        assert_eq!(next_event(socket).await["seq"], 3);
    }
    // A page rendered now carries the new position.
    assert_eq!(open_page(&server, "/pulse", None).position("pulse"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_resumes_from_its_rendered_position_and_refetches_once_the_buffer_has_moved_on() {
    let app = built_demo();
    let server = serve(&app, &["--live-buffer", "3"]);
    let page = open_page(&server, "/pulse", None);
    let rendered = page.position("pulse");
    // Published after the render, before the socket opened.
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 10 } }));
    publish(&server, &json!({ "topic": "pulse", "event": "ping", "data": 1 }));
    let (mut socket, _) = subscribe(&server, &page).await;
    assert_eq!(
        next_event(&mut socket).await,
        json!({ "t": "ev", "topic": "pulse", "seq": rendered + 1, "patch": { "count": 10 } })
    );
    assert_eq!(next_event(&mut socket).await["seq"], rendered + 2);
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 11 } }));
    assert_eq!(next_event(&mut socket).await["seq"], rendered + 3, "each message once, in order");

    // Reconnecting from its last position replays nothing it has.
    drop(socket);
    let mut resumed = page.sub();
    resumed["topics"]["pulse"] = json!(rendered + 3);
    let origin = server.base.clone();
    let mut socket = connect_as(&server, &page.cookie, &origin).await.unwrap();
    send(&mut socket, &resumed).await;
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 12 } }));
    assert_eq!(next_event(&mut socket).await["seq"], rendered + 4);

    // A page rendered before more than the buffer holds gets a stale notice: it refetches
    // its props (never the whole page) and continues from the head.
    for n in 0..5 {
        publish(&server, &json!({ "topic": "pulse", "patch": { "count": n } }));
    }
    assert!(eventually(WAIT, || open_page(&server, "/pulse", None).position("pulse") == rendered + 9));
    let (mut late, _) = subscribe(&server, &page).await;
    assert_eq!(next_event(&mut late).await, json!({ "t": "stale", "topic": "pulse", "seq": rendered + 9 }));
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 99 } }));
    assert_eq!(next_event(&mut late).await["seq"], rendered + 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_action_publishes_to_every_page_and_reports_its_errors() {
    let app = built_demo();
    let server = serve(&app, &[]);
    let sender = open_page(&server, "/chat", None);
    let reader = open_page(&server, "/chat", None);
    let (mut ss, _) = subscribe(&server, &sender).await;
    let (mut sr, _) = subscribe(&server, &reader).await;
    next(&mut ss, |f| f["t"] == "presence" && f["count"] == 2).await;
    send(&mut ss, &json!({ "t": "call", "id": 1, "action": "send", "args": { "text": "hi there" } })).await;
    assert_eq!(next(&mut ss, |f| f["t"] == "reply").await["ok"], true);
    let message = next_event(&mut sr).await;
    assert_eq!((message["event"].as_str(), message["data"]["text"].as_str()), (Some("message"), Some("hi there")));
    assert_eq!(message["data"]["from"], "anonymous");
    assert_eq!(next_event(&mut sr).await["patch"]["last"]["from"], "anonymous");
    send(&mut ss, &json!({ "t": "call", "id": 2, "action": "send", "args": { "text": "  " } })).await;
    let reply = next(&mut ss, |f| f["t"] == "reply").await;
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"], json!({ "status": 422, "props": { "error": "Say something." } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_signature_works_only_in_its_session_and_until_it_runs_out() {
    let app = built_demo();
    let server = serve(&app, &[]);
    let mine = open_page(&server, "/pulse", None);
    let theirs = open_page(&server, "/pulse", None);
    assert_ne!(mine.cookie, theirs.cookie, "two sessions");
    // A subscription is answered with a fresh signature for the next one.
    let (mut socket, _) = subscribe(&server, &mine).await;
    let renewed = next(&mut socket, |f| f["t"] == "sig").await;
    assert_eq!(renewed["topics"], json!(["pulse"]));
    let sig = renewed["sig"].as_str().unwrap().to_owned();
    let expires: u64 = sig.split('.').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expires > now && expires <= now + 6 * 3600 + 60, "{sig}");
    let mut again = mine.sub();
    again["sig"] = json!(sig);
    send(&mut socket, &again).await;
    next(&mut socket, |f| f["t"] == "sig").await;

    // Another session's page signature opens nothing here.
    let origin = server.base.clone();
    let mut other = connect_as(&server, &mine.cookie, &origin).await.unwrap();
    let mut borrowed = mine.sub();
    borrowed["sig"] = theirs.live()["sig"].clone();
    send(&mut other, &borrowed).await;
    let refused = next(&mut other, |f| f["t"] == "error").await;
    assert_eq!(refused["error"], "these topics are not signed for this page (or this session)");
    // Nor does a signature whose time was moved on.
    let (time, mac) = sig.split_once('.').unwrap();
    let mut extended = mine.sub();
    extended["sig"] = json!(format!("{}.{mac}", time.parse::<u64>().unwrap() + 3600));
    send(&mut other, &extended).await;
    assert_eq!(next(&mut other, |f| f["t"] == "error").await["error"], refused["error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_forged_topics_tokenless_calls_and_extra_connections_are_refused() {
    let app = built_demo();
    let server = serve(&app, &["--live-max-per-ip", "2"]);
    let page = open_page(&server, "/pulse", None);
    assert_eq!(connect_as(&server, &page.cookie, "http://evil.test").await.err(), Some(403));

    let (mut socket, _) = subscribe(&server, &page).await;
    let mut forged = page.sub();
    forged["topics"] = json!({ "user:1": 0 });
    send(&mut socket, &forged).await;
    assert_eq!(
        next(&mut socket, |f| f["t"] == "error").await["error"],
        "these topics are not signed for this page (or this session)"
    );

    let mut tokenless = page.sub();
    tokenless["csrf"] = json!("");
    send(&mut socket, &tokenless).await;
    send(&mut socket, &json!({ "t": "call", "id": 3, "action": "bump" })).await;
    let reply = next(&mut socket, |f| f["t"] == "reply").await;
    assert_eq!(
        (reply["ok"].as_bool(), reply["error"].as_str()),
        (Some(false), Some("calls need the page's CSRF token"))
    );

    let origin = server.base.clone();
    let _second = connect_as(&server, &page.cookie, &origin).await.expect("the second is within the cap");
    assert_eq!(connect_as(&server, &page.cookie, &origin).await.err(), Some(429), "the third is over it");
    drop(socket);
    // Its slot is given back once the server sees it gone.
    let mut admitted = None;
    for _ in 0..200 {
        if let Ok(s) = connect_as(&server, &page.cookie, &origin).await {
            admitted = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(admitted.is_some(), "a closed connection frees its slot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_live_clients_to_reconnect() {
    let app = built_demo();
    let server = serve(&app, &[]);
    let page = open_page(&server, "/pulse", None);
    let (mut socket, _) = subscribe(&server, &page).await;
    next(&mut socket, |f| f["t"] == "presence").await;
    signal(server.pid(), "TERM");
    let close = tokio::time::timeout(WAIT, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("closed in time");
    assert_eq!(close, Some(1012), "service restart: the client reconnects elsewhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefork_workers_relay_every_publish_to_every_worker_once() {
    let app = built_demo();
    let server = serve(&app, &["--workers", "2"]);
    // Both workers booted, so the kernel can hand connections to either.
    server.wait_for_log("worker ready");
    server.wait_for_log("worker ready");
    // Sockets until both workers hold some (the kernel picks the worker per connection).
    let page = open_page(&server, "/pulse", None);
    let mut sockets = Vec::new();
    let mut pids = BTreeSet::new();
    for _ in 0..40 {
        let (socket, hello) = subscribe(&server, &page).await;
        pids.insert(hello["pid"].as_u64().unwrap());
        sockets.push(socket);
        if pids.len() == 2 && sockets.len() >= 4 {
            break;
        }
    }
    assert_eq!(pids.len(), 2, "both workers hold sockets");
    let start = page.position("pulse");
    for n in 1..=5 {
        publish(&server, &json!({ "topic": "pulse", "patch": { "count": n } }));
        // lands on either worker
    }
    for socket in &mut sockets {
        let seqs: Vec<u64> = {
            let mut seqs = Vec::new();
            for _ in 0..5 {
                seqs.push(next_event(socket).await["seq"].as_u64().unwrap());
            }
            seqs
        };
        assert_eq!(seqs, (start + 1..=start + 5).collect::<Vec<_>>(), "every publish, once, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_sharing_redis_see_each_others_publishes_at_the_same_positions() {
    let redis = Redis::start();
    let app = built_demo();
    let url = redis.url();
    let one = serve(&app, &["--broker", &url]);
    let two = serve(&app, &["--broker", &url, "--workers", "2"]);
    assert!(eventually(WAIT, || try_get(&two.url("/_fymo/health")).is_some_and(|r| r.status == 200)));
    let a = open_page(&one, "/pulse", None);
    let b = open_page(&two, "/pulse", None);
    assert_eq!(a.position("pulse"), b.position("pulse"));
    let (mut sa, _) = subscribe(&one, &a).await;
    let (mut sb, _) = subscribe(&two, &b).await;
    publish(&two, &json!({ "topic": "pulse", "patch": { "count": 1 } }));
    publish(&one, &json!({ "topic": "pulse", "event": "ping", "data": 2 }));
    for socket in [&mut sa, &mut sb] {
        assert_eq!(next_event(socket).await["seq"], a.position("pulse") + 1);
        assert_eq!(next_event(socket).await["seq"], a.position("pulse") + 2);
    }
    // A page rendered on one host resumes on the other.
    let rendered = open_page(&one, "/pulse", None);
    assert_eq!(rendered.position("pulse"), a.position("pulse") + 2);
    publish(&one, &json!({ "topic": "pulse", "patch": { "count": 3 } }));
    let (mut elsewhere, _) = subscribe(&two, &rendered).await;
    assert_eq!(
        next_event(&mut elsewhere).await,
        json!({ "t": "ev", "topic": "pulse", "seq": a.position("pulse") + 3, "patch": { "count": 3 } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_server_shares_topics_through_the_named_broker() {
    let redis = Redis::start();
    let app = built_demo();
    let url = redis.url();
    let dev = Server::start_command(DEMO, &app, "dev", &["--engines", "1", "--python-workers", "1", "--broker", &url]);
    let served = serve(&app, &["--broker", &url]);
    let page = open_page(&dev, "/pulse", None);
    let (mut socket, _) = subscribe(&dev, &page).await;
    publish(&served, &json!({ "topic": "pulse", "patch": { "count": 7 } }));
    assert_eq!(
        next_event(&mut socket).await,
        json!({ "t": "ev", "topic": "pulse", "seq": page.position("pulse") + 1, "patch": { "count": 7 } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_quiet_connection_open() {
    let app = built_demo();
    let server = serve(&app, &["--live-heartbeat-secs", "1"]);
    let page = open_page(&server, "/pulse", None);
    let (mut socket, hello) = subscribe(&server, &page).await;
    assert_eq!(hello["hb"], 1000);
    // The client sends nothing; it only answers pings (as browsers do). Past three
    // heartbeat periods of client silence the server would have closed it.
    for _ in 0..5 {
        next(&mut socket, |f| f["t"] == "hb").await;
    }
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 1 } }));
    assert_eq!(next_event(&mut socket).await["seq"], page.position("pulse") + 1);
}

/// Signs `name` in on `server` (the demo's /login); returns the session cookie.
fn sign_in(server: &Server, name: &str) -> String {
    let mut visitor = Visitor::new(&server.base);
    let token = csrf_of(&visitor.get("/login").body);
    let signed_in = visitor.post_form("/login", &[("username", name), ("password", "demo"), ("_csrf", &token)]);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    visitor.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// Waits on `socket` for a presence frame of `topic` with `count` subscribers.
async fn presence(socket: &mut Socket, topic: &str, count: usize) -> Value {
    next(socket, |f| f["t"] == "presence" && f["topic"] == topic && f["count"] == count).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_counts_every_prefork_workers_subscribers() {
    let app = built_demo();
    let server = serve(&app, &["--workers", "2", "--live-heartbeat-secs", "1"]);
    // Both workers booted, so the kernel can hand connections to either.
    server.wait_for_log("worker ready");
    server.wait_for_log("worker ready");
    let ada = open_page(&server, "/chat", Some(&sign_in(&server, "ada")));
    let anonymous = open_page(&server, "/chat", None);
    let mut sockets = Vec::new();
    let mut pids = BTreeSet::new();
    for n in 0..40 {
        let (socket, hello) = subscribe(&server, if n == 0 { &ada } else { &anonymous }).await;
        pids.insert(hello["pid"].as_u64().unwrap());
        sockets.push(socket);
        if pids.len() == 2 && sockets.len() >= 3 {
            break;
        }
    }
    assert_eq!(pids.len(), 2, "both workers hold sockets");
    let total = sockets.len();
    for socket in &mut sockets {
        let frame = presence(socket, "chat:lobby", total).await;
        assert_eq!(frame["members"], json!(["ada"]), "signed-in names, from whichever worker holds them");
    }
    // One leaves (ada's, on one worker): every socket, on both workers, sees it.
    drop(sockets.remove(0));
    for socket in &mut sockets {
        let frame = presence(socket, "chat:lobby", total - 1).await;
        assert_eq!(frame["members"], json!([]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_counts_the_subscribers_of_every_server_sharing_redis() {
    let redis = Redis::start();
    let app = built_demo();
    let url = redis.url();
    let one = serve(&app, &["--broker", &url, "--live-heartbeat-secs", "1"]);
    let ada = open_page(&one, "/chat", Some(&sign_in(&one, "ada")));
    let (mut sa, _) = subscribe(&one, &ada).await;
    presence(&mut sa, "chat:lobby", 1).await;
    // A server that starts later learns who is already there.
    let two = serve(&app, &["--broker", &url, "--live-heartbeat-secs", "1"]);
    let bob = open_page(&two, "/chat", Some(&sign_in(&two, "bob")));
    let (mut sb, _) = subscribe(&two, &bob).await;
    for socket in [&mut sa, &mut sb] {
        assert_eq!(presence(socket, "chat:lobby", 2).await["members"], json!(["ada", "bob"]));
    }
    // A host that dies without a word is forgotten after three heartbeats.
    drop(two);
    assert_eq!(presence(&mut sa, "chat:lobby", 1).await["members"], json!(["ada"]));
}

/// An open `/_fymo/live/sse` stream, read line by line.
struct EventSource(std::io::BufReader<Box<dyn std::io::Read + Send + Sync>>);

impl EventSource {
    /// Opens the stream for `page` (its `sub` frame in the query), or the refusal's status.
    fn open(server: &Server, page: &Page, sub: &Value) -> Result<Self, u16> {
        let agent = ureq::AgentBuilder::new().timeout_read(WAIT).build();
        let reply = agent
            .get(&server.url("/_fymo/live/sse"))
            .query("sub", &sub.to_string())
            .set("cookie", &page.cookie)
            .set("accept", "text/event-stream")
            .call();
        match reply {
            Ok(r) => {
                assert_eq!(r.content_type(), "text/event-stream");
                Ok(Self(std::io::BufReader::new(r.into_reader())))
            }
            Err(ureq::Error::Status(status, _)) => Err(status),
            Err(e) => panic!("opening the event stream: {e}"),
        }
    }

    /// The next event `wanted` picks (others are skipped).
    fn next(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        use std::io::BufRead;
        loop {
            let mut line = String::new();
            assert!(self.0.read_line(&mut line).expect("reading the event stream") > 0, "the stream ended");
            if let Some(data) = line.strip_prefix("data: ") {
                let frame: Value = serde_json::from_str(data.trim_end()).unwrap();
                if wanted(&frame) {
                    return frame;
                }
            }
        }
    }
}

/// POST /_fymo/live/call as the client on the event stream does.
fn call_over_http(server: &Server, page: &Page, token: &str, action: &str, args: &Value) -> (u16, String) {
    let reply = ureq::post(&server.url("/_fymo/live/call"))
        .set("cookie", &page.cookie)
        .set("x-csrf-token", token)
        .send_json(json!({ "page": page.path, "action": action, "args": args }));
    match reply {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(status, r)) => (status, r.into_string().unwrap()),
        Err(e) => panic!("calling: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_fallback_replays_delivers_and_calls_like_the_socket() {
    let app = built_demo();
    let server = serve(&app, &["--live-heartbeat-secs", "1"]);
    let page = open_page(&server, "/pulse", None);
    let rendered = page.position("pulse");
    publish(&server, &json!({ "topic": "pulse", "patch": { "count": 40 } })); // before it connects

    let mut stream = EventSource::open(&server, &page, &page.sub()).expect("the stream opens");
    let hello = stream.next(|f| f["t"] == "hello");
    assert_eq!(hello["hb"], 1000);
    let ev = |f: &Value| f["t"] == "ev" || f["t"] == "stale";
    assert_eq!(stream.next(ev), json!({ "t": "ev", "topic": "pulse", "seq": rendered + 1, "patch": { "count": 40 } }));
    stream.next(|f| f["t"] == "presence" && f["count"] == 1);

    // Calls go over HTTP, with the page's token; what they publish comes down the stream.
    let token = page.props["fymo"]["csrf"].as_str().unwrap().to_owned();
    let (status, body) = call_over_http(&server, &page, &token, "bump", &json!({ "by": 2 }));
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({ "ok": true, "result": { "count": 2 } }))
    );
    assert_eq!(stream.next(ev), json!({ "t": "ev", "topic": "pulse", "seq": rendered + 2, "patch": { "count": 2 } }));
    assert_eq!(stream.next(ev)["event"], "ping");
    assert_eq!(call_over_http(&server, &page, "forged", "bump", &json!({})).0, 403, "calls need the token");
    // Refused before the body is read: the connection closes, and the answer says so.
    for (token, args, status) in
        [("forged", json!({}), 403), (token.as_str(), json!({ "pad": "x".repeat(70_000) }), 413)]
    {
        let reply = ureq::post(&server.url("/_fymo/live/call"))
            .set("cookie", &page.cookie)
            .set("x-csrf-token", token)
            .send_json(json!({ "page": page.path, "action": "bump", "args": args }));
        let Err(ureq::Error::Status(got, reply)) = reply else { panic!("expected {status}") };
        assert_eq!((got, reply.header("connection")), (status, Some("close")));
    }

    // Quiet, it stays open (heartbeat frames keep proxies and the page's watchdog from
    // closing it) and delivers.
    for _ in 0..2 {
        stream.next(|f| f["t"] == "hb");
    }
    publish(&server, &json!({ "topic": "pulse", "event": "ping", "data": 3 }));
    assert_eq!(stream.next(ev)["seq"], rendered + 4);

    // Forged topics are refused as on the socket.
    let mut forged = page.sub();
    forged["topics"] = json!({ "user:1": 0 });
    assert_eq!(EventSource::open(&server, &page, &forged).err(), Some(403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_calls_see_the_session_read_only_and_a_change_is_an_error_not_lost_silently() {
    let app = built_demo();
    // Two actions on the chat room: one changes the session, one reads it.
    let room = std::fs::read_to_string(app.root().join("controllers/chat/room.py")).unwrap();
    app.write(
        "controllers/chat/room.py",
        &room.replacen(
            "def action(request):\n",
            "def action(request):\n    if request.get(\"action\") == \"nick\":\n        \
             request[\"session\"][\"nick\"] = request[\"json\"][\"nick\"]\n        return {}\n    \
             if request.get(\"action\") == \"whoami\":\n        \
             return {\"user\": request[\"session\"].get(\"user\"), \"nick\": request[\"session\"].get(\"nick\")}\n",
            1,
        ),
    );
    let server = serve(&app, &[]);
    let page = open_page(&server, "/chat", Some(&sign_in(&server, "ada")));
    let (mut socket, _) = subscribe(&server, &page).await;

    send(&mut socket, &json!({ "t": "call", "id": 1, "action": "nick", "args": { "nick": "ace" } })).await;
    let reply = next(&mut socket, |f| f["t"] == "reply").await;
    assert_eq!(reply["ok"], false);
    assert!(reply["error"].as_str().unwrap().starts_with("live calls see the session read-only"), "{reply}");
    // Reading works, and the change reached neither the next call nor the cookie.
    send(&mut socket, &json!({ "t": "call", "id": 2, "action": "whoami" })).await;
    let reply = next(&mut socket, |f| f["t"] == "reply").await;
    assert_eq!(reply["result"], json!({ "user": "ada", "nick": null }));

    // The event stream's HTTP path behaves the same (no Set-Cookie either), so code does
    // not depend on the transport.
    let token = page.props["fymo"]["csrf"].as_str().unwrap().to_owned();
    let reply = ureq::post(&server.url("/_fymo/live/call"))
        .set("cookie", &page.cookie)
        .set("x-csrf-token", &token)
        .send_json(json!({ "page": "/chat", "action": "nick", "args": { "nick": "ace" } }))
        .unwrap();
    assert!(reply.header("set-cookie").is_none());
    let body: Value = reply.into_json().unwrap();
    assert_eq!(body["ok"], false);
    assert!(body["error"].as_str().unwrap().starts_with("live calls see the session read-only"), "{body}");
    let (_, body) = call_over_http(&server, &page, &token, "whoami", &json!({}));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["result"], json!({ "user": "ada", "nick": null }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_through_the_route_and_its_layouts_as_a_form_post_would() {
    let app = built_demo();
    // A layout guard over the chat room: only a signed-in visitor gets through.
    app.write(
        "controllers/chat/_layout.py",
        "from fymo import redirect\n\n\ndef get_context(request):\n    if not request[\"session\"].get(\"user\"):\n        return redirect(\"/login\", status=302)\n    return {}\n",
    );
    app.write(
        "templates/chat/_layout.svelte",
        "<script>\n\tlet { children } = $props();\n</script>\n\n{@render children()}\n",
    );
    app.build();
    let server = serve(&app, &[]);
    let signed_in = open_page(&server, "/chat", Some(&sign_in(&server, "ada")));
    let token = signed_in.props["fymo"]["csrf"].as_str().unwrap().to_owned();
    // Through the guard: the room's action answers (422, nothing to send).
    let (_, body) = call_over_http(&server, &signed_in, &token, "send", &json!({}));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["status"], 422, "{body}");

    // Another page of the same session: a GET-only route takes no actions.
    let account = Page { path: "/account".into(), ..signed_in };
    let (_, body) = call_over_http(&server, &account, &token, "anything", &json!({}));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("does not accept POST"), "{v}");

    // A visitor the layout would send to sign in cannot call the room's action either.
    let anonymous = get(&server.url("/login"));
    let cookie = anonymous.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let token = csrf_of(&anonymous.body);
    let stranger = Page { path: "/chat".into(), props: Value::Null, cookie };
    let (_, body) = call_over_http(&server, &stranger, &token, "send", &json!({}));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["redirect"], "/login", "{v}");
}
