//! A task's fingerprint: what its cache key is made of besides its inputs. The core computes it from
//! source (the task, the project functions and modules it depends on, its interface, the decorator
//! arguments that change results); fledge adds the flytekit version the worker runs.

use fledge_core::flyte::EntityId;
use fledge_core::Analysis;
use sha2::{Digest, Sha256};

/// A task's fingerprint and the parts it is made of (for `--explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFingerprint {
    pub hex: String,
    /// `(what, hash)`, e.g. `("function shop.pricing.discount", "3fa4…")`.
    pub parts: Vec<(String, String)>,
}

pub use crate::digest::hex;

/// The flytekit version the fingerprint includes (`FLEDGE_FLYTEKIT_VERSION`, set by `fledge run` from
/// the worker's Python).
pub fn flytekit_version() -> String {
    std::env::var("FLEDGE_FLYTEKIT_VERSION").unwrap_or_default()
}

pub fn task_fingerprint(analysis: &Analysis, id: EntityId) -> TaskFingerprint {
    let mut parts: Vec<(String, String)> = match fledge_core::flyte::fingerprint::task_fingerprint(analysis, id) {
        Some(fp) => fp.parts.iter().map(|p| (p.what.clone(), p.hash.to_string())).collect(),
        // Not a fingerprintable entity: its qualified name, so it is at least stable.
        None => vec![(
            "entity".to_string(),
            hex(&Sha256::digest(analysis.entities.entities[id].qualified_name(&analysis.index).as_bytes())),
        )],
    };
    parts.push(("flytekit version".to_string(), hex(&Sha256::digest(flytekit_version().as_bytes()))));
    let mut all = Sha256::new();
    for (what, hash) in &parts {
        all.update(what.as_bytes());
        all.update([0]);
        all.update(hash.as_bytes());
        all.update([0]);
    }
    TaskFingerprint { hex: hex(&all.finalize()), parts }
}
