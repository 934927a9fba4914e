//! `GET/POST /upload`: a multipart upload, streamed to a temporary file by Fymo, hashed
//! here and reported back.

use std::io::Read;

use fymo::http::{Method, StatusCode};
use fymo::{BoxError, Outcome, RequestContext};
use sha2::{Digest, Sha256};

pub(crate) async fn upload(req: RequestContext) -> Result<Outcome, BoxError> {
    if req.method != Method::POST {
        return Ok(Outcome::props(serde_json::json!({ "uploaded": null }))?);
    }
    let Some(file) = req.file("file").cloned() else {
        return Ok(Outcome::status(
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({ "error": "Choose a file first." }),
        )?);
    };
    // Hashing reads the whole file: off the async threads.
    let hash = tokio::task::spawn_blocking(move || -> std::io::Result<(String, String, u64)> {
        let mut hasher = Sha256::new();
        let mut reader = file.open()?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let hex = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok((file.name.clone(), hex, file.size))
    })
    .await??;
    let (name, sha256, size) = hash;
    Ok(Outcome::props(serde_json::json!({ "uploaded": { "name": name, "size": size, "sha256": sha256 } }))?)
}
