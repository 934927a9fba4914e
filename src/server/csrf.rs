//! Cross-site request forgery checks for unsafe methods (POST, PUT, PATCH, DELETE) on
//! page routes: the request must come from the same origin (`Sec-Fetch-Site`, else
//! `Origin`, else `Referer`: scheme, host and port) and carry the session's token (form
//! field `_csrf`, header `X-CSRF-Token`, or `X-XSRF-TOKEN` as Axios and Inertia's client
//! send it back from the `XSRF-TOKEN` cookie). Each failure says which check failed.

use axum::http::{header, HeaderMap, Method};
use cookie::{Cookie, SameSite};

/// The form field and header that carry the token.
pub(crate) const FIELD: &str = "_csrf";
const HEADERS: [&str; 2] = ["x-csrf-token", "x-xsrf-token"];

/// The cookie scripts read the token from (the name Axios and Inertia's client look for).
pub(crate) const XSRF_COOKIE: &str = "XSRF-TOKEN";

/// The `XSRF-TOKEN` cookie carrying `token`, unless the browser sent that one already
/// (`sent`): readable by scripts, `SameSite=Lax`, `Secure` over HTTPS.
pub(crate) fn xsrf_cookie(sent: Option<&str>, token: &str, secure: bool) -> Option<Cookie<'static>> {
    if token.is_empty() || sent == Some(token) {
        return None;
    }
    Some(Cookie::build((XSRF_COOKIE, token.to_owned())).path("/").same_site(SameSite::Lax).secure(secure).build())
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CsrfError {
    /// The browser says another site sent it.
    #[error("cross-site request refused: Sec-Fetch-Site is `{0}`")]
    CrossSite(String),
    /// `Origin` or `Referer` names another origin.
    #[error("cross-origin request refused: {header} `{value}` is not this site (`{site}`){hint}")]
    CrossOrigin {
        /// `Origin` or `Referer`.
        header: &'static str,
        /// Its value.
        value: String,
        /// This site's origin, as the request reached it.
        site: String,
        /// What to do when only the scheme differs (a TLS proxy not in `trusted_proxies`).
        hint: &'static str,
    },
    /// No token in the form or headers.
    #[error("missing CSRF token: send the `_csrf` form field (the page's `fymo.csrf` prop), an X-CSRF-Token header, or X-XSRF-TOKEN with the XSRF-TOKEN cookie's value")]
    MissingToken,
    /// A token that is not this session's.
    #[error("invalid CSRF token: it does not belong to this session (stale page or signed out?)")]
    WrongToken,
}

/// Whether `method` can change state and must be checked.
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// The origin check, made before the body is read; `https`: the request reached the
/// site over HTTPS (a trusted proxy says so).
///
/// # Errors
/// [`CsrfError::CrossSite`] or [`CsrfError::CrossOrigin`].
pub(crate) fn check_origin(headers: &HeaderMap, https: bool) -> Result<(), CsrfError> {
    let text = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(CsrfError::CrossSite(other.to_owned())),
        };
    }
    let scheme = if https { "https" } else { "http" };
    let site = origin(scheme, text(header::HOST).unwrap_or_default());
    for (name, label) in [(header::ORIGIN, "Origin"), (header::REFERER, "Referer")] {
        if let Some(value) = text(name) {
            let sent = value.split_once("://").map(|(scheme, rest)| {
                origin(&scheme.to_ascii_lowercase(), rest.split(['/', '?', '#']).next().unwrap_or(rest))
            });
            if sent.as_deref() == Some(site.as_str()) {
                return Ok(());
            }
            let other_scheme = sent
                .as_deref()
                .is_some_and(|s| s.split_once("://").map(|p| p.1) == site.split_once("://").map(|p| p.1));
            let hint = if other_scheme && !https {
                " (behind a proxy that terminates TLS? list it in `trusted_proxies` in fymo.yml)"
            } else {
                ""
            };
            return Err(CsrfError::CrossOrigin { header: label, value: value.to_owned(), site, hint });
        }
    }
    Ok(()) // a client that sends neither (curl, old browsers): the token decides
}

