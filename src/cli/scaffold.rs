//! `fymo new DIR`: a small app that runs with the plain `fymo` binary (a layout, a page
//! with a Python controller, a counter, the shell).

use std::path::Path;

const FILES: &[(&str, &str)] = &[
    (
        "routes.yml",
        "# Routes: see the routes.yml section of Fymo's README.\nroot: home\nroutes:\n  /counter: counter\nlayout: layouts/main.svelte\n",
    ),
    (
        "templates/app.html",
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n%fymo.head%\n</head>\n<body>\n%fymo.body%\n</body>\n</html>\n",
    ),
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
    (
        "controllers/home.py",
        "\"\"\"GET /: the props of templates/home.svelte.\"\"\"\n\nvisits = 0\n\n\ndef get_context(request):\n    global visits\n    visits += 1\n    return {\"title\": \"Hello from Fymo\", \"visits\": visits}\n",
    ),
    (
        "svelte.config.js",
        "// Svelte compiler options for every template, on the server and in the browser\n// (as in SvelteKit): css, cssHash, runes, preserveWhitespace, experimental.async, ...\n// `fymo dev` rebuilds everything when this file changes.\nexport default {\n\tcompilerOptions: {\n\t\t// `await` in markup and scripts; each render is awaited on the server.\n\t\texperimental: { async: true }\n\t}\n};\n",
    ),
    (".gitignore", ".fymo/\n__pycache__/\nnode_modules/\n"),
];

/// `package.json`: an ES module package (as svelte.config.js is written) that pins the
/// Svelte Fymo builds with, so `npm install bits-ui` brings in that one.
fn package_json(dir: &Path) -> String {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("app");
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let package = serde_json::json!({
        "name": name,
        "private": true,
        "type": "module",
        "dependencies": { "svelte": crate::build::svelte_version() },
    });
    format!("{}\n", serde_json::to_string_pretty(&package).expect("JSON"))
}

/// `fymo.yml` with a fresh secret.
fn app_file() -> String {
    format!(
        "# App settings. The secret signs and encrypts session cookies: keep it out of version\n# control for production and set FYMO_SECRET there instead (`fymo secret` prints a new one).\nsecret: {}\n",
        crate::controller::random_token()
    )
}

/// Writes the starter app into `dir`, which must not exist or be empty.
///
/// # Errors
/// A non-empty `dir`, or I/O errors.
pub(super) fn scaffold(dir: &Path) -> anyhow::Result<()> {
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        anyhow::bail!("{} exists and is not empty", dir.display());
    }
    for (rel, contents) in FILES {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("files live in a directory"))?;
        std::fs::write(&path, contents)?;
    }
    std::fs::write(dir.join(crate::config::APP_FILE), app_file())?;
    std::fs::write(dir.join("package.json"), package_json(dir))?;
    Ok(())
}
