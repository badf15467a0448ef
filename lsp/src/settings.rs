//! Editor settings (`initializationOptions`, `workspace/didChangeConfiguration`,
//! `workspace/configuration`) merged over `[tool.fledge]`.
//!
//! Shape: `{ "fledge": { "select": [codes], "ignore": [codes], "severity": {code: level} } }`
//! (the `fledge` level may be omitted). Editor `select` replaces the project's when not empty,
//! `ignore` adds to it, and `severity` overrides it code by code.

use fledge_core::project::Config;
use fledge_core::Severity;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditorSettings {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
}

impl EditorSettings {
    /// Read settings; problems (unknown codes, bad levels) are returned as messages and skipped.
    pub fn from_value(v: &Value) -> (EditorSettings, Vec<String>) {
        let v = v.get("fledge").unwrap_or(v);
        let mut s = EditorSettings::default();
        let mut problems = Vec::new();
        let codes = |key: &str, problems: &mut Vec<String>| -> Vec<String> {
            let mut out = Vec::new();
            match v.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for it in items {
                        match it.as_str() {
                            Some(c) if c == "ALL" || fledge_core::rules::rule(c).is_some() => out.push(c.to_string()),
                            Some(c) => problems.push(format!("fledge.{key}: unknown rule `{c}`")),
                            None => problems.push(format!("fledge.{key}: expected rule codes (strings)")),
                        }
                    }
                }
                Some(_) => problems.push(format!("fledge.{key}: expected a list of rule codes")),
            }
            out
        };
        s.select = codes("select", &mut problems);
        s.ignore = codes("ignore", &mut problems);
        match v.get("severity") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (code, level) in map {
                    match level.as_str().and_then(Severity::parse) {
                        Some(sev) => {
                            s.severity.insert(code.clone(), sev);
                        }
                        None => {
                            problems.push(format!("fledge.severity.{code}: use \"error\", \"warning\" or \"info\""))
                        }
                    }
                }
            }
            Some(_) => problems.push("fledge.severity: expected an object {code: level}".into()),
        }
        (s, problems)
    }

    /// The project's configuration with these settings on top.
    pub fn merge(&self, base: &Config) -> Config {
        let mut c = base.clone();
        if !self.select.is_empty() {
            c.select = self.select.clone();
        }
        for i in &self.ignore {
            if !c.ignore.contains(i) {
                c.ignore.push(i.clone());
            }
        }
        for (code, sev) in &self.severity {
            c.severity.insert(code.clone(), *sev);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_over_the_project() {
        let base = Config {
            ignore: vec!["pickle-fallback".into()],
            select: vec!["type-mismatch".into()],
            ..Config::default()
        };
        let (s, problems) = EditorSettings::from_value(&serde_json::json!({
            "fledge": {"select": [], "ignore": ["unknown-input", "nope"], "severity": {"type-mismatch": "warning", "x": "loud"}}
        }));
        assert_eq!(problems.len(), 2);
        let c = s.merge(&base);
        assert_eq!(c.select, vec!["type-mismatch"]);
        assert_eq!(c.ignore, vec!["pickle-fallback", "unknown-input"]);
        assert_eq!(c.severity.get("type-mismatch"), Some(&Severity::Warning));
    }
}
