//! Cross-site request forgery checks for unsafe methods (POST, PUT, PATCH, DELETE) on
//! page routes: the request must come from the same origin (`Sec-Fetch-Site`, else
//! `Origin`, else `Referer`) and carry the session's token (form field `_csrf` or header
//! `X-CSRF-Token`). Each failure says which check failed.

use axum::http::{header, HeaderMap, Method};

/// The form field and header that carry the token.
pub(crate) const FIELD: &str = "_csrf";
const HEADER: &str = "x-csrf-token";

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CsrfError {
    /// The browser says another site sent it.
    #[error("cross-site request refused: Sec-Fetch-Site is `{0}`")]
    CrossSite(String),
    /// `Origin` or `Referer` names another origin.
    #[error("cross-origin request refused: {header} `{value}` is not this site (`{host}`)")]
    CrossOrigin {
        /// `Origin` or `Referer`.
        header: &'static str,
        /// Its value.
        value: String,
        /// This site's host.
        host: String,
    },
    /// No token in the form or headers.
    #[error("missing CSRF token: send the `_csrf` form field (the page's `fymo.csrf` prop) or an X-CSRF-Token header")]
    MissingToken,
    /// A token that is not this session's.
    #[error("invalid CSRF token: it does not belong to this session (stale page or signed out?)")]
    WrongToken,
}

/// Whether `method` can change state and must be checked.
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// The origin check, made before the body is read.
///
/// # Errors
/// [`CsrfError::CrossSite`] or [`CsrfError::CrossOrigin`].
pub(crate) fn check_origin(headers: &HeaderMap) -> Result<(), CsrfError> {
    let text = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(CsrfError::CrossSite(other.to_owned())),
        };
    }
    let host = text(header::HOST).unwrap_or_default().to_ascii_lowercase();
    for (name, label) in [(header::ORIGIN, "Origin"), (header::REFERER, "Referer")] {
        if let Some(value) = text(name) {
            return match authority_of(value) {
                Some(authority) if authority.eq_ignore_ascii_case(&host) => Ok(()),
                _ => Err(CsrfError::CrossOrigin { header: label, value: value.to_owned(), host }),
            };
        }
    }
    Ok(()) // a client that sends neither (curl, old browsers): the token decides
}

/// `host:port` of an absolute URL (`null` and relative values have none).
fn authority_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// The token check, made once the form is read.
///
/// # Errors
/// [`CsrfError::MissingToken`] or [`CsrfError::WrongToken`].
pub(crate) fn check_token(headers: &HeaderMap, form_token: Option<&str>, session_token: &str) -> Result<(), CsrfError> {
    let sent = headers.get(HEADER).and_then(|v| v.to_str().ok()).or(form_token).ok_or(CsrfError::MissingToken)?;
    // Constant time: the comparison must not tell how much of a guess was right.
    let same = sent.len() == session_token.len()
        && sent.bytes().zip(session_token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same && !session_token.is_empty() {
        Ok(())
    } else {
        Err(CsrfError::WrongToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_checks() {
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "http://a.test")])).is_ok());
        assert!(check_origin(&headers(&[("host", "a.test:8000"), ("referer", "http://a.test:8000/x?y")])).is_ok());
        assert!(matches!(
            check_origin(&headers(&[("host", "a.test"), ("origin", "http://evil.test")])),
            Err(CsrfError::CrossOrigin { header: "Origin", .. })
        ));
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "null")])).is_err());
        assert_eq!(
            check_origin(&headers(&[("sec-fetch-site", "cross-site"), ("origin", "http://a.test")])),
            Err(CsrfError::CrossSite("cross-site".into()))
        );
        assert!(check_origin(&headers(&[("host", "a.test")])).is_ok());
    }

    #[test]
    fn token_checks() {
        assert_eq!(check_token(&HeaderMap::new(), None, "abc"), Err(CsrfError::MissingToken));
        assert_eq!(check_token(&HeaderMap::new(), Some("abd"), "abc"), Err(CsrfError::WrongToken));
        assert!(check_token(&HeaderMap::new(), Some("abc"), "abc").is_ok());
        assert!(check_token(&headers(&[("x-csrf-token", "abc")]), None, "abc").is_ok());
        assert_eq!(check_token(&HeaderMap::new(), Some(""), ""), Err(CsrfError::WrongToken));
    }
}
