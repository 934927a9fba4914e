//! [`JsonProps`]: a page's props as JSON text, passed through to the page unparsed.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::Value;

/// Props that are already JSON text: a JSON object, checked once and then handed to the
/// page as it is. [`crate::Outcome::props`] writes them so, and a Python controller's
/// arrive so: building a 1,000-item page's props as a [`Value`] (or parsing them into
/// one) and writing them out again cost more than rendering the page.
///
/// # Examples
/// ```
/// let props = fymo::JsonProps::new(r#"{"total": 3}"#.to_owned()).unwrap();
/// assert_eq!(props.as_str(), r#"{"total": 3}"#);
/// assert!(fymo::JsonProps::new("[1, 2]".to_owned()).is_err(), "props are an object");
/// ```
#[derive(Debug, Clone)]
pub struct JsonProps(Box<RawValue>);

impl JsonProps {
    /// Checks that `text` is one JSON object.
    ///
    /// # Errors
    /// When it is not JSON, or JSON but not an object.
    pub fn new(text: String) -> Result<Self, serde_json::Error> {
        Self::from_raw(RawValue::from_string(text)?)
    }

    /// Props from a value already read as raw JSON (checked to be an object).
    ///
    /// # Errors
    /// When it is not an object.
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        if raw.get().trim_start().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(serde::de::Error::custom(format!("props must be a JSON object, not `{:.40}`", raw.get())))
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        Box::<str>::from(self.0).into_string()
    }

    /// Parsed, for the few uses that need to look inside (a partial reload's filter).
    ///
    /// # Errors
    /// When the object nests deeper than serde_json reads (128 levels): checked props
    /// are JSON, but the check does not limit depth.
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// Whether the object has `key` at its top level.
    pub(crate) fn has_key(&self, key: &str) -> bool {
        serde_json::from_str::<HashMap<Cow<'_, str>, IgnoredAny>>(self.0.get()).is_ok_and(|map| map.contains_key(key))
    }

    /// The text with `key: value` added at the end of the object, unless the object
    /// already has `key` (the controller's own value wins).
    pub(crate) fn into_json_with(self, key: &str, value: &Value) -> String {
        if self.has_key(key) {
            return self.into_string();
        }
        let text = self.0.get();
        let body = text.trim_end().strip_suffix('}').expect("an object ends with }");
        let empty = body.trim_end().ends_with('{');
        let key = Value::from(key);
        let value = serde_json::to_string(value).expect("a JSON value serializes");
        let mut out = String::with_capacity(text.len() + key.to_string().len() + value.len() + 3);
        out.push_str(body);
        if !empty {
            out.push(',');
        }
        out.push_str(&key.to_string());
        out.push(':');
        out.push_str(&value);
        out.push('}');
        out
    }
}

/// Equal when the texts are: props the same object written differently are not.
impl PartialEq for JsonProps {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_props_are_added_at_the_end_unless_the_controller_set_them() {
        let shared = serde_json::json!({ "csrf": "t" });
        let props = JsonProps::new(r#"{"a":1,"b":[{"fymo":2}]}"#.into()).unwrap();
        assert_eq!(props.into_json_with("fymo", &shared), r#"{"a":1,"b":[{"fymo":2}],"fymo":{"csrf":"t"}}"#);
        let empty = JsonProps::new("{ }".into()).unwrap();
        assert_eq!(empty.into_json_with("fymo", &shared), r#"{ "fymo":{"csrf":"t"}}"#);
        let own = JsonProps::new(r#"{"fymo":"mine","a":1}"#.into()).unwrap();
        assert_eq!(own.into_json_with("fymo", &shared), r#"{"fymo":"mine","a":1}"#, "the controller's own wins");
        let escaped = JsonProps::new(r#"{"fym\u006f":0}"#.into()).unwrap();
        assert!(escaped.has_key("fymo"), "keys are compared decoded");
    }

    #[test]
    fn only_objects_are_props() {
        for text in ["[]", "1", "\"x\"", "null", "{", "{} {}"] {
            assert!(JsonProps::new(text.into()).is_err(), "{text}");
        }
        assert_eq!(JsonProps::new(r#" {"a":1}"#.into()).unwrap().to_value().unwrap(), serde_json::json!({ "a": 1 }));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        let props = JsonProps::new(deep).expect("deep JSON is JSON");
        assert!(props.to_value().is_err(), "too deep to parse into a Value: an error, not a panic");
    }
}
