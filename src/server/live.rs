//! The live endpoint: `/_fymo/live`, one WebSocket per tab (`/_fymo/live/sse` is the
//! Server-Sent Events fallback, `/_fymo/live/call` its way to call actions), and
//! `POST /_fymo/live/publish` for outside processes.
//!
//! Client → server (JSON text frames):
//! - `{"t":"sub","page":"/chat","topics":{"chat:lobby":12},"sig":"…","csrf":"…"}`: follow
//!   the page's topics from the positions it was rendered at (the set replaces the
//!   previous one: navigation re-subscribes); `sig` is the page's signature of its
//!   topics, `csrf` the session's token (needed for calls).
//! - `{"t":"call","id":1,"action":"send","args":{…}}`: call the page's controller.
//! - `{"t":"hb"}`: a heartbeat.
//!
//! Server → client: `hello`, `ev` (`topic`, `seq`, and `patch` or `event` + `data`),
//! `stale` (`topic`, `seq`: refetch the props), `presence` (`topic`, `members`,
//! `count`), `reply` (`id`, `ok`, `result` or `error`), `hb`, `error`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Query, State};
use axum::http::{header, HeaderMap, Method, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::client::Client;
use super::respond::close_connection;
use super::{csrf, AppState, Loaded, RequestId};
use crate::controller::{Answer, RequestContext, Session};
use crate::live::{sign_topics, verify_topics, Hub, Live, Outbox, Payload, Subscription, TopicSig, TOPIC_SIG_TTL};

/// Most topics one connection follows.
const MAX_TOPICS: usize = 64;

/// A client's frame.
#[derive(Debug, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum ClientFrame {
    Sub {
        #[serde(default)]
        page: String,
        #[serde(default)]
        topics: BTreeMap<String, Option<u64>>,
        #[serde(default)]
        sig: String,
        #[serde(default)]
        csrf: String,
    },
    Call {
        id: Value,
        action: String,
        #[serde(default)]
        args: Value,
    },
    Hb,
}

