//! [`DevHub`]: the dev server's live state seen by browsers: the current whole-app error,
//! if any (shared with the HTTP server's [`crate::server::Mode::Dev`]), and a stream of
//! events (reload, CSS update, error) over Server-Sent Events.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::site::ErrorReport;

/// What the dev client is told.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum DevEvent {
    /// Sent on connect: the build the page should be running.
    Hello {
        /// Build version.
        version: String,
        /// The current error, if the app is broken.
        error: Option<ErrorReport>,
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
    Error(ErrorReport),
}

/// Shared between the watcher loop and the HTTP handlers.
#[derive(Debug)]
pub(crate) struct DevHub {
    events: broadcast::Sender<DevEvent>,
    version: Mutex<String>,
    broken: Arc<ArcSwapOption<ErrorReport>>,
    uncompiled: Arc<arc_swap::ArcSwap<Vec<ErrorReport>>>,
}

impl Default for DevHub {
    fn default() -> Self {
        Self {
            events: broadcast::channel(64).0,
            version: Mutex::default(),
            broken: Arc::default(),
            uncompiled: Arc::default(),
        }
    }
}

impl DevHub {
    /// The current whole-app error, shared with the server, which answers every page
    /// with it while it is set.
    pub(crate) fn broken(&self) -> Arc<ArcSwapOption<ErrorReport>> {
        self.broken.clone()
    }

    /// The templates that do not compile while the rest does, shared with the server.
    pub(crate) fn uncompiled(&self) -> Arc<arc_swap::ArcSwap<Vec<ErrorReport>>> {
        self.uncompiled.clone()
    }

    /// Records the templates of a good build that did not compile, and tells every
    /// browser about the first (the overlay shows it; pages that compile keep working).
    pub(crate) fn partial(&self, errors: Vec<ErrorReport>) {
        if let Some(first) = errors.first() {
            let _ = self.events.send(DevEvent::Error(first.clone()));
        }
        self.uncompiled.store(Arc::new(errors));
    }

    /// Whether the app is broken.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load().is_some()
    }

    /// Marks the app broken and tells every browser.
    pub(crate) fn fail(&self, error: ErrorReport) {
        self.broken.store(Some(Arc::new(error.clone())));
        let _ = self.events.send(DevEvent::Error(error));
    }

    /// Records a new good build and tells every browser to reload or swap CSS.
    pub(crate) fn succeed(&self, version: String, css_only: Option<Vec<String>>) {
        *self.version.lock().expect("dev version") = version.clone();
        self.broken.store(None);
        let event = match css_only {
            Some(files) => DevEvent::Css { version, files },
            None => DevEvent::Reload { version },
        };
        let _ = self.events.send(event);
    }

    fn hello(&self) -> DevEvent {
        let version = self.version.lock().expect("dev version").clone();
        DevEvent::Hello { version, error: self.broken.load_full().map(|e| (*e).clone()) }
    }

    /// Subscribes to future events.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<DevEvent> {
        self.events.subscribe()
    }
}

fn to_sse(event: &DevEvent) -> Event {
    Event::default().data(serde_json::to_string(event).expect("events serialize"))
}

/// `GET /_fymo/dev/events`: the event stream, starting with `hello`.
pub(super) async fn events(State(hub): State<Arc<DevHub>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hello = to_sse(&hub.hello());
    let updates = BroadcastStream::new(hub.subscribe()).filter_map(|e| e.ok().map(|e| Ok(to_sse(&e))));
    let stream = tokio_stream::once(Ok(hello)).chain(updates);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
