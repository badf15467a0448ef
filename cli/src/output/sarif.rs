//! SARIF 2.1.0, the format code-scanning services (e.g. GitHub) ingest.

use super::{locate, Locator, RuleMeta, Sources, Span};
use fledge_core::diagnostic::{Diagnostic, Severity};
use serde_json::{json, Value};
use std::path::Path;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF log with one run; `rules` become `tool.driver.rules`, and each
/// result whose code is among them points at its rule by `ruleIndex`.
pub fn render_sarif(diags: &[Diagnostic], sources: &dyn Sources, cwd: &Path, rules: &[RuleMeta]) -> String {
    let mut locator = Locator::new(sources, cwd);
    let results: Vec<Value> = locate(diags, &mut locator)
        .into_iter()
        .map(|(d, span)| {
            let related: Vec<Value> = d
                .related
                .iter()
                .map(|r| {
                    let mut loc = location(&locator.span(&r.path, r.range));
                    loc["message"] = json!({ "text": r.message });
                    loc
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": d.message },
                "locations": [location(&span)],
            });
            if let Some(i) = rules.iter().position(|r| r.code == d.code) {
                result["ruleIndex"] = json!(i);
            }
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "shortDescription": { "text": r.summary },
                "defaultConfiguration": { "level": level(r.default_severity) },
            })
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "fledge",
            "informationUri": "https://github.com/flyteorg/flyte",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if cwd.is_absolute() {
        let mut root = file_uri(cwd);
        if !root.ends_with('/') {
            root.push('/');
        }
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    let log = json!({ "$schema": SCHEMA, "version": "2.1.0", "runs": [run] });
    let mut out = serde_json::to_string_pretty(&log).expect("plain data serializes");
    out.push('\n');
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A location: relative to `%SRCROOT%` (cwd) unless the path is absolute, then a `file:` URI.
fn location(span: &Span) -> Value {
    let path = Path::new(&span.path);
    let artifact = if path.is_absolute() {
        json!({ "uri": file_uri(path) })
    } else {
        json!({ "uri": encode(&span.path), "uriBaseId": "%SRCROOT%" })
    };
    let mut physical = json!({ "artifactLocation": artifact });
    // Without the file's text the position is unknown, so name only the file.
    if span.text.is_some() {
        physical["region"] = json!({
            "startLine": span.start.line,
            "startColumn": span.start.col,
            "endLine": span.end.line,
            "endColumn": span.end.col,
        });
    }
    json!({ "physicalLocation": physical })
}

/// `file:///abs/path` for an absolute path (`file:///C:/...` on Windows).
fn file_uri(path: &Path) -> String {
    let slashed = path.to_string_lossy().replace('\\', "/");
    let slashed = slashed.trim_end_matches('/');
    let lead = if slashed.starts_with('/') { "" } else { "/" };
    format!("file://{lead}{}", encode(slashed))
}

/// Percent-encodes all but unreserved URI characters and `/`.
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures;

    fn rules() -> Vec<RuleMeta> {
        vec![
            RuleMeta {
                code: "type-mismatch",
                summary: "Argument type does not match the task's signature",
                default_severity: Severity::Error,
            },
            RuleMeta {
                code: "unused-output",
                summary: "A task's output is never used",
                default_severity: Severity::Info,
            },
        ]
    }

    fn render(diags: &[Diagnostic]) -> Value {
        let out = render_sarif(diags, &fixtures::sources(), Path::new(fixtures::CWD), &rules());
        serde_json::from_str(&out).unwrap()
    }

    #[test]
    fn snapshot_of_every_tricky_case() {
        let mut log = render(&fixtures::diagnostics());
        log["runs"][0]["tool"]["driver"]["version"] = json!("[version]");
        insta::assert_json_snapshot!(log);
    }

    /// The official SARIF 2.1.0 schema, as shipped in the source of the `serde-sarif` crate.
    ///
    /// The schema is not vendored here: `serde-sarif` is a dev-dependency only so that cargo
    /// downloads its source, and this reads `src/schema.json` from the cargo registry
    /// (`$CARGO_HOME/registry/src/*/serde-sarif-0.8*/`, `CARGO_HOME` defaulting to `~/.cargo`).
    fn sarif_schema_text() -> String {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
            .expect("neither CARGO_HOME nor HOME is set: cannot find the cargo registry");
        let registry = cargo_home.join("registry").join("src");
        let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(&registry)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|index| std::fs::read_dir(index.path()).into_iter().flatten().flatten())
            .filter(|krate| krate.file_name().to_string_lossy().starts_with("serde-sarif-0.8"))
            .map(|krate| krate.path().join("src").join("schema.json"))
            .filter(|schema| schema.is_file())
            .collect();
        // Several downloaded 0.8.x versions: take the newest.
        let version = |schema: &std::path::PathBuf| -> Vec<u64> {
            let dir = schema.parent().and_then(|src| src.parent()).and_then(|d| d.file_name());
            let name = dir.map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.trim_start_matches("serde-sarif-").split('.').map(|n| n.parse().unwrap_or(0)).collect()
        };
        found.sort_by_key(version);
        let Some(path) = found.last() else {
            panic!(
                "the SARIF 2.1.0 schema was not found: expected {}/*/serde-sarif-0.8*/src/schema.json. \
                 It comes from the `serde-sarif` dev-dependency; run `cargo fetch` (or build the tests once \
                 with network access) so cargo downloads its source, and set CARGO_HOME if the registry \
                 is not under ~/.cargo",
                registry.display()
            )
        };
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read the SARIF schema {}: {e}", path.display()))
    }

    #[test]
    fn output_is_valid_sarif() {
        // The schema's two `language` patterns have a stray `]` that the validator rejects as a
        // regex; we write no `language`, so swap in the intended pattern.
        let text =
            sarif_schema_text().replace("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$", "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
        let schema: Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::draft7::options().should_validate_formats(true).build(&schema).unwrap();
        for diags in [fixtures::diagnostics(), vec![]] {
            let log = render(&diags);
            let errors: Vec<_> = validator.iter_errors(&log).map(|e| format!("{}: {e}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }
        // The validator does catch mistakes.
        let mut bad = render(&fixtures::diagnostics());
        bad["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&bad));
    }

    #[test]
    fn uris() {
        assert_eq!(encode("flows/my file:é.py"), "flows/my%20file%3A%C3%A9.py");
        assert_eq!(file_uri(Path::new("/repo/")), "file:///repo");
        assert_eq!(file_uri(Path::new("/")), "file:///");
        let log = render_sarif(&[], &fixtures::sources(), Path::new("/"), &[]);
        assert!(log.contains(r#""uri": "file:///""#));
    }

    #[test]
    fn empty_list() {
        let log = render(&[]);
        assert_eq!(log["runs"][0]["results"], json!([]));
        assert_eq!(log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
    }
}
