//! The result of a registration: a table for people, JSON for scripts.

use super::plan::{Row, Status};
use super::serialize::Trailer;
use serde_json::json;
use std::time::{Duration, Instant};

/// Where a registration spent its time (shown after the table; `timings` in JSON).
#[derive(Clone, Default, Debug)]
pub struct Timings {
    /// When the command started (the total is measured from here).
    pub started: Option<Instant>,
    pub check: Duration,
    pub connect: Duration,
    /// From starting flytekit to having every entity serialized (overlaps connect and upload).
    pub flytekit: Duration,
    /// flytekit's own steps, in seconds: import, load, wait_for_upload, serialize.
    pub flytekit_steps: Vec<(String, f64)>,
    pub workers: usize,
    /// flytekit ran in a process forked from a warm server.
    pub warm: bool,
    pub upload: Duration,
    pub register: Duration,
}

impl Timings {
    pub fn flytekit(&mut self, took: Duration, trailer: &Trailer) {
        self.flytekit = took;
        self.flytekit_steps = trailer.seconds.iter().map(|(k, v)| (k.clone(), *v)).collect();
        self.workers = trailer.workers;
        self.warm = trailer.warm;
    }

    fn total(&self) -> Duration {
        self.started.map(|s| s.elapsed()).unwrap_or_default()
    }

    fn line(&self) -> String {
        let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let mut parts = vec![format!("check {}", s(self.check))];
        if !self.flytekit.is_zero() {
            let steps: Vec<String> = ["import", "load", "serialize"]
                .iter()
                .filter_map(|k| self.flytekit_steps.iter().find(|(n, _)| n == k))
                .map(|(k, v)| format!("{k} {v:.2}"))
                .collect();
            let mut workers = if self.workers > 1 { format!(", {} processes", self.workers) } else { String::new() };
            if self.warm {
                workers.push_str(", warm server");
            }
            parts.push(format!("flytekit {} ({}{workers})", s(self.flytekit), steps.join(", ")));
        }
        for (name, d) in [("connect", self.connect), ("upload", self.upload), ("register", self.register)] {
            if !d.is_zero() {
                parts.push(format!("{name} {}", s(d)));
            }
        }
        format!("took {}: {}\n", s(self.total()), parts.join(", "))
    }

    fn json(&self) -> serde_json::Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0).round() as u64;
        let steps: serde_json::Map<String, serde_json::Value> =
            self.flytekit_steps.iter().map(|(k, v)| (k.clone(), json!((v * 1000.0).round() as u64))).collect();
        json!({
            "total_ms": ms(self.total()),
            "check_ms": ms(self.check),
            "connect_ms": ms(self.connect),
            "flytekit_ms": ms(self.flytekit),
            "flytekit_steps_ms": steps,
            "flytekit_processes": self.workers,
            "flytekit_warm_server": self.warm,
            "upload_ms": ms(self.upload),
            "register_ms": ms(self.register),
        })
    }
}

pub struct Summary<'a> {
    pub endpoint: &'a str,
    pub project: &'a str,
    pub domain: &'a str,
    pub version: &'a str,
    pub version_source: &'a str,
    pub bundle_file: &'a str,
    pub bundle_files: usize,
    pub bundle_bytes: usize,
    pub uploaded: &'a str,
    pub dry_run: bool,
    pub rows: &'a [Row],
    pub timings: &'a Timings,
}

fn counts(rows: &[Row]) -> (usize, usize, usize, usize) {
    let c = |f: fn(&Status) -> bool| rows.iter().filter(|r| f(&r.status)).count();
    (
        c(|s| matches!(s, Status::Created | Status::WouldRegister)),
        c(|s| *s == Status::AlreadyExists),
        c(|s| matches!(s, Status::Failed(_))),
        c(|s| *s == Status::NotSent),
    )
}

pub fn human(s: &Summary<'_>) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}/{} version {} ({}) at {}\nbundle {} ({} files, {} bytes): {}\n\n",
        if s.dry_run { "dry run:" } else { "registered" },
        s.project,
        s.domain,
        s.version,
        s.version_source,
        s.endpoint,
        s.bundle_file,
        s.bundle_files,
        s.bundle_bytes,
        s.uploaded
    ));
    let w_kind = s.rows.iter().map(|r| r.kind.as_str().len()).max().unwrap_or(4).max(4);
    let w_name = s.rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    out.push_str(&format!("{:<w_kind$}  {:<w_name$}  STATUS\n", "KIND", "NAME"));
    let mut errors = String::new();
    for r in s.rows {
        let extra = if r.activated { " (activated)" } else { "" };
        out.push_str(&format!("{:<w_kind$}  {:<w_name$}  {}{extra}\n", r.kind.as_str(), r.name, r.status.as_str()));
        if let Status::Failed(m) = &r.status {
            errors.push_str(&format!("\nerror: {} `{}`: {m}\n", r.kind.as_str(), r.name));
        }
    }
    let (created, present, failed, not_sent) = counts(s.rows);
    out.push_str(&format!(
        "\n{created} {}, {present} already present, {failed} failed{}\n",
        if s.dry_run { "to register" } else { "created" },
        if not_sent > 0 { format!(", {not_sent} not sent") } else { String::new() }
    ));
    out.push_str(&errors);
    out.push_str(&s.timings.line());
    out
}

pub fn json(s: &Summary<'_>) -> String {
    let (created, present, failed, not_sent) = counts(s.rows);
    let entities: Vec<_> = s
        .rows
        .iter()
        .map(|r| {
            json!({
                "kind": r.kind.as_str().replace(' ', "_"),
                "name": r.name,
                "status": r.status.as_str().replace(' ', "_"),
                "activated": r.activated,
                "error": match &r.status { Status::Failed(m) => Some(m.as_str()), _ => None },
            })
        })
        .collect();
    let v = json!({
        "version": 1,
        "dry_run": s.dry_run,
        "endpoint": s.endpoint,
        "project": s.project,
        "domain": s.domain,
        "entity_version": s.version,
        "version_source": s.version_source,
        "bundle": {"file": s.bundle_file, "files": s.bundle_files, "bytes": s.bundle_bytes, "upload": s.uploaded},
        "entities": entities,
        "counts": {"created": created, "already_present": present, "failed": failed, "not_sent": not_sent},
        "timings": s.timings.json(),
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}
