//! [`DevHub`]: the dev server's live state seen by browsers: the current error, if any,
//! and a stream of events (reload, CSS update, error) over Server-Sent Events.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

/// An error shown in the overlay and the terminal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DevError {
    /// `compile`, `routes`, `controller`, `render`.
    pub kind: String,
    /// What went wrong.
    pub message: String,
    /// Where, relative to the app root.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
    /// Code frame around the place.
    pub frame: Option<String>,
    /// JavaScript stack or Python traceback.
    pub stack: Option<String>,
}

impl DevError {
    /// `file:line:column` (as much of it as is known), or empty.
    pub fn place(&self) -> String {
        match (&self.file, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(f), Some(l), None) => format!("{f}:{l}"),
            (Some(f), _, _) => f.clone(),
            _ => String::new(),
        }
    }

    /// An error with only a kind and a message.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
            frame: None,
            stack: None,
        }
    }
}

/// What the dev client is told.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DevEvent {
    /// Sent on connect: the build the page should be running.
    Hello {
        /// Build version.
        version: String,
        /// The current error, if the app is broken.
        error: Option<DevError>,
    },
    /// A rebuild succeeded: reload the page.
    Reload {
        /// New build version.
        version: String,
    },
    /// Only CSS changed: swap these stylesheets (paths under `/_fymo/`).
    Css {
        /// New build version.
        version: String,
        /// Every CSS file of the new build.
        files: Vec<String>,
    },
    /// The app is broken: show the overlay.
    Error(DevError),
}

/// Shared between the watcher loop and the HTTP handlers.
#[derive(Debug)]
pub struct DevHub {
    events: broadcast::Sender<DevEvent>,
    state: Mutex<(String, Option<DevError>)>,
}

impl Default for DevHub {
    fn default() -> Self {
        Self { events: broadcast::channel(64).0, state: Mutex::new((String::new(), None)) }
    }
}

impl DevHub {
    /// The current error, if the app is broken.
    pub fn error(&self) -> Option<DevError> {
        self.state.lock().expect("dev state").1.clone()
    }

    /// Marks the app broken and tells every browser.
    pub fn fail(&self, error: DevError) {
        self.state.lock().expect("dev state").1 = Some(error.clone());
        let _ = self.events.send(DevEvent::Error(error));
    }

    /// Records a new good build and tells every browser to reload or swap CSS.
    pub fn succeed(&self, version: String, css_only: Option<Vec<String>>) {
        *self.state.lock().expect("dev state") = (version.clone(), None);
        let event = match css_only {
            Some(files) => DevEvent::Css { version, files },
            None => DevEvent::Reload { version },
        };
        let _ = self.events.send(event);
    }

    /// Sets the version without telling anyone (start-up).
    pub fn set_version(&self, version: String) {
        self.state.lock().expect("dev state").0 = version;
    }

    fn hello(&self) -> DevEvent {
        let (version, error) = self.state.lock().expect("dev state").clone();
        DevEvent::Hello { version, error }
    }

    /// Subscribes to future events.
    pub fn subscribe(&self) -> broadcast::Receiver<DevEvent> {
        self.events.subscribe()
    }
}

fn to_sse(event: &DevEvent) -> Event {
    Event::default().data(serde_json::to_string(event).expect("events serialize"))
}

/// `GET /_fymo/dev/events`: the event stream, starting with `hello`.
pub(crate) async fn events(State(hub): State<Arc<DevHub>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hello = to_sse(&hub.hello());
    let updates = BroadcastStream::new(hub.subscribe()).filter_map(|e| e.ok().map(|e| Ok(to_sse(&e))));
    let stream = tokio_stream::once(Ok(hello)).chain(updates);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
