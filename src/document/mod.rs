//! The HTML document around a rendered page: the shell, head tags, serialized props and
//! the module script that hydrates the page.

mod csp;
mod serialize;
mod shell;

pub(crate) use csp::Csp;
pub(crate) use serialize::escape_json;
pub(crate) use shell::{Shell, ShellError};

use crate::build::Manifest;
use crate::engine::Rendered;

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    replace_into(&mut out, text, |byte| match byte {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        _ => None,
    });
    out
}

/// Escapes text for a single-quoted attribute value: `&`, `'`, and `<` and `>` (so no
/// `</script>` appears anywhere in a page but where Fymo wrote it). The page object's
/// JSON goes in one: its many `"` stay one byte each, where a double-quoted attribute
/// would make each six (a quarter of a large page's bytes, and most of the escaping time).
pub(crate) fn escape_single_quoted_into(out: &mut String, text: &str) {
    replace_into(out, text, |byte| match byte {
        b'&' => Some("&amp;"),
        b'\'' => Some("&#39;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    });
}

/// Appends `text` to `out` with the ASCII bytes `entity` names replaced: the runs between
/// them are copied whole (an ASCII byte is always a character boundary).
fn replace_into(out: &mut String, text: &str, entity: impl Fn(u8) -> Option<&'static str>) {
    let mut last = 0;
    for (i, byte) in text.bytes().enumerate() {
        if let Some(entity) = entity(byte) {
            out.push_str(&text[last..i]);
            out.push_str(entity);
            last = i + 1;
        }
    }
    out.push_str(&text[last..]);
}

/// Where client files are served from.
pub(crate) const ASSET_PREFIX: &str = "/_fymo/";

/// Where `fymo dev` serves its client script (live reload, overlay).
pub(crate) const DEV_CLIENT_PATH: &str = "/_fymo/dev/client.js";

/// The `<script>` tag that loads the dev client.
pub(crate) fn dev_client_tag(nonce: Option<&str>) -> String {
    format!("<script type=\"module\" src=\"{DEV_CLIENT_PATH}\"{}></script>", csp::attribute(nonce))
}

/// Builds the HTML document for a rendered page.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    shell: Shell,
    dev_client: bool,
}

impl Document {
    /// A document builder around `shell`; `dev_client` adds `fymo dev`'s client script.
    pub(crate) fn new(shell: Shell, dev_client: bool) -> Self {
        Self { shell, dev_client }
    }

    /// Assembles the page: CSS and modulepreload links, Svelte's head, the body inside the
    /// hydration target, which carries the page object (`page_json`, escaped here) in its
    /// single-quoted `data-page` attribute as Inertia expects, and the module script that calls
    /// `hydrate()`.
    pub(crate) fn render(
        &self,
        manifest: &Manifest,
        page: &str,
        layouts: &[&str],
        rendered: &Rendered,
        page_json: &str,
        nonce: Option<&str>,
    ) -> String {
        use std::fmt::Write as _;
        let nonce_attr = csp::attribute(nonce);
        let entries: Vec<_> =
            layouts.iter().copied().chain(std::iter::once(page)).filter_map(|c| manifest.components.get(c)).collect();
        // One buffer for the whole document, written in order: the page object (the bulk
        // of a large page) is escaped straight into it, never copied whole again.
        let capacity = self.shell.len() + 2048 + rendered.head.len() + rendered.body.len() + page_json.len() * 9 / 8;
        let mut out = String::with_capacity(capacity);
        let (before_head, between, after_body) = self.shell.parts();
        out.push_str(before_head);
        // The hydration target must not box its content; a stylesheet rule rather than a
        // `style` attribute, which a strict CSP would refuse.
        let _ = writeln!(out, "<style{nonce_attr}>#__fymo{{display:contents}}</style>");
        let mut seen = std::collections::BTreeSet::new();
        for css in entries.iter().flat_map(|e| &e.css) {
            if seen.insert(css) {
                let _ = writeln!(out, "<link rel=\"stylesheet\" href=\"{ASSET_PREFIX}{css}\">");
            }
        }
        let client = &manifest.client;
        let modules = std::iter::once(client).chain(entries.iter().copied());
        for file in modules.flat_map(|e| std::iter::once(&e.file).chain(&e.imports)) {
            if seen.insert(file) {
                let _ = writeln!(out, "<link rel=\"modulepreload\" href=\"{ASSET_PREFIX}{file}\">");
            }
        }
        push_with_nonce(&mut out, &rendered.head, nonce);
        out.push_str(between);

        let import = |e: &crate::build::Entry| format!("{ASSET_PREFIX}{}", e.file);
        let page_url = manifest.components.get(page).map(import);
        let layout_urls: Vec<String> = layouts.iter().filter_map(|l| manifest.components.get(*l)).map(import).collect();
        out.push_str("<div id=\"__fymo\" data-page='");
        escape_single_quoted_into(&mut out, page_json);
        out.push_str("'>");
        push_with_nonce(&mut out, &rendered.body, nonce);
        out.push_str("</div>\n");
        if let Some(page_url) = page_url {
            let _ = write!(
                out,
                "<script type=\"module\"{nonce_attr}>\nimport {{ start }} from \"{}\";\nimport Page from \"{page_url}\";\n",
                import(client)
            );
            for (i, url) in layout_urls.iter().enumerate() {
                let _ = writeln!(out, "import L{i} from \"{url}\";");
            }
            out.push_str("start(Page");
            if !layout_urls.is_empty() {
                let names: Vec<String> = (0..layout_urls.len()).map(|i| format!("L{i}")).collect();
                let _ = write!(out, ", [{}]", names.join(", "));
            }
            out.push_str(");\n</script>");
        }
        if self.dev_client {
            out.push('\n');
            out.push_str(&dev_client_tag(nonce));
        }
        out.push_str(after_body);
        out
    }
}

impl Document {
    /// Assembles the page of an app with its own entries (an Inertia app): the CSP nonce in
    /// a `csp-nonce` meta tag, the client entry's CSS and modulepreload links, the head the app's `ssr.js` rendered, its body as
    /// it wrote it (Inertia's page-object script and the element it hydrates), and the entry
    /// as a module script.
    pub(crate) fn render_app(&self, manifest: &Manifest, rendered: &Rendered, nonce: Option<&str>) -> String {
        use std::fmt::Write as _;
        let client = &manifest.client;
        let mut out = String::with_capacity(self.shell.len() + 1024 + rendered.head.len() + rendered.body.len());
        let (before_head, between, after_body) = self.shell.parts();
        out.push_str(before_head);
        // For the app's scripts that add inline styles (Inertia's progress bar takes a
        // `nonce`), as Rails' `csp_meta_tag`.
        if let Some(nonce) = nonce {
            let _ = writeln!(out, "<meta name=\"csp-nonce\" content=\"{nonce}\">");
        }
        for css in &client.css {
            let _ = writeln!(out, "<link rel=\"stylesheet\" href=\"{ASSET_PREFIX}{css}\">");
        }
        for file in std::iter::once(&client.file).chain(&client.imports) {
            let _ = writeln!(out, "<link rel=\"modulepreload\" href=\"{ASSET_PREFIX}{file}\">");
        }
        push_with_nonce(&mut out, &rendered.head, nonce);
        out.push_str(between);
        push_with_nonce(&mut out, &rendered.body, nonce);
        let _ = write!(
            out,
            "\n<script type=\"module\" src=\"{ASSET_PREFIX}{}\"{}></script>",
            client.file,
            csp::attribute(nonce)
        );
        if self.dev_client {
            out.push('\n');
            out.push_str(&dev_client_tag(nonce));
        }
        out.push_str(after_body);
        out
    }
}

/// What components get from `getContext('fymo:nonce')` (js/ssr-host.js) and write as a
/// `nonce` attribute's value, quoted or not (mode-watcher writes `nonce=…`).
const NONCE_MARK: &str = "%fymo.nonce%";

/// Appends rendered HTML with this response's nonce in place of [`NONCE_MARK`] where it
/// is a `nonce` attribute's value (an empty nonce when there is no policy): text that
/// merely mentions the mark stays as written.
fn push_with_nonce(out: &mut String, html: &str, nonce: Option<&str>) {
    let mut rest = html;
    while let Some(at) = memchr::memmem::find(rest.as_bytes(), NONCE_MARK.as_bytes()) {
        let before = &rest[..at];
        out.push_str(before);
        let attribute = before.ends_with("nonce=\"") || before.ends_with("nonce=");
        out.push_str(if attribute { nonce.unwrap_or_default() } else { NONCE_MARK });
        rest = &rest[at + NONCE_MARK.len()..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_mark_becomes_the_response_nonce_in_attributes_only() {
        let mut out = String::new();
        push_with_nonce(&mut out, "<script nonce=\"%fymo.nonce%\"></script>%fymo.nonce%", Some("abc"));
        assert_eq!(out, "<script nonce=\"abc\"></script>%fymo.nonce%");
        out.clear();
        push_with_nonce(&mut out, "<script nonce=%fymo.nonce%>(", Some("abc"));
        assert_eq!(out, "<script nonce=abc>(");
        out.clear();
        push_with_nonce(&mut out, "<style nonce=\"%fymo.nonce%\">", None);
        assert_eq!(out, "<style nonce=\"\">");
    }

    #[test]
    fn escapes_the_four_characters_and_keeps_the_rest() {
        assert_eq!(escape_html(r#"a<b>&"c"é—"#), "a&lt;b&gt;&amp;&quot;c&quot;é—");
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("plain"), "plain");
    }

    #[test]
    fn a_single_quoted_attribute_keeps_double_quotes() {
        let mut out = String::new();
        escape_single_quoted_into(&mut out, r#"{"a":"it's </script> & é"}"#);
        assert_eq!(out, r#"{"a":"it&#39;s &lt;/script&gt; &amp; é"}"#);
    }
}
