//! `multipart/form-data` bodies: text fields into the form, files streamed chunk by chunk
//! into temporary files (never held whole in memory) under the route's upload limits
//! (`upload:` in `routes.yml`). The temporary files go when the request's last
//! [`UploadedFile`] handle does.

use axum::body::Body;
use tokio::io::AsyncWriteExt;

use crate::config::UploadLimits;
use crate::controller::UploadedFile;

/// Longest text field read into the form.
const TEXT_FIELD_LIMIT: u64 = 64 * 1024;

/// Most parts (fields and files) one body may have.
const MAX_PARTS: usize = 1000;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum UploadError {
    /// Over one of the route's size or count limits (413).
    #[error("upload refused: {0}")]
    TooLarge(String),
    /// A file of a type the route does not accept (415).
    #[error("upload refused: `{name}` is {content_type}, this route accepts {accepted}")]
    Type {
        /// The file name.
        name: String,
        /// Its declared type.
        content_type: String,
        /// The route's types.
        accepted: String,
    },
    /// Not a well-formed multipart body, or the connection broke (400).
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    /// The temporary file could not be written (500).
    #[error("cannot store the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// Fields (in order, repeated names kept) and files of a multipart body.
pub(super) type Parts = (Vec<(String, String)>, Vec<UploadedFile>);

/// Reads `body` (with `boundary`) under `limits`.
///
/// # Errors
/// See [`UploadError`]; files written so far are removed.
pub(super) async fn read(body: Body, boundary: String, limits: &UploadLimits) -> Result<Parts, UploadError> {
    // The whole stream is bounded too — part headers, preamble and all — not only the
    // data counted below: a body of endless headers must not grow a buffer.
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limits.max_size));
    let mut multipart = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut form = Vec::new();
    let mut files = Vec::new();
    let mut total: u64 = 0;
    let mut parts = 0;
    let malformed = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { limit } => {
            UploadError::TooLarge(format!("the body is over the route's {limit} bytes"))
        }
        other => UploadError::Malformed(other.to_string()),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(UploadError::TooLarge(format!("more than {MAX_PARTS} parts")));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                total += chunk.len() as u64;
                check_total(total, limits)?;
                if text.len() as u64 + chunk.len() as u64 > TEXT_FIELD_LIMIT {
                    return Err(UploadError::TooLarge(format!("field `{name}` is over {TEXT_FIELD_LIMIT} bytes")));
                }
                text.extend_from_slice(&chunk);
            }
            form.push((name, String::from_utf8_lossy(&text).into_owned()));
            continue;
        };
        if files.len() >= limits.max_files {
            return Err(UploadError::TooLarge(format!("more than {} file(s)", limits.max_files)));
        }
        let content_type =
            field.content_type().map_or_else(|| "application/octet-stream".to_owned(), ToString::to_string);
        if !limits.accepts(&content_type) {
            return Err(UploadError::Type { name: file_name, content_type, accepted: limits.types.join(", ") });
        }
        let (file, temp) = tempfile::Builder::new().prefix("fymo-upload-").tempfile()?.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            size += chunk.len() as u64;
            total += chunk.len() as u64;
            check_total(total, limits)?;
            if size > limits.max_file_size {
                return Err(UploadError::TooLarge(format!(
                    "`{file_name}` is over the {} bytes a file may have",
                    limits.max_file_size
                )));
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        files.push(UploadedFile::new(name, file_name, content_type, size, temp));
    }
    Ok((form, files))
}

fn check_total(total: u64, limits: &UploadLimits) -> Result<(), UploadError> {
    if total > limits.max_size {
        return Err(UploadError::TooLarge(format!("the body is over the route's {} bytes", limits.max_size)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bodies built from the pieces a multipart parser trips on: boundaries (whole, cut,
    /// wrong), part headers, CRLFs and stray bytes.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"--B\r\n".to_vec()),
            Just(b"--B--\r\n".to_vec()),
            Just(b"--B".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"Content-Disposition: form-data; name=\"f\"\r\n".to_vec()),
            Just(b"Content-Disposition: form-data; name=\"up\"; filename=\"a.bin\"\r\n".to_vec()),
            Just(b"Content-Type: image/png\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn no_body_panics_and_every_answer_is_within_the_limits(bytes in body()) {
            let limits = UploadLimits { max_size: 4096, max_file_size: 512, max_files: 2, types: vec!["image/*".into()] };
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let read = runtime.block_on(read(Body::from(bytes), "B".into(), &limits));
            if let Ok((_, files)) = read {
                prop_assert!(files.len() <= 2);
                prop_assert!(files.iter().all(|f| f.size <= 512));
            }
        }
    }
}
