//! Content negotiation between the page (HTML) and its data (JSON), by the `Accept`
//! header's q-values (RFC 9110 §12.5.1): each of the two types gets the weight of the
//! most specific range that matches it, and JSON wins only when it weighs more, so
//! `*/*`, no header and ties are HTML.

use axum::http::{header, HeaderMap};
use mime::Mime;

/// Whether the client prefers `application/json` over `text/html`.
pub(super) fn prefers_json(headers: &HeaderMap) -> bool {
    let ranges: Vec<(Mime, f32)> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| range.trim().parse::<Mime>().ok())
        .map(|range| {
            let q = range.get_param("q").and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            (range, q.clamp(0.0, 1.0))
        })
        .collect();
    weight(&ranges, &mime::APPLICATION_JSON) > weight(&ranges, &mime::TEXT_HTML)
}

/// The q of the most specific range matching `target`; 0 when none does.
fn weight(ranges: &[(Mime, f32)], target: &Mime) -> f32 {
    ranges
        .iter()
        .filter_map(|(range, q)| {
            let (ty, sub) = (range.type_(), range.subtype());
            let specificity = if ty == mime::STAR && sub == mime::STAR {
                1
            } else if ty != target.type_() {
                return None;
            } else if sub == mime::STAR {
                2
            } else if sub == target.subtype() {
                3
            } else {
                return None;
            };
            Some((specificity, *q))
        })
        .max_by_key(|(specificity, _)| *specificity)
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(accept: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, accept.parse().unwrap());
        prefers_json(&headers)
    }

    #[test]
    fn weighs_html_against_json_by_q_values() {
        assert!(json("application/json"));
        assert!(json("text/html;q=0.9, application/json"));
        assert!(json("application/json, text/html;q=0.5"));
        assert!(json("application/*"));
        assert!(!json("application/json;q=0"));
        assert!(!json("application/json;q=0, */*"));
        assert!(!json("*/*"));
        assert!(!json("text/html, application/json"), "a tie is HTML");
        assert!(!json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), "a browser");
        assert!(!json(""));
        assert!(!json("nonsense"));
        assert!(!prefers_json(&HeaderMap::new()));
    }
}
