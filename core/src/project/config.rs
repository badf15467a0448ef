//! `[tool.fledge]` in pyproject.toml.

use crate::diagnostic::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// User configuration; every field has a sensible default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// Glob patterns (relative to the project root) of files to check; empty = all `.py` files.
    pub include: Vec<String>,
    /// Glob patterns of files or folders to skip, on top of the built-in ones (.venv, build, ...).
    pub exclude: Vec<String>,
    /// Rule codes to report; empty = all rules.
    pub select: Vec<String>,
    /// Rule codes never to report.
    pub ignore: Vec<String>,
    /// Per-rule severity overrides.
    pub severity: BTreeMap<String, Severity>,
    /// Extra folders (relative to the root) where top-level modules live.
    pub src: Vec<PathBuf>,
    /// The Python interpreter for `fledge run` (not used by checks).
    pub python: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    src: Vec<PathBuf>,
    #[serde(default)]
    python: Option<String>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tools>,
}

#[derive(Deserialize)]
struct Tools {
    fledge: Option<toml::Value>,
}

impl Config {
    /// Read `[tool.fledge]` from the text of a pyproject.toml. Missing section = defaults.
    pub fn from_pyproject(text: &str) -> Result<Config, String> {
        let py: PyProject = toml::from_str(text).map_err(|e| format!("pyproject.toml is not valid TOML: {e}"))?;
        let Some(value) = py.tool.and_then(|t| t.fledge) else {
            return Ok(Config::default());
        };
        let raw: RawConfig = value.try_into().map_err(|e| format!("invalid [tool.fledge]: {e}"))?;
        let mut severity = BTreeMap::new();
        for (code, s) in raw.severity {
            let sev = Severity::parse(&s).ok_or_else(|| {
                format!("invalid [tool.fledge.severity] value `{s}` for `{code}`: use error, warning or info")
            })?;
            severity.insert(code, sev);
        }
        Ok(Config {
            include: raw.include,
            exclude: raw.exclude,
            select: raw.select,
            ignore: raw.ignore,
            severity,
            src: raw.src,
            python: raw.python,
        })
    }

    /// Is this rule reported at all?
    pub fn enabled(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == code || s == "ALL"))
            && !self.ignore.iter().any(|s| s == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_fledge() {
        let c = Config::from_pyproject(
            "[project]\nname='x'\n[tool.fledge]\nignore=['pickle-fallback']\nsrc=['lib']\n[tool.fledge.severity]\nunresolved-import='error'\n",
        )
        .unwrap();
        assert_eq!(c.ignore, vec!["pickle-fallback"]);
        assert!(!c.enabled("pickle-fallback"));
        assert!(c.enabled("type-mismatch"));
        assert_eq!(c.severity.get("unresolved-import"), Some(&Severity::Error));
        assert_eq!(c.src, vec![PathBuf::from("lib")]);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_severity() {
        assert!(Config::from_pyproject("[tool.fledge]\nselekt=['a']\n").unwrap_err().contains("selekt"));
        assert!(Config::from_pyproject("[tool.fledge.severity]\nx='loud'\n").is_err());
        assert_eq!(Config::from_pyproject("[project]\nname='x'\n").unwrap(), Config::default());
    }
}
