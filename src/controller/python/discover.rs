//! Finding Python controllers: `controllers/a/b.py` -> `a.b`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every `controllers/**/*.py` under `root` by controller name. Files and folders whose
/// name starts with `_` or `.` (`__init__.py`, `__pycache__`) are helpers, not controllers,
/// except `_layout.py`: the controller of that folder's layout (`docs._layout`).
pub(crate) fn discover(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    walk(&root.join("controllers"), &mut Vec::new(), &mut found);
    found
}

fn walk(dir: &Path, prefix: &mut Vec<String>, found: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if (name.starts_with('_') && name != "_layout.py") || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            prefix.push(name);
            walk(&path, prefix, found);
            prefix.pop();
        } else if let Some(stem) = name.strip_suffix(".py") {
            let mut parts = prefix.clone();
            parts.push(stem.to_owned());
            found.insert(parts.join("."), path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_paths_to_dotted_names_and_skips_helpers() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "controllers/a/b.py",
            "controllers/top.py",
            "controllers/__init__.py",
            "controllers/_util.py",
            "controllers/x.rs",
            "controllers/a/_layout.py",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let names: Vec<_> = discover(dir.path()).into_keys().collect();
        assert_eq!(names, ["a._layout", "a.b", "top"]);
    }
}
