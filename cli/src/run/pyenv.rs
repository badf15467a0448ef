//! Finding the user's Python for `fledge run` and checking that it can run the worker.
//!
//! Order: `[tool.fledge] python` (a path, relative to the project root, or a command on PATH), then
//! `$VIRTUAL_ENV/bin/python`, then `.venv/bin/python` under the project root, then `python3` on PATH.

use fledge_core::project::Config;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The oldest flytekit the worker supports. It relies on `PythonTask.dispatch_execute` wrapping the
/// user's exception in `FlyteUserRuntimeException` outside local execution (flytekit PR #2671) and on
/// `FlyteNonRecoverableSystemException` for values that do not convert (PR #2700), both merged in
/// August 2024 and first released in the 1.14 series.
pub const MIN_FLYTEKIT: (u32, u32, u32) = (1, 14, 0);

/// Where the interpreter came from (shown to the user with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonSource {
    /// `[tool.fledge] python`.
    Config,
    /// `$VIRTUAL_ENV`.
    VirtualEnv,
    /// `.venv/` in the project.
    DotVenv,
    /// `python3` on PATH.
    Path,
}

impl fmt::Display for PythonSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PythonSource::Config => "[tool.fledge] python",
            PythonSource::VirtualEnv => "$VIRTUAL_ENV",
            PythonSource::DotVenv => ".venv",
            PythonSource::Path => "python3 on PATH",
        })
    }
}

/// A usable interpreter with flytekit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonEnv {
    pub python: PathBuf,
    pub source: PythonSource,
    /// e.g. `3.11.7`.
    pub python_version: String,
    /// e.g. `1.16.31`.
    pub flytekit_version: String,
}

/// Why no usable Python was found; the messages say what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PyEnvError {
    /// The configured or expected interpreter does not exist.
    NotFound { tried: Vec<String> },
    /// The interpreter does not run (or did not answer in time).
    Broken { python: PathBuf, detail: String },
    /// flytekit is not installed in that interpreter.
    NoFlytekit { python: PathBuf },
    /// flytekit is older than `MIN_FLYTEKIT`.
    TooOld { python: PathBuf, version: String },
}

impl fmt::Display for PyEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = MIN_FLYTEKIT;
        match self {
            PyEnvError::NotFound { tried } => write!(
                f,
                "no Python found for `fledge run` (tried {}); set `python = \"path/to/python\"` under [tool.fledge] in pyproject.toml, or activate a virtualenv",
                tried.join(", ")
            ),
            PyEnvError::Broken { python, detail } => write!(f, "{} does not run: {detail}", python.display()),
            PyEnvError::NoFlytekit { python } => write!(
                f,
                "flytekit is not installed in {0}; install flytekit in {0} (`{0} -m pip install flytekit`)",
                python.display()
            ),
            PyEnvError::TooOld { python, version } => write!(
                f,
                "flytekit {version} in {0} is too old for `fledge run` (needs {a}.{b}.{c} or newer); upgrade it with `{0} -m pip install -U flytekit`",
                python.display()
            ),
        }
    }
}

impl std::error::Error for PyEnvError {}

/// Finds the interpreter (without running it).
pub fn find_python(root: &Path, config: &Config) -> Result<(PathBuf, PythonSource), PyEnvError> {
    find_python_with(root, config, std::env::var_os("VIRTUAL_ENV"), std::env::var_os("PATH"))
}

fn find_python_with(
    root: &Path,
    config: &Config,
    virtual_env: Option<std::ffi::OsString>,
    path_var: Option<std::ffi::OsString>,
) -> Result<(PathBuf, PythonSource), PyEnvError> {
    if let Some(configured) = config.python.as_deref().filter(|p| !p.trim().is_empty()) {
        let p = Path::new(configured);
        let candidate = if p.components().count() > 1 || p.is_absolute() {
            Some(root.join(p)) // `join` keeps an absolute path as is
        } else {
            search_path(configured, path_var.as_deref()).or_else(|| Some(root.join(p)).filter(|c| c.is_file()))
        };
        return match candidate.filter(|c| c.is_file()) {
            Some(c) => Ok((c, PythonSource::Config)),
            None => Err(PyEnvError::NotFound { tried: vec![format!("`{configured}` from [tool.fledge] python")] }),
        };
    }
    let mut tried = Vec::new();
    if let Some(venv) = virtual_env.filter(|v| !v.is_empty()) {
        let c = PathBuf::from(&venv).join("bin").join("python");
        if c.is_file() {
            return Ok((c, PythonSource::VirtualEnv));
        }
        tried.push(format!("{} from $VIRTUAL_ENV", c.display()));
    }
    let dot_venv = root.join(".venv").join("bin").join("python");
    if dot_venv.is_file() {
        return Ok((dot_venv, PythonSource::DotVenv));
    }
    tried.push(dot_venv.display().to_string());
    if let Some(c) = search_path("python3", path_var.as_deref()) {
        return Ok((c, PythonSource::Path));
    }
    tried.push("python3 on PATH".into());
    Err(PyEnvError::NotFound { tried })
}

