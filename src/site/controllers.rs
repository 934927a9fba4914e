//! [`Controllers`]: every controller of the app in one table, built once per load with
//! its language, so a request looks a controller up exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::controller::python::{self, PythonController, PythonPool};
use crate::controller::{Controller, Language, Registry};

/// The app's controllers by name: Rust ones from the [`crate::App`], Python ones from
/// `controllers/**/*.py` (a Rust controller wins over a Python file of the same name).
#[derive(Clone, Default)]
pub(crate) struct Controllers {
    table: BTreeMap<String, (Arc<dyn Controller>, Language)>,
    rust: Registry,
}

/// The names and languages of an app's controllers, before any Python pool exists:
/// enough to validate `routes.yml` (the master process and `fymo routes` need no more).
#[derive(Debug, Clone)]
pub(crate) struct ControllerNames {
    rust: Vec<String>,
    python: BTreeMap<String, PathBuf>,
}

impl ControllerNames {
    /// Scans `root/controllers` once for Python files.
    pub(crate) fn discover(root: &Path, rust: &Registry) -> Self {
        Self { rust: rust.rust_names().map(str::to_owned).collect(), python: python::discover(root) }
    }

    /// The language serving controller `name`, if any.
    pub(crate) fn language_of(&self, name: &str) -> Option<Language> {
        if self.rust.iter().any(|n| n == name) {
            Some(Language::Rust)
        } else {
            self.python.contains_key(name).then_some(Language::Python)
        }
    }

    /// Whether any controller is written in Python (the app needs a Python pool).
    pub(crate) fn has_python(&self) -> bool {
        self.python.keys().any(|name| self.language_of(name) == Some(Language::Python))
    }
}

impl std::fmt::Debug for Controllers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.table.iter().map(|(name, (_, language))| (name, language))).finish()
    }
}

impl Controllers {
    /// The table for `names`: the Rust controllers of `rust`, and a Python controller
    /// served by `pool` for every Python file no Rust controller shadows.
    pub(crate) fn new(names: &ControllerNames, rust: &Registry, pool: Option<&PythonPool>) -> Self {
        let mut table = BTreeMap::new();
        for name in &names.rust {
            if let Some(controller) = rust.rust(name) {
                table.insert(name.clone(), (controller, Language::Rust));
            }
        }
        if let Some(pool) = pool {
            for (name, file) in &names.python {
                table.entry(name.clone()).or_insert_with(|| {
                    let controller: Arc<dyn Controller> =
                        Arc::new(PythonController::new(name, file.clone(), pool.clone()));
                    (controller, Language::Python)
                });
            }
        }
        Self { table, rust: rust.clone() }
    }

    /// The path parameters controller `name` prerenders (`fymo export`).
    ///
    /// # Errors
    /// When the controller fails to list them.
    pub(crate) async fn entries(
        &self,
        name: &str,
    ) -> Result<Vec<serde_json::Value>, crate::controller::ControllerError> {
        if let Some(entries) = self.rust.entries(name) {
            return Ok(entries);
        }
        match self.get(name) {
            Some(controller) => controller.entries().await,
            None => Ok(Vec::new()),
        }
    }

    /// The controller called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Controller>> {
        self.table.get(name).map(|(controller, _)| controller)
    }
}
