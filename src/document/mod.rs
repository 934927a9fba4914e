//! The HTML document around a rendered page: the shell, head tags, serialized props and
//! the module script that hydrates the page.

mod serialize;
mod shell;

pub use serialize::serialize_props;
pub use shell::{Shell, ShellError};

use crate::build::Manifest;
use crate::engine::Rendered;

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Where client files are served from.
pub const ASSET_PREFIX: &str = "/_fymo/";

/// Builds the HTML document for a rendered page.
#[derive(Debug, Clone)]
pub struct Document {
    shell: Shell,
    live_reload: bool,
}

impl Document {
    /// A document builder around `shell`; `live_reload` adds the dev client.
    pub fn new(shell: Shell, live_reload: bool) -> Self {
        Self { shell, live_reload }
    }

    /// Assembles the page: CSS and modulepreload links, Svelte's head, the body inside the
    /// hydration target, the props, and the module script that calls `hydrate()`.
    pub fn render(
        &self,
        manifest: &Manifest,
        page: &str,
        layout: Option<&str>,
        rendered: &Rendered,
        props: &serde_json::Value,
    ) -> String {
        let entries: Vec<_> =
            layout.into_iter().chain(std::iter::once(page)).filter_map(|c| manifest.components.get(c)).collect();
        let mut head = String::new();
        let mut seen = std::collections::BTreeSet::new();
        for css in entries.iter().flat_map(|e| &e.css) {
            if seen.insert(css) {
                head.push_str(&format!("<link rel=\"stylesheet\" href=\"{ASSET_PREFIX}{css}\">\n"));
            }
        }
        let client = &manifest.client;
        let modules = std::iter::once(client).chain(entries.iter().copied());
        for file in modules.flat_map(|e| std::iter::once(&e.file).chain(&e.imports)) {
            if seen.insert(file) {
                head.push_str(&format!("<link rel=\"modulepreload\" href=\"{ASSET_PREFIX}{file}\">\n"));
            }
        }
        head.push_str(&rendered.head);

        let import = |e: &crate::build::Entry| format!("{ASSET_PREFIX}{}", e.file);
        let page_url = manifest.components.get(page).map(import);
        let layout_url = layout.and_then(|l| manifest.components.get(l)).map(import);
        let mut body = format!("<div id=\"__fymo\" style=\"display:contents\">{}</div>\n", rendered.body);
        body.push_str(&format!(
            "<script type=\"application/json\" id=\"__fymo_props\">{}</script>\n",
            serialize_props(props)
        ));
        if let Some(page_url) = page_url {
            body.push_str(&format!(
                "<script type=\"module\">\nimport {{ start }} from \"{}\";\nimport Page from \"{page_url}\";\n{}start(Page{});\n</script>",
                import(client),
                layout_url.as_ref().map(|u| format!("import Layout from \"{u}\";\n")).unwrap_or_default(),
                if layout_url.is_some() { ", Layout" } else { "" },
            ));
        }
        if self.live_reload {
            body.push_str(&format!("\n<script type=\"module\" src=\"{}\"></script>", crate::dev::CLIENT_PATH));
        }
        self.shell.fill(&head, &body)
    }
}
