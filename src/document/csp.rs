//! Content-Security-Policy for pages: a fresh nonce per response on every inline script
//! and style Fymo writes, and a policy that allows only those, the site's own files and
//! inline `style` attributes (Svelte renders `style:` directives as attributes).

use std::collections::BTreeMap;

use crate::config::CspSetting;

/// The defaults; `{nonce}` is this response's nonce source (`'nonce-…'`).
const DEFAULTS: &[(&str, &str)] = &[
    ("default-src", "'self'"),
    ("script-src", "'self' {nonce}"),
    ("style-src", "'self' {nonce}"),
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'self'"),
];

/// The policy of one app, ready to fill with a nonce.
#[derive(Debug, Clone)]
pub(crate) struct Csp {
    /// The header with `{nonce}` placeholders; `None` when turned off.
    template: Option<String>,
}

impl Csp {
    /// The policy `csp:` in `fymo.yml` asks for.
    pub(crate) fn new(setting: &CspSetting) -> Self {
        let mut directives: BTreeMap<String, String> =
            DEFAULTS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        match setting {
            CspSetting::Enabled(false) => return Self { template: None },
            CspSetting::Enabled(true) => {}
            CspSetting::Directives(over) => directives.extend(over.clone()),
        }
        let order = |k: &str| DEFAULTS.iter().position(|(d, _)| *d == k).unwrap_or(usize::MAX);
        let mut list: Vec<_> = directives.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
        list.sort_by_key(|(k, _)| order(k));
        let template = list.into_iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join("; ");
        Self { template: Some(template) }
    }

    /// A fresh nonce for one response, when there is a policy.
    pub(crate) fn nonce(&self) -> Option<String> {
        self.template.as_ref().map(|_| {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("the OS random number generator");
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            bytes
                .iter()
                .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
                .map(char::from)
                .collect()
        })
    }

    /// The header value for a response whose inline tags carry `nonce`.
    pub(crate) fn header(&self, nonce: &str) -> Option<String> {
        self.template.as_ref().map(|t| t.replace("{nonce}", &format!("'nonce-{nonce}'")))
    }
}

/// ` nonce="…"` for a tag, or nothing.
pub(crate) fn attribute(nonce: Option<&str>) -> String {
    nonce.map(|n| format!(" nonce=\"{n}\"")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_off() {
        let csp = Csp::new(&CspSetting::Enabled(true));
        let nonce = csp.nonce().unwrap();
        assert_eq!(nonce.len(), 32);
        assert_ne!(csp.nonce().unwrap(), nonce, "fresh per response");
        let header = csp.header("abc").unwrap();
        assert!(header.starts_with("default-src 'self'; script-src 'self' 'nonce-abc'"), "{header}");
        let over = CspSetting::Directives([("img-src".to_owned(), "'self' https://cdn.test".to_owned())].into());
        assert!(Csp::new(&over).header("x").unwrap().contains("img-src 'self' https://cdn.test;"));
        let off = Csp::new(&CspSetting::Enabled(false));
        assert!(off.nonce().is_none() && off.header("x").is_none());
    }
}
