//! A visitor with a cookie jar: follows a session across requests the way a browser
//! does (no redirects followed), sends forms and multipart uploads.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Reply;

/// One browser's cookies against one server.
pub struct Visitor {
    base: String,
    pub cookies: BTreeMap<String, String>,
    agent: ureq::Agent,
}

/// What a response set, besides the usual reply.
pub struct Answer {
    pub reply: Reply,
    pub set_cookies: Vec<String>,
}

impl std::ops::Deref for Answer {
    type Target = Reply;
    fn deref(&self) -> &Reply {
        &self.reply
    }
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        Self { base: base.to_owned(), cookies: BTreeMap::new(), agent }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn send(&mut self, mut req: ureq::Request, body: Option<(&str, Vec<u8>)>, headers: &[(&str, &str)]) -> Answer {
        if !self.cookies.is_empty() {
            req = req.set("Cookie", &self.cookie_header());
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some((content_type, bytes)) => req.set("Content-Type", content_type).send_bytes(&bytes),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let set_cookies: Vec<String> = response.all("set-cookie").into_iter().map(str::to_owned).collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let removed = line.to_ascii_lowercase().contains("max-age=0");
            if removed || value.is_empty() {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = response.header(&n).unwrap_or_default().to_owned();
                (n, v)
            })
            .collect();
        Answer { reply: Reply { status, headers, body: response.into_string().unwrap_or_default() }, set_cookies }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let req = self.agent.get(&format!("{}{path}", self.base));
        self.send(req, None, &[])
    }

    /// A same-origin form POST, as a browser sends it.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_form_with(path, fields, &[("Origin", &self.base.clone())])
    }

    pub fn post_form_with(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
        let body =
            fields.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        let req = self.agent.post(&format!("{}{path}", self.base));
        self.send(req, Some(("application/x-www-form-urlencoded", body.into_bytes())), headers)
    }

    /// A JSON POST with `headers`.
    pub fn post_json(&mut self, path: &str, json: &str, headers: &[(&str, &str)]) -> Answer {
        let req = self.agent.post(&format!("{}{path}", self.base));
        self.send(req, Some(("application/json", json.as_bytes().to_vec())), headers)
    }

    /// A same-origin `multipart/form-data` POST: `fields` then `files` (field, name, type, bytes).
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Answer {
        let boundary = "fymo-test-boundary-7d3f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (field, name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = self.agent.post(&format!("{}{path}", self.base));
        let origin = self.base.clone();
        self.send(req, Some((&format!("multipart/form-data; boundary={boundary}"), body)), &[("Origin", &origin)])
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of `<input ... name="NAME" value="...">`-style hidden fields, or `fymo`'s
/// token in the page's props.
pub fn csrf_of(page: &str) -> String {
    let page = page.replace("&quot;", "\"");
    let start = page.find("\"csrf\":\"").expect("the page carries a CSRF token") + "\"csrf\":\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}
