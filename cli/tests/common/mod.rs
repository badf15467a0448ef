//! Helpers shared by the tests that run user code with real flytekit (run, watch, worker).

use std::path::{Path, PathBuf};

/// The Python with the pinned flytekit: `FLEDGE_TEST_PYTHON`, else the venv that
/// `scripts/setup-python.sh` creates. Without either the test fails (it never passes silently).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("FLEDGE_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let venv = home.join(".cache/fledge-dev/venv-flytekit-1.16.31/bin/python");
    assert!(
        venv.is_file(),
        "no Python with flytekit for these tests: set FLEDGE_TEST_PYTHON or run scripts/setup-python.sh (expected {})",
        venv.display()
    );
    venv
}

/// Copy a fixture project, leaving out caches (`.fledge`, `__pycache__`).
#[allow(dead_code)] // not every test binary copies projects
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == ".fledge" || name == "__pycache__" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
