//! The pipe protocol: a 4-byte big-endian length, then that many bytes of JSON.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Largest frame accepted from a worker; anything bigger is garbage.
const MAX_FRAME: u32 = 64 * 1024 * 1024;
/// A reader's buffer beyond this is given back once its frame is consumed.
const MAX_KEPT: usize = 1024 * 1024;

/// One call to a worker.
#[derive(Debug, Serialize)]
pub(crate) struct Call<'a> {
    pub(crate) id: u64,
    pub(crate) controller: &'a str,
    pub(crate) file: &'a str,
    /// `get` or `post`.
    pub(crate) call: &'a str,
    /// Written once by the caller, straight from its request (no `Value` tree between).
    pub(crate) request: &'a serde_json::value::RawValue,
}

/// A worker's answer.
#[derive(Debug, Deserialize)]
pub(crate) struct Reply {
    pub(crate) id: u64,
    pub(crate) ok: bool,
    #[serde(default)]
    pub(crate) result: Option<ReplyResult>,
    #[serde(default)]
    pub(crate) error: Option<ReplyError>,
}

/// What a controller answered (`fymo_worker.answer`), with the session operations.
/// Each part is read loosely (a wrong type is the controller's error, reported by
/// [`super::PythonController`], not a protocol failure).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReplyResult {
    /// `props`, `status`, `redirect`, `location`, `not_found` or `entries`.
    pub(crate) kind: Option<serde_json::Value>,
    /// Kept as text: they go to the page as they are.
    pub(crate) props: Option<Box<serde_json::value::RawValue>>,
    pub(crate) status: Option<serde_json::Value>,
    pub(crate) location: Option<serde_json::Value>,
    pub(crate) headers: Option<serde_json::Value>,
    pub(crate) cookies: Option<serde_json::Value>,
    /// Session data, flash, rotation, live topics and publishes.
    pub(crate) session: Option<serde_json::Value>,
    /// Props marked with `fymo.defer` / `fymo.merge`: `{deferred: {group: [key]}, merge, deep_merge}`.
    pub(crate) prop_kinds: Option<serde_json::Value>,
    pub(crate) entries: Option<serde_json::Value>,
}

/// A controller-level failure reported by the worker.
#[derive(Debug, Deserialize)]
pub(crate) struct ReplyError {
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) traceback: Option<String>,
}

/// Writes one frame.
pub(crate) async fn write_frame(w: &mut (impl AsyncWriteExt + Unpin), payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut buf = Vec::with_capacity(payload.len() + 4);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(payload);
    w.write_all(&buf).await?;
    w.flush().await
}

/// Reads frames into a buffer it owns, so a read abandoned half-way loses nothing: the
/// next [`FrameReader::next_frame`] carries on where the last one stopped. The pool
/// relies on this to finish an exchange whose request went away.
pub(crate) struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes at the front of `buf` that belong to the frame handed out last.
    consumed: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, buf: Vec::with_capacity(64 * 1024), consumed: 0 }
    }

    /// The next frame's body; `Ok(None)` at a clean end of stream. Cancel-safe.
    pub(crate) async fn next_frame(&mut self) -> std::io::Result<Option<&[u8]>> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        if self.buf.is_empty() && self.buf.capacity() > MAX_KEPT {
            self.buf = Vec::with_capacity(64 * 1024); // one huge reply does not pin its buffer
        }
        let len = loop {
            if let Some(header) = self.buf.first_chunk::<4>() {
                let len = u32::from_be_bytes(*header);
                if len > MAX_FRAME {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("frame of {len} bytes announced: not the protocol"),
                    ));
                }
                let len = len as usize;
                if self.buf.len() >= 4 + len {
                    break len;
                }
                self.buf.reserve(4 + len - self.buf.len());
            } else {
                self.buf.reserve(4);
            }
            // `read_buf` is cancel-safe: bytes it read are in `buf`, whatever happens next.
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() { Ok(None) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
            }
        };
        self.consumed = 4 + len;
        Ok(Some(&self.buf[4..4 + len]))
    }
}
