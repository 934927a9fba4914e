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

/// Runs every check, prints one line each; `true` when all passed.
pub(super) fn doctor(app: &App, root: &Path) -> bool {
    let tools = NodeTools::locate(root);
    let node_ok = |v: &String| {
        v.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= 18)
    };
    let checks: Vec<(&str, Result<String, String>)> = vec![
        (
            "node (18 or newer)",
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