fn refuse(status: StatusCode, message: &str) -> Response<Body> {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

/// What a connection knows of its visitor and page.
struct Visitor {
    loaded: Arc<Loaded>,
    headers: HeaderMap,
    session: Session,
    who: Option<String>,
    /// The page calls go to: its path and query.
    page: Option<String>,
    /// The session's token was shown: calls are allowed.
    trusted: bool,
    /// Calls in flight on this connection are bounded (a socket must not queue work for
    /// everyone else without end).
    calls: Arc<tokio::sync::Semaphore>,
    /// When this connection's topics were last signed for it (see [`sig_frame`]).
    signed: Option<Instant>,
}

/// Calls one connection may have in flight.
const CALLS_IN_FLIGHT: usize = 4;

impl Visitor {
    fn hub(&self) -> &Arc<Hub> {
        &self.loaded.site.options.live
    }

    /// A fresh signature of `topics` for this session, as a `sig` frame, when the last one
    /// is half way to running out (the page keeps it for its next subscription).
    fn renewal(&mut self, topics: &HashMap<String, ()>) -> Option<String> {
        let due = self.signed.is_some_and(|at| at.elapsed() >= TOPIC_SIG_TTL / 2);
        due.then(|| sig_frame(self, topics))
    }
}

/// `{"t":"sig","topics":[…],"sig":"…"}`: the connection's topics signed anew for its
/// session.
fn sig_frame(visitor: &mut Visitor, topics: &HashMap<String, ()>) -> String {
    let mut names: Vec<&str> = topics.keys().map(String::as_str).collect();
    names.sort_unstable();
    visitor.signed = Some(Instant::now());
    let sig = sign_topics(&visitor.loaded.site.options.secret, &visitor.session.id(), names.iter().copied());
    json!({ "t": "sig", "topics": names, "sig": sig }).to_string()
}

/// What handling a client frame answers.
enum FrameAnswer {
    /// A frame to send back; the connection goes on.
    Frame(String),
    /// The frame was refused: an `error` frame (the event stream answers 403 instead).
    Refused(String),
}

impl FrameAnswer {
    fn frame(self) -> String {
        match self {
            Self::Frame(f) | Self::Refused(f) => f,
        }
    }
}

/// `GET /_fymo/live`: the WebSocket.
pub(super) async fn socket(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    ws: WebSocketUpgrade,
    headers: HeaderMap,
) -> Response<Body> {
    let visitor = match admit_visitor(&state, &headers, client).await {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let admission = match visitor.hub().admit(client.ip) {
        Ok(a) => a,
        Err(refused) => return refuse(StatusCode::TOO_MANY_REQUESTS, &refused.to_string()),
    };
    // Small buffers: a thousand idle sockets must stay under 20 KiB each (clients send
    // small frames; a larger one grows the buffer for as long as it needs).
    ws.read_buffer_size(1024).write_buffer_size(0).max_message_size(64 * 1024).on_upgrade(move |socket| async move {
        let id = admission.id;
        run_socket(socket, visitor, id).await;
        drop(admission);
    })
}

/// The close code for a read that failed on the client's frame: 1009 for a message over
/// the limit, 1007 for text that is not UTF-8; `None` for a broken connection.
fn close_code_of(error: axum::Error) -> Option<(u16, &'static str)> {
    match error.into_inner().downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(_) => Some((1009, "message too big")),
        tungstenite::Error::Utf8(_) => Some((1007, "text frames must be UTF-8")),
        _ => None,
    }
}

/// Same origin only (a page of another site cannot open a socket with the visitor's
/// cookies), and the visitor's session.
async fn admit_visitor(state: &AppState, headers: &HeaderMap, client: Client) -> Result<Visitor, Box<Response<Body>>> {
    let Some(loaded) = state.current().as_ref().map(Arc::clone) else {
        return Err(Box::new(refuse(StatusCode::SERVICE_UNAVAILABLE, "no build is loaded yet")));
    };
    if let Err(e) = csrf::check_origin(headers, client.https) {
        return Err(Box::new(refuse(StatusCode::FORBIDDEN, &e.to_string())));
    }
    let session = match loaded.sessions.open(headers).await {
        Ok(opened) => opened.session,
        Err(e) => {
            tracing::error!(target: "fymo::session", error = %e, "session store failed");
            return Err(Box::new(refuse(StatusCode::SERVICE_UNAVAILABLE, "the session store is unavailable")));
        }
    };
    let who = session.get::<String>("user");
    Ok(Visitor {
        loaded,
        headers: headers.clone(),
        session,
        who,
        page: None,
        trusted: false,
        calls: Arc::new(tokio::sync::Semaphore::new(CALLS_IN_FLIGHT)),
        signed: None,
    })
}

async fn run_socket(mut socket: WebSocket, mut visitor: Visitor, conn: u64) {
    let hub = visitor.hub().clone();
    let heartbeat = hub.config().heartbeat;
    let outbox = Arc::new(Outbox::new(hub.config().queue_limit));
    let mut topics: HashMap<String, ()> = HashMap::new();
    let (replies, mut replied) = mpsc::unbounded_channel::<String>();
    let mut stopping = hub.stopping();
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut heard = Instant::now();
    let mut batch = Vec::new();
    let hello = json!({ "t": "hello", "conn": conn, "pid": std::process::id(), "hb": heartbeat.as_millis() as u64 })
        .to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            more = outbox.next_batch(&mut batch) => {
                if !more {
                    break;
                }
                // The whole batch in one write: frames are queued (their bytes shared
                // with every other subscriber, not copied per socket), then flushed.
                let mut failed = false;
                for item in batch.drain(..) {
                    if socket.feed(Message::Text(item.frame())).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed || socket.flush().await.is_err() {
                    break;
                }
            }
            Some(reply) = replied.recv() => {
                if socket.send(Message::Text(reply.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let answer = on_frame(&text, &mut visitor, conn, &outbox, &mut topics, &replies).await;
                        if let Some(answer) = answer {
                            if socket.send(Message::Text(answer.frame().into())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 1003, reason: "text frames only".into() }))).await;
                        break;
                    }
                    Some(Err(error)) => {
                        // A frame over the limit or text that is not UTF-8 gets its close
                        // code (RFC 6455 §7.4.1), not a dropped connection.
                        if let Some((code, reason)) = close_code_of(error) {
                            let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                        }
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {} // ping (answered by the library), pong
                }
            }
            _ = beat.tick() => {
                if heard.elapsed() > heartbeat * 3 {
                    tracing::debug!(target: "fymo::live", conn, "closing a silent live connection");
                    break;
                }
                // A ping (browsers and libraries answer it by themselves, which counts as
                // hearing from the client) and a frame the page's own watchdog sees.
                if socket.send(Message::Ping(bytes::Bytes::new())).await.is_err()
                    || socket.send(Message::Text(r#"{"t":"hb"}"#.into())).await.is_err()
                {
                    break;
                }
                if let Some(renewed) = visitor.renewal(&topics) {
                    if socket.send(Message::Text(renewed.into())).await.is_err() {
                        break;
                    }
                }
            }
            () = until_stopping(&mut stopping) => {
                // Going away: the client reconnects (to another worker) and resumes.
                let _ = socket.send(Message::Close(Some(CloseFrame { code: 1012, reason: "restarting".into() }))).await;
                break;
            }
        }
    }
    outbox.close();
    for topic in topics.keys() {
        hub.unsubscribe(conn, topic);
    }
}

/// Handles one client frame; returns a frame to send back, if any.
async fn on_frame(
    text: &str,
    visitor: &mut Visitor,
    conn: u64,
    outbox: &Arc<Outbox>,
    topics: &mut HashMap<String, ()>,
    replies: &mpsc::UnboundedSender<String>,
) -> Option<FrameAnswer> {
    let error = |message: &str| Some(FrameAnswer::Refused(json!({ "t": "error", "error": message }).to_string()));
    let Ok(frame) = serde_json::from_str::<ClientFrame>(text) else {
        return error("not a frame of the live protocol");
    };
    match frame {
        ClientFrame::Hb => None,
        ClientFrame::Sub { page, topics: wanted, sig, csrf } => {
            if wanted.len() > MAX_TOPICS {
                return error("too many topics");
            }
            if !wanted.is_empty() {
                let secret = &visitor.loaded.site.options.secret;
                match verify_topics(secret, &visitor.session.id(), wanted.keys().map(String::as_str), &sig) {
                    TopicSig::Valid => {}
                    TopicSig::Expired => {
                        let message = "the page's live signature ran out: refetch its props";
                        return Some(FrameAnswer::Refused(
                            json!({ "t": "error", "code": "expired", "error": message }).to_string(),
                        ));
                    }
                    TopicSig::Invalid => return error("these topics are not signed for this page (or this session)"),
                }
            }
            visitor.trusted = !csrf.is_empty()
                && csrf::check_token(&HeaderMap::new(), Some(&csrf), &visitor.session.csrf_token()).is_ok();
            visitor.page = Some(page).filter(|p| p.starts_with('/'));
            let hub = visitor.hub().clone();
            let gone: Vec<String> = topics.keys().filter(|t| !wanted.contains_key(*t)).cloned().collect();
            for topic in gone {
                hub.unsubscribe(conn, &topic);
                topics.remove(&topic);
            }
            for (topic, since) in wanted {
                if topics.contains_key(&topic) {
                    continue;
                }
                hub.subscribe(conn, &Subscription { topic: topic.clone(), since }, outbox, visitor.who.clone()).await;
                topics.insert(topic, ());
            }
            // A fresh signature for its next subscription (a reconnect hours later).
            (!topics.is_empty()).then(|| FrameAnswer::Frame(sig_frame(visitor, topics)))
        }
        ClientFrame::Call { id, action, args } => {
            let refuse_call = |error: &str| {
                Some(FrameAnswer::Frame(json!({ "t": "reply", "id": id, "ok": false, "error": error }).to_string()))
            };
            if !visitor.trusted {
                return refuse_call("calls need the page's CSRF token");
            }
            let Some(page) = visitor.page.clone() else {
                return refuse_call("no page subscribed");
            };
            let Ok(permit) = visitor.calls.clone().try_acquire_owned() else {
                return refuse_call("too many calls in flight");
            };
            let loaded = visitor.loaded.clone();
            let (headers, session) = (visitor.headers.clone(), visitor.session.clone());
            let replies = replies.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let reply = match call(&loaded, &page, &action, args, headers, session).await {
                    Ok(result) => json!({ "t": "reply", "id": id, "ok": true, "result": result }),
                    Err(error) => json!({ "t": "reply", "id": id, "ok": false, "error": error }),
                };
                let _ = replies.send(reply.to_string());
            });
            None
        }
    }
}

