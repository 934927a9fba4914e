//! The pipe protocol: a 4-byte big-endian length, then that many bytes of JSON.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest frame accepted from a worker; anything bigger is garbage.
const MAX_FRAME: u32 = 64 * 1024 * 1024;

/// One call to a worker.
#[derive(Debug, Serialize)]
pub(crate) struct Call<'a> {
    pub(crate) id: u64,
    pub(crate) controller: &'a str,
    pub(crate) file: &'a str,
    /// `get` or `post`.
    pub(crate) call: &'a str,
    pub(crate) request: &'a serde_json::Value,
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
    /// `props`, `status`, `redirect`, `not_found` or `entries`.
    pub(crate) kind: Option<serde_json::Value>,
    /// Kept as text: they go to the page as they are.
    pub(crate) props: Option<Box<serde_json::value::RawValue>>,
    pub(crate) status: Option<serde_json::Value>,
    pub(crate) location: Option<serde_json::Value>,
    pub(crate) headers: Option<serde_json::Value>,
    pub(crate) cookies: Option<serde_json::Value>,
    /// Session data, flash, rotation, live topics and publishes.
    pub(crate) session: Option<serde_json::Value>,
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

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub(crate) async fn read_frame(r: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 4];
    match r.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(header);
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame of {len} bytes announced: not the protocol"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).await?;
    Ok(Some(body))
}
