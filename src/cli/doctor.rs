//! `fymo doctor`: checks what Fymo needs on this machine and in this app.

use std::path::Path;
use std::process::Command;

use crate::build::{self, Manifest, NodeTools};
use crate::site;
use crate::App;

fn version_of(program: &str, arg: &str) -> Result<String, String> {
    match Command::new(program).arg(arg).output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        Ok(out) => Err(format!("`{program} {arg}` failed ({})", out.status)),
        Err(e) => Err(format!("`{program}` not found ({e})")),
    }
}

/// The Svelte Fymo's runtime works with; node-tools/svelte-compiler.mjs refuses others.
const SVELTE_SUPPORTED: (u32, u32, u32) = (5, 39, 0);

/// The Svelte the app builds with (node-tools/svelte-compiler.mjs decides the same way):
/// the one `svelte` resolves to from the app (its own node_modules or an ancestor's), else
/// node-tools' own; an error for a version outside the supported range.
fn svelte_of(root: &Path, tools: &NodeTools) -> Result<String, String> {
    let app = root.ancestors().map(|dir| dir.join("node_modules/svelte/package.json")).find(|p| p.is_file());
    let (file, whose) = match app {
        Some(file) => (file, "the app's"),
        None => (tools.dir().join("node_modules/svelte/package.json"), "Fymo's own"),
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let package: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let version = package["version"].as_str().unwrap_or("?").to_owned();
    let parts: Vec<u32> = version.split(['.', '-']).take(3).filter_map(|p| p.parse().ok()).collect();
    let (major, minor, patch) = SVELTE_SUPPORTED;
    let supported = matches!(parts[..], [m, n, p] if m == major && (n, p) >= (minor, patch));
    if supported {
        Ok(format!("{version} ({whose}, {})", file.parent().unwrap_or(root).display()))
    } else {
        Err(format!(
            "{version} in {} is not supported: Fymo needs svelte >={major}.{minor}.{patch} <{} (npm install svelte@{major})",
            file.display(),
            major + 1
        ))
    }
}

/// Runs every check, prints one line each; `true` when all passed.
pub(super) fn doctor(app: &App, root: &Path) -> bool {
    let tools = NodeTools::locate(root);
    let node_ok = |v: &String| {
        v.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= 20)
    };
    let checks: Vec<(&str, Result<String, String>)> = vec![
        (
            "node (20 or newer)",
            version_of("node", "--version")
                .and_then(|v| if node_ok(&v) { Ok(v) } else { Err(format!("{v} is too old")) }),
        ),
        ("npm", version_of("npm", "--version")),
        ("python3 (for Python controllers)", version_of("python3", "--version")),
        (
            "node-tools packages",
            if tools.is_installed() {
                Ok(tools.dir().display().to_string())
            } else {
                Err(format!("missing in {}: the first build runs `npm ci` there", tools.dir().display()))
            },
        ),
        ("svelte (the app's, else Fymo's)", svelte_of(root, &tools)),
        (
            "routes.yml",
            site::load_routes(root, app).map(|t| format!("{} routes", t.routes().len())).map_err(|e| e.to_string()),
        ),
        (
            "build output",
            Manifest::load(&build::output_dir(root))
                .map(|m| format!("version {}, {} components", m.version, m.components.len()))
                .map_err(|e| e.to_string()),
        ),
    ];
    let mut all_ok = true;
    for (what, result) in checks {
        match result {
            Ok(detail) => println!("ok    {what}: {detail}"),
            Err(problem) => {
                all_ok = false;
                println!("FAIL  {what}: {problem}");
            }
        }
    }
    all_ok
}