/// The error a live call answers with when its controller changed the session.
pub(crate) const SESSION_READ_ONLY: &str = "live calls see the session read-only: this action changed it, which a \
     call cannot save (no response carries a cookie back over the socket); change the session in a form POST or \
     a request the page makes with fetch";

/// Calls the controller of the page at `page` with `action` and `args` (as a POST with a
/// JSON body); its props are the result.
///
/// The session is read-only, on the socket and on the event stream's HTTP path alike (as
/// in Phoenix LiveView and Action Cable): the controller gets a copy of the session the
/// connection was opened with, and a call that changes it (values, flash, sign-in
/// rotation) answers with an error, its change dropped, instead of losing it silently.
async fn call(
    loaded: &Loaded,
    page: &str,
    action: &str,
    args: Value,
    headers: HeaderMap,
    session: Session,
) -> Result<Value, Value> {
    let site = &loaded.site;
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let (query, query_values) =
        crate::controller::fields(serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default());
    let matched = site.routes.find(path).ok_or_else(|| json!("no route for this page"))?;
    // As a form post would: the route must take POST, and its layouts' controllers (a
    // sign-in guard) must let the visitor through.
    if !matched.route.methods.contains(&Method::POST) {
        return Err(json!("this page takes no actions (its route does not accept POST)"));
    }
    let controller = site.controllers.get(&matched.route.name).ok_or_else(|| json!("this page has no controller"))?;
    let cookies = super::request::cookies_of(&headers);
    let csrf = session.csrf_token();
    let opened_with = session;
    let session = opened_with.detached();
    let context = RequestContext {
        method: Method::POST,
        path: path.to_owned(),
        params: matched.params,
        query,
        query_values,
        headers,
        cookies,
        json: Some(args),
        session: session.clone(),
        csrf,
        action: Some(action.to_owned()),
        live: Some(Live::new(site.options.live.clone())),
        ..RequestContext::default()
    };
    let request_id = super::access_log::new_request_id();
    for layout in &matched.route.layouts {
        let name = layout.replace('/', ".");
        let Some(guard) = site.controllers.get(&name) else { continue };
        let look = RequestContext { method: Method::GET, action: None, json: None, ..context.clone() };
        match guard.call(look).await.map(|o| o.into_parts().0) {
            Ok(Answer::Props(_)) => {}
            Ok(Answer::Status(status, _) | Answer::Json(status, _)) if status.is_success() => {}
            Ok(Answer::Redirect { location, .. } | Answer::Location(location)) => {
                return Err(json!({ "redirect": location }))
            }
            Ok(_) => return Err(json!("the page's layout refused the call")),
            Err(e) => {
                tracing::error!(target: "fymo::controller", request_id, error = %e, layout = %name, "live call: layout controller failed");
                return Err(json!(format!("the action failed (request id {request_id})")));
            }
        }
    }
    let called = controller.call(context).await;
    if called.is_ok() && session.differs_from(&opened_with) {
        tracing::error!(target: "fymo::controller", request_id, action, page, "{SESSION_READ_ONLY}");
        return Err(json!(SESSION_READ_ONLY));
    }
    match called {
        Ok(outcome) => match outcome.into_parts().0 {
            Answer::Props(props) => Ok(props),
            Answer::Status(status, props) if status.is_success() => Ok(props),
            Answer::Status(status, props) => Err(json!({ "status": status.as_u16(), "props": props })),
            Answer::Json(status, props) => match props.to_value() {
                Ok(props) if status.is_success() => Ok(props),
                Ok(props) => Err(json!({ "status": status.as_u16(), "props": props })),
                Err(e) => {
                    tracing::error!(target: "fymo::controller", request_id, error = %e, action, "live call: unreadable answer");
                    Err(json!(format!("the action failed (request id {request_id})")))
                }
            },
            Answer::Redirect { location, .. } | Answer::Location(location) => Ok(json!({ "redirect": location })),
            Answer::NotFound => Err(json!("not found")),
        },
        Err(e) => {
            tracing::error!(target: "fymo::controller", request_id, error = %e, action, "live call failed");
            Err(json!(format!("the action failed (request id {request_id})")))
        }
    }
}