/// `scheme://host[:port]`, lowercased, without the scheme's default port.
fn origin(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    let host = authority.strip_suffix(default_port).filter(|_| !default_port.is_empty()).unwrap_or(&authority);
    format!("{scheme}://{host}")
}

/// The token check, made once the form is read.
///
/// # Errors
/// [`CsrfError::MissingToken`] or [`CsrfError::WrongToken`].
pub(crate) fn check_token(headers: &HeaderMap, form_token: Option<&str>, session_token: &str) -> Result<(), CsrfError> {
    let header = HEADERS.iter().find_map(|name| headers.get(*name)).and_then(|v| v.to_str().ok());
    let sent = header.or(form_token).ok_or(CsrfError::MissingToken)?;
    if same_secret(sent, session_token) && !session_token.is_empty() {
        Ok(())
    } else {
        Err(CsrfError::WrongToken)
    }
}

/// Whether `sent` is `secret`, compared in constant time: the answer must not tell how
/// much of a guess was right.
pub(crate) fn same_secret(sent: &str, secret: &str) -> bool {
    sent.len() == secret.len() && sent.bytes().zip(secret.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
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
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "http://a.test")]), false).is_ok());
        assert!(
            check_origin(&headers(&[("host", "a.test:8000"), ("referer", "http://a.test:8000/x?y")]), false).is_ok()
        );
        assert!(matches!(
            check_origin(&headers(&[("host", "a.test"), ("origin", "http://evil.test")]), false),
            Err(CsrfError::CrossOrigin { header: "Origin", .. })
        ));
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "null")]), false).is_err());
        assert_eq!(
            check_origin(&headers(&[("sec-fetch-site", "cross-site"), ("origin", "http://a.test")]), false),
            Err(CsrfError::CrossSite("cross-site".into()))
        );
        assert!(check_origin(&headers(&[("host", "a.test")]), false).is_ok());
    }

    #[test]
    fn the_origin_check_compares_scheme_host_and_port() {
        let h = headers(&[("host", "a.test"), ("origin", "https://a.test")]);
        let refused = check_origin(&h, false).unwrap_err();
        assert!(refused.to_string().contains("trusted_proxies"), "{refused}");
        assert!(check_origin(&h, true).is_ok());
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "http://a.test")]), true).is_err());
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "http://a.test:8080")]), false).is_err());
        // Default ports are the same origin, written or not; case does not matter.
        assert!(check_origin(&headers(&[("host", "A.test:80"), ("origin", "HTTP://a.test")]), false).is_ok());
        assert!(check_origin(&headers(&[("host", "a.test"), ("origin", "https://a.test:443")]), true).is_ok());
    }

    #[test]
    fn the_xsrf_cookie_is_sent_when_the_browser_does_not_have_this_token() {
        let cookie = xsrf_cookie(None, "abc", true).expect("a new visitor gets it");
        assert_eq!((cookie.name(), cookie.value()), ("XSRF-TOKEN", "abc"));
        assert!(
            cookie.http_only().is_none() && cookie.secure() == Some(true) && cookie.same_site() == Some(SameSite::Lax)
        );
        assert!(xsrf_cookie(Some("abc"), "abc", false).is_none());
        assert!(xsrf_cookie(Some("old"), "abc", false).is_some(), "rotated");
    }

    #[test]
    fn token_checks() {
        assert_eq!(check_token(&HeaderMap::new(), None, "abc"), Err(CsrfError::MissingToken));
        assert_eq!(check_token(&HeaderMap::new(), Some("abd"), "abc"), Err(CsrfError::WrongToken));
        assert!(check_token(&HeaderMap::new(), Some("abc"), "abc").is_ok());
        assert!(check_token(&headers(&[("x-csrf-token", "abc")]), None, "abc").is_ok());
        assert!(check_token(&headers(&[("x-xsrf-token", "abc")]), None, "abc").is_ok());
        assert_eq!(check_token(&headers(&[("x-xsrf-token", "abd")]), None, "abc"), Err(CsrfError::WrongToken));
        assert_eq!(check_token(&HeaderMap::new(), Some(""), ""), Err(CsrfError::WrongToken));
    }
}
