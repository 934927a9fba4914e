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
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
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
    /// `data-page` attribute as Inertia expects, and the module script that calls
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
        let nonce_attr = csp::attribute(nonce);
        let entries: Vec<_> =
            layouts.iter().copied().chain(std::iter::once(page)).filter_map(|c| manifest.components.get(c)).collect();
        // The hydration target must not box its content; a stylesheet rule rather than a
        // `style` attribute, which a strict CSP would refuse.
        let mut head = format!("<style{nonce_attr}>#__fymo{{display:contents}}</style>\n");
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
        let layout_urls: Vec<String> = layouts.iter().filter_map(|l| manifest.components.get(*l)).map(import).collect();
        let mut body = format!("<div id=\"__fymo\" data-page=\"{}\">{}</div>\n", escape_html(page_json), rendered.body);
        if let Some(page_url) = page_url {
            body.push_str(&format!(
                "<script type=\"module\"{nonce_attr}>\nimport {{ start }} from \"{}\";\nimport Page from \"{page_url}\";\n{}start(Page{});\n</script>",
                import(client),
                layout_urls.iter().enumerate().map(|(i, u)| format!("import L{i} from \"{u}\";\n")).collect::<String>(),
                if layout_urls.is_empty() {
                    String::new()
                } else {
                    format!(", [{}]", (0..layout_urls.len()).map(|i| format!("L{i}")).collect::<Vec<_>>().join(", "))
                },
            ));
        }
        if self.dev_client {
            body.push('\n');
            body.push_str(&dev_client_tag(nonce));
        }
        self.shell.fill(&head, &body)
    }
}
