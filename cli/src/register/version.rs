//! The content version used when no `--version` is given (documented in docs/register.md).
//!
//! SHA-256 over, in order and each length-prefixed: a scheme tag, the bundle's MD5 (every shipped file's
//! path, mode and bytes), the project and domain, the `--image` values and the images in the Flyte
//! config file, the destination dir, the environment variables, service account and raw data prefix,
//! flytekit's version and the digest of fledge's serializer script. The version is the first 16 bytes,
//! URL-safe base64 without padding (22 characters, like pyflyte's computed versions). The same code and
//! settings give the same version on any machine; any change gives a new one.

use crate::digest::LengthPrefixed;
use base64::Engine;

/// What the version is computed from.
#[derive(Debug, Clone, Default)]
pub struct VersionInputs<'a> {
    pub bundle_md5: [u8; 16],
    pub project: &'a str,
    pub domain: &'a str,
    pub images: &'a [String],
    pub config_images: &'a [String],
    pub destination_dir: &'a str,
    pub env: &'a [(String, String)],
    pub service_account: &'a str,
    pub raw_data_prefix: &'a str,
    pub flytekit_version: &'a str,
    pub serializer_digest: &'a str,
}

const SCHEME: &str = "fledge-register-v1";

pub fn content_version(i: &VersionInputs<'_>) -> String {
    let mut h = LengthPrefixed::default();
    let mut put = |b: &[u8]| h.part(b);
    put(SCHEME.as_bytes());
    put(&i.bundle_md5);
    put(i.project.as_bytes());
    put(i.domain.as_bytes());
    put(&(i.images.len() as u64).to_le_bytes());
    for img in i.images {
        put(img.as_bytes());
    }
    put(&(i.config_images.len() as u64).to_le_bytes());
    for img in i.config_images {
        put(img.as_bytes());
    }
    put(i.destination_dir.as_bytes());
    let mut env = i.env.to_vec();
    env.sort();
    put(&(env.len() as u64).to_le_bytes());
    for (k, v) in &env {
        put(k.as_bytes());
        put(v.as_bytes());
    }
    put(i.service_account.as_bytes());
    put(i.raw_data_prefix.as_bytes());
    put(i.flytekit_version.as_bytes());
    put(i.serializer_digest.as_bytes());
    let digest = h.finish();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_version_any_change_new_version() {
        let images = vec!["ghcr.io/a/b:1".to_string()];
        let base = VersionInputs {
            bundle_md5: [1; 16],
            project: "p",
            domain: "development",
            images: &images,
            destination_dir: "/root",
            flytekit_version: "1.16.31",
            serializer_digest: "abc",
            ..Default::default()
        };
        let v = content_version(&base);
        assert_eq!(v.len(), 22);
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{v}");
        assert_eq!(v, content_version(&base.clone()));
        let other_images = vec!["ghcr.io/a/b:2".to_string()];
        let env = vec![("K".to_string(), "V".to_string())];
        let changes = [
            VersionInputs { bundle_md5: [2; 16], ..base.clone() },
            VersionInputs { domain: "production", ..base.clone() },
            VersionInputs { images: &other_images, ..base.clone() },
            VersionInputs { config_images: &other_images, ..base.clone() },
            VersionInputs { destination_dir: "/app", ..base.clone() },
            VersionInputs { env: &env, ..base.clone() },
            VersionInputs { flytekit_version: "1.16.32", ..base.clone() },
            VersionInputs { serializer_digest: "abd", ..base.clone() },
        ];
        for c in &changes {
            assert_ne!(content_version(c), v, "{c:?}");
        }
        // Length prefixes: moving bytes between fields changes the version.
        let a = VersionInputs { project: "pd", domain: "x", ..base.clone() };
        let b = VersionInputs { project: "p", domain: "dx", ..base.clone() };
        assert_ne!(content_version(&a), content_version(&b));
    }
}