fn search_path(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path_var?).map(|d| d.join(name)).find(|c| c.is_file())
}

/// Finds the interpreter and checks its flytekit.
pub fn detect(root: &Path, config: &Config) -> Result<PythonEnv, PyEnvError> {
    let (python, source) = find_python(root, config)?;
    probe(&python, source)
}

/// Runs the interpreter once to read its version and flytekit's (from package metadata: no import).
pub fn probe(python: &Path, source: PythonSource) -> Result<PythonEnv, PyEnvError> {
    const SCRIPT: &str = "import sys\ntry:\n    from importlib.metadata import version\n    fk = version('flytekit')\nexcept Exception:\n    fk = ''\nprint('%d.%d.%d' % sys.version_info[:3], fk)\n";
    let broken = |detail: String| PyEnvError::Broken { python: python.to_path_buf(), detail };
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| broken(e.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(broken("it did not answer within 30s".into()));
            }
            Err(e) => return Err(broken(e.to_string())),
        }
    }
    let out = child.wait_with_output().map_err(|e| broken(e.to_string()))?;
    if !out.status.success() {
        return Err(broken(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let python_version = parts.next().unwrap_or_default().to_string();
    let flytekit_version = parts.next().unwrap_or_default().to_string();
    if flytekit_version.is_empty() {
        return Err(PyEnvError::NoFlytekit { python: python.to_path_buf() });
    }
    if !version_at_least(&flytekit_version, MIN_FLYTEKIT) {
        return Err(PyEnvError::TooOld { python: python.to_path_buf(), version: flytekit_version });
    }
    Ok(PythonEnv { python: python.to_path_buf(), source, python_version, flytekit_version })
}

/// `1.16.31`, `1.14.0b2`, `1.15.0.dev3+g12ab` compared by their leading numbers. Pre-releases of the
/// minimum count as the minimum; an unparsable version is accepted (the worker will say if it fails).
fn version_at_least(version: &str, min: (u32, u32, u32)) -> bool {
    let mut nums = version.split(['.', '+', '-']).map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let (Some(Some(a)), b, c) = (nums.next(), nums.next().flatten(), nums.next().flatten()) else {
        return true;
    };
    (a, b.unwrap_or(0), c.unwrap_or(0)) >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_numbers() {
        assert!(version_at_least("1.16.31", (1, 14, 0)));
        assert!(version_at_least("1.14.0b2", (1, 14, 0)));
        assert!(version_at_least("2.0", (1, 14, 0)));
        assert!(!version_at_least("1.13.9", (1, 14, 0)));
        assert!(!version_at_least("0.32.6", (1, 14, 0)));
    }

    #[test]
    fn python_is_found_in_the_documented_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        let exe = |rel: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
            p
        };
        let on_path = exe("bin/python3");
        let path_var = Some(dir.path().join("bin").into_os_string());
        let find = |config: &Config, venv: Option<&Path>| {
            find_python_with(&root, config, venv.map(|v| v.as_os_str().to_owned()), path_var.clone())
        };
        let mut config = Config::default();
        assert_eq!(find(&config, None), Ok((on_path.clone(), PythonSource::Path)));
        let dot_venv = exe("proj/.venv/bin/python");
        assert_eq!(find(&config, None), Ok((dot_venv.clone(), PythonSource::DotVenv)));
        let venv_python = exe("env/bin/python");
        assert_eq!(find(&config, Some(&dir.path().join("env"))), Ok((venv_python, PythonSource::VirtualEnv)));
        let configured = exe("proj/tools/py");
        config.python = Some("tools/py".into());
        assert_eq!(find(&config, Some(&dir.path().join("env"))), Ok((configured, PythonSource::Config)));
        config.python = Some("python3".into()); // a bare name is looked up on PATH
        assert_eq!(find(&config, None), Ok((on_path, PythonSource::Config)));
        config.python = Some("tools/missing".into());
        let err = find(&config, None).unwrap_err();
        assert!(err.to_string().contains("`tools/missing` from [tool.fledge] python"), "{err}");
        let _ = dot_venv;
    }
}
