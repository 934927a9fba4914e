//! `fymo new DIR`: a small app that runs with the plain `fymo` binary (a layout, a page
//! with a Python controller, a counter, the shell). `fymo new --inertia DIR`: the same app
//! driven by Inertia's own Svelte adapter (its `client.js` and `ssr.js`).

use std::path::Path;

/// The @inertiajs/svelte an Inertia app is pinned to: the version tests/inertia runs.
pub(crate) const INERTIA_SVELTE: &str = "3.7.1";

const SHELL: (&str, &str) = (
    "templates/app.html",
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n%fymo.head%\n</head>\n<body>\n%fymo.body%\n</body>\n</html>\n",
);

const HOME_CONTROLLER: (&str, &str) = (
    "controllers/home.py",
    "\"\"\"GET /: the props of the home page.\"\"\"\n\nvisits = 0\n\n\ndef get_context(request):\n    global visits\n    visits += 1\n    return {\"title\": \"Hello from Fymo\", \"visits\": visits}\n",
);

const GITIGNORE: (&str, &str) = (".gitignore", ".fymo/\n__pycache__/\nnode_modules/\n");

/// The Inertia app: pages are Inertia's components (named as in `routes.yml`), `Layout`
/// wraps each (createInertiaApp's `layout`), `<Link>` navigates.
const INERTIA_FILES: &[(&str, &str)] = &[
    SHELL,
    HOME_CONTROLLER,
    GITIGNORE,
    (
        "routes.yml",
        "# Routes: see the routes.yml section of Fymo's README. A template is an Inertia page\n# component, by its name under templates/.\nroutes:\n  /:\n    controller: home\n    template: Home\n  /counter: Counter\n",
    ),
    (
        "client.js",
        "// The browser's entry (Inertia's client-side setup). `fymo:pages` is every template's\n// module by name.\nimport { createInertiaApp } from '@inertiajs/svelte';\nimport pages from 'fymo:pages';\n\ncreateInertiaApp({\n\tresolve: (name) => pages[name],\n\tlayout: () => pages.Layout.default,\n\t// Pages carry a Content-Security-Policy: Inertia's progress bar styles need its nonce.\n\tnonce: document.querySelector('meta[name=\"csp-nonce\"]')?.content\n});\n",
    ),
    (
        "ssr.js",
        "// The server's entry (Inertia's SSR setup): Fymo runs it in its engines, in process.\nimport { createInertiaApp } from '@inertiajs/svelte';\nimport createServer from '@inertiajs/svelte/server';\nimport { render } from 'svelte/server';\nimport pages from 'fymo:pages';\n\ncreateServer((page) =>\n\tcreateInertiaApp({\n\t\tpage,\n\t\tresolve: (name) => pages[name],\n\t\tlayout: () => pages.Layout.default,\n\t\tsetup: ({ App, props }) => render(App, { props })\n\t})\n);\n",
    ),
    (
        "templates/Layout.svelte",
        "<script>\n\timport { Link } from '@inertiajs/svelte';\n\tlet { children } = $props();\n</script>\n\n<nav><Link href=\"/\">Home</Link> <Link href=\"/counter\">Counter</Link></nav>\n<main>{@render children()}</main>\n\n<style>\n\tmain {\n\t\tpadding: 1rem;\n\t}\n</style>\n",
    ),
    (
        "templates/Home.svelte",
        "<script>\n\tlet { title, visits } = $props();\n</script>\n\n<svelte:head>\n\t<title>{title}</title>\n</svelte:head>\n\n<h1>{title}</h1>\n<p>Props from <code>controllers/home.py</code>: {visits} visit(s) so far in this worker.</p>\n",
    ),
    (
        "templates/Counter.svelte",
        "<script>\n\tlet count = $state(0);\n\tlet doubled = $derived(count * 2);\n</script>\n\n<button onclick={() => count++}>{count} (doubled: {doubled})</button>\n",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "routes.yml",
        "# Routes: see the routes.yml section of Fymo's README.\nroot: home\nroutes:\n  /counter: counter\nlayout: layouts/main.svelte\n",
    ),
    SHELL,
    (
        "templates/layouts/main.svelte",
        "<script>\n\tlet { children } = $props();\n</script>\n\n<nav><a href=\"/\">Home</a> <a href=\"/counter\">Counter</a></nav>\n<main>{@render children()}</main>\n\n<style>\n\tmain {\n\t\tpadding: 1rem;\n\t}\n</style>\n",
    ),
    (
        "templates/home.svelte",
        "<script>\n\tlet { title, visits } = $props();\n</script>\n\n<svelte:head>\n\t<title>{title}</title>\n</svelte:head>\n\n<h1>{title}</h1>\n<p>Props from <code>controllers/home.py</code>: {visits} visit(s) so far in this worker.</p>\n",
    ),
    (
        "templates/counter.svelte",
        "<script>\n\tlet count = $state(0);\n\tlet doubled = $derived(count * 2);\n</script>\n\n<button onclick={() => count++}>{count} (doubled: {doubled})</button>\n",
    ),
    HOME_CONTROLLER,
    (
        "svelte.config.js",
        "// Svelte compiler options for every template, on the server and in the browser\n// (as in SvelteKit): css, cssHash, runes, preserveWhitespace, experimental.async, ...\n// `fymo dev` rebuilds everything when this file changes.\nexport default {\n\tcompilerOptions: {\n\t\t// `await` in markup and scripts; each render is awaited on the server.\n\t\texperimental: { async: true }\n\t}\n};\n",
    ),
    GITIGNORE,
];

/// `package.json`: an ES module package (as svelte.config.js is written) that pins the
/// Svelte Fymo builds with, so `npm install bits-ui` brings in that one (and, for an
/// Inertia app, Inertia's adapter).
fn package_json(dir: &Path, inertia: bool) -> String {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("app");
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let mut dependencies = serde_json::json!({ "svelte": crate::build::svelte_version() });
    if inertia {
        dependencies["@inertiajs/svelte"] = INERTIA_SVELTE.into();
    }
    let package = serde_json::json!({ "name": name, "private": true, "type": "module", "dependencies": dependencies });
    format!("{}\n", serde_json::to_string_pretty(&package).expect("JSON"))
}

/// `fymo.yml` with a fresh secret.
fn app_file() -> String {
    format!(
        "# App settings. The secret signs and encrypts session cookies: keep it out of version\n# control for production and set FYMO_SECRET there instead (`fymo secret` prints a new one).\nsecret: {}\n",
        crate::controller::random_token()
    )
}

/// Writes the starter app into `dir`, which must not exist or be empty; `inertia`: the
/// Inertia one.
///
/// # Errors
/// A non-empty `dir`, or I/O errors.
pub(super) fn scaffold(dir: &Path, inertia: bool) -> anyhow::Result<()> {
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        anyhow::bail!("{} exists and is not empty", dir.display());
    }
    for (rel, contents) in if inertia { INERTIA_FILES } else { FILES } {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("files live in a directory"))?;
        std::fs::write(&path, contents)?;
    }
    std::fs::write(dir.join(crate::config::APP_FILE), app_file())?;
    std::fs::write(dir.join("package.json"), package_json(dir, inertia))?;
    Ok(())
}
