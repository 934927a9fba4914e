//! Props as JSON that is safe inside `<script type="application/json">`.

/// Escapes serialized JSON so that no value can end the script element or break a JS
/// parser: `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026`; U+2028 and U+2029 are
/// escaped. These only occur inside JSON strings, where the escapes mean the same
/// characters.
pub(crate) fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_values_cannot_close_the_script() {
        let props = json!({"x": "</script><script>alert(1)</script>", "y": "a\u{2028}b\u{2029}", "z": "&amp;"});
        let out = escape_json(&props.to_string());
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'), "{out}");
        assert!(!out.contains('\u{2028}') && !out.contains('\u{2029}'), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, props, "escaping must round-trip");
    }
}