/// Query of the event stream: what a `sub` frame carries.
#[derive(Debug, Deserialize)]
pub(super) struct SseQuery {
    /// The `sub` frame, as JSON.
    sub: String,
}

/// `GET /_fymo/live/sse?sub=…`: the Server-Sent Events fallback (receive only; calls go
/// to `POST /_fymo/live/call`). `Last-Event-ID` is `topic=seq,…` as the client saw them.
pub(super) async fn sse(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    Query(query): Query<SseQuery>,
    headers: HeaderMap,
) -> Response<Body> {
    let mut visitor = match admit_visitor(&state, &headers, client).await {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let hub = visitor.hub().clone();
    let admission = match hub.admit(client.ip) {
        Ok(a) => a,
        Err(refused) => return refuse(StatusCode::TOO_MANY_REQUESTS, &refused.to_string()),
    };
    let conn = admission.id;
    let outbox = Arc::new(Outbox::new(hub.config().queue_limit));
    let mut topics = HashMap::new();
    let (replies, _) = mpsc::unbounded_channel();
    let first = match on_frame(&query.sub, &mut visitor, conn, &outbox, &mut topics, &replies).await {
        Some(FrameAnswer::Refused(error)) => return refuse(StatusCode::FORBIDDEN, &error),
        Some(FrameAnswer::Frame(frame)) => Some(frame),
        None => None,
    };
    let heartbeat = hub.config().heartbeat;
    let mut stopping = hub.stopping();
    let stream = async_stream(move |tx: mpsc::Sender<Result<bytes::Bytes, std::io::Error>>| async move {
        let _admission = admission;
        let hello =
            json!({ "t": "hello", "conn": conn, "pid": std::process::id(), "hb": heartbeat.as_millis() as u64 })
                .to_string();
        if tx.send(Ok(event(&hello))).await.is_err() {
            return;
        }
        if let Some(frame) = first {
            if tx.send(Ok(event(&frame))).await.is_err() {
                return;
            }
        }
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                more = outbox.next_batch(&mut batch) => {
                    if !more { break; }
                    for item in batch.drain(..) {
                        if tx.send(Ok(event(&item.frame()))).await.is_err() {
                            outbox.close();
                        }
                    }
                }
                _ = beat.tick() => {
                    // A frame, not a comment: the page's watchdog only hears frames.
                    if tx.send(Ok(event(r#"{"t":"hb"}"#))).await.is_err() { break; }
                    if let Some(renewed) = visitor.renewal(&topics) {
                        if tx.send(Ok(event(&renewed))).await.is_err() { break; }
                    }
                }
                () = until_stopping(&mut stopping) => break,
                () = tx.closed() => break,
            }
        }
        outbox.close();
        for topic in topics.keys() {
            hub.unsubscribe(conn, topic);
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid event stream")
}

async fn until_stopping(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

fn event(frame: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!("data: {frame}\n\n"))
}

/// A stream fed by `produce` through a small channel.
fn async_stream<F, Fut>(produce: F) -> tokio_stream::wrappers::ReceiverStream<Result<bytes::Bytes, std::io::Error>>
where
    F: FnOnce(mpsc::Sender<Result<bytes::Bytes, std::io::Error>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(produce(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Body of `POST /_fymo/live/call`.
#[derive(Debug, Deserialize)]
pub(super) struct CallBody {
    page: String,
    action: String,
    #[serde(default)]
    args: Value,
}

/// `POST /_fymo/live/call` (with `X-CSRF-Token`): a call for clients on the event stream.
pub(super) async fn call_over_http(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    request: Request<Body>,
) -> Response<Body> {
    let headers = request.headers().clone();
    // Refused before its body is read (to its end): the connection closes after the answer.
    let unread = |mut response: Response<Body>| {
        close_connection(&mut response);
        response
    };
    let visitor = match admit_visitor(&state, &headers, client).await {
        Ok(v) => v,
        Err(response) => return unread(*response),
    };
    if let Err(e) = csrf::check_token(&headers, None, &visitor.session.csrf_token()) {
        return unread(refuse(StatusCode::FORBIDDEN, &e.to_string()));
    }
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), 64 * 1024).await else {
        return unread(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the call is too large"));
    };
    let Ok(body) = serde_json::from_slice::<CallBody>(&bytes) else {
        return refuse(StatusCode::BAD_REQUEST, "expected {page, action, args}");
    };
    let reply = match call(&visitor.loaded, &body.page, &body.action, body.args, headers, visitor.session.clone()).await
    {
        Ok(result) => json!({ "ok": true, "result": result }),
        Err(error) => json!({ "ok": false, "error": error }),
    };
    axum::Json(reply).into_response()
}

/// Whether the request carries `Authorization: Bearer <secret>`.
pub(super) fn bearer_is_secret(headers: &HeaderMap, secret: &str) -> bool {
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    sent.is_some_and(|s| csrf::same_secret(s, secret))
}

/// Body of `POST /_fymo/live/publish`.
#[derive(Debug, Deserialize)]
pub(super) struct PublishBody {
    topic: String,
    patch: Option<Value>,
    event: Option<String>,
    #[serde(default)]
    data: Value,
}

/// `POST /_fymo/live/publish` with `Authorization: Bearer <app secret>`: publishing from
/// outside processes (cron jobs, other services). The credential is checked before the
/// body is read: a client without it learns nothing but 401.
pub(super) async fn publish(
    State(state): State<AppState>,
    Extension(RequestId(_)): Extension<RequestId>,
    request: Request<Body>,
) -> Response<Body> {
    let Some(loaded) = state.current().as_ref().map(Arc::clone) else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "no build is loaded yet");
    };
    if !bearer_is_secret(request.headers(), &loaded.site.options.secret) {
        let mut response = refuse(StatusCode::UNAUTHORIZED, "publishing needs `Authorization: Bearer <app secret>`");
        close_connection(&mut response); // the body stays unread
        return response;
    }
    let body = match axum::Json::<PublishBody>::from_request(request, &()).await {
        Ok(axum::Json(body)) => body,
        Err(rejection) => return rejection.into_response(),
    };
    let payload = match (body.patch, body.event) {
        (Some(patch), None) => Payload::Patch(patch),
        (None, Some(name)) => Payload::Event { name, data: body.data },
        _ => return refuse(StatusCode::BAD_REQUEST, "send either `patch` or `event` (with `data`)"),
    };
    match Live::new(loaded.site.options.live.clone()).publish(&body.topic, payload) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Frames from the protocol's own words, mixed: each is one of the frames or
        /// refused, and a signature that was not made here never verifies.
        #[test]
        fn any_client_frame_parses_or_is_refused(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("{\"t\":\"sub\"".to_owned()),
                proptest::strategy::Just("{\"t\":\"call\",\"id\":1".to_owned()),
                proptest::strategy::Just(",\"topics\":{\"a\":1}".to_owned()),
                proptest::strategy::Just(",\"sig\":\"1.ab\"".to_owned()),
                proptest::strategy::Just("}".to_owned()),
                proptest::string::string_regex("[ -~]{0,12}").unwrap(),
            ], 0..8),
        ) {
            let text = parts.concat();
            if let Ok(ClientFrame::Sub { topics, sig, .. }) = serde_json::from_str::<ClientFrame>(&text) {
                let check = verify_topics("secret", "session", topics.keys().map(String::as_str), &sig);
                proptest::prop_assert_eq!(check, TopicSig::Invalid);
            }
        }
    }
}
