//! The endpoint and auth settings, read from flytekit's own configuration with flytekit's precedence,
//! so a Flyte user needs no new settings.
//!
//! Which file: `--config`, else `$_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE`, else `$FLYTECTL_CONFIG` (when the
//! file exists), else `./flytekit.config`, else `~/.flyte/config` (both INI), else
//! `~/.flyte/config.yaml`. Each setting: its `FLYTE_<SECTION>_<OPTION>` environment variable first, then
//! the file, then flytekit's default (`localhost:30080`, secure).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How to authenticate (flytekit's `admin.authType` / `FLYTE_CREDENTIALS_AUTH_MODE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// No credentials are sent unless the server asks (then the registration fails with a clear message).
    None,
    /// OAuth2 client credentials (`clientId` + secret from a file, an env var or FLYTE_CREDENTIALS_CLIENT_SECRET).
    ClientSecret,
    /// An external command prints the token (`admin.command`).
    ExternalCommand,
    /// Browser login (OAuth2 authorization code with PKCE), tokens cached between runs.
    Pkce,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformConfig {
    /// `host:port`, without a `dns:///` prefix.
    pub endpoint: String,
    pub insecure: bool,
    pub insecure_skip_verify: bool,
    pub ca_cert_file: Option<PathBuf>,
    pub auth_mode: AuthMode,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_location: Option<PathBuf>,
    pub client_secret_env_var: Option<String>,
    pub scopes: Vec<String>,
    pub command: Vec<String>,
    /// The configuration file used (for messages and flytekit's image settings).
    pub file: Option<PathBuf>,
}

/// Where a configuration file was found.
pub fn config_file(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    home: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let from_env = env("_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE").or_else(|| env("FLYTECTL_CONFIG"));
    if let Some(p) = from_env.filter(|p| !p.is_empty()).map(PathBuf::from) {
        if p.exists() {
            return Some(p);
        }
    }
    let local = cwd.join("flytekit.config");
    if local.exists() {
        return Some(local);
    }
    let home = home?;
    [home.join(".flyte").join("config"), home.join(".flyte").join("config.yaml")].into_iter().find(|p| p.exists())
}

/// A parsed file: INI (`section.option`) or YAML (dotted paths such as `admin.endpoint`).
#[derive(Default)]
struct FileValues {
    ini: Option<HashMap<String, String>>,
    yaml: Option<serde_norway::Value>,
}

impl FileValues {
    fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the Flyte config {}: {e}", path.display()))?;
        let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        if is_yaml {
            let v: serde_norway::Value = serde_norway::from_str(&text)
                .map_err(|e| format!("the Flyte config {} is not valid YAML: {e}", path.display()))?;
            Ok(FileValues { ini: None, yaml: Some(v) })
        } else {
            let mut map = HashMap::new();
            let mut section = String::new();
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                    continue;
                }
                if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    section = s.trim().to_string();
                } else if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
                    map.insert(format!("{section}.{}", k.trim()), v.trim().to_string());
                }
            }
            Ok(FileValues { ini: Some(map), yaml: None })
        }
    }

    /// A value as a string (lists are joined with commas, as flytekit's list transformer splits them).
    fn get(&self, ini_key: &str, yaml_key: Option<&str>) -> Option<String> {
        if let Some(ini) = &self.ini {
            return ini.get(ini_key).cloned();
        }
        let mut v = self.yaml.as_ref()?;
        for part in yaml_key?.split('.') {
            v = v.get(part)?;
        }
        yaml_scalar(v)
    }
}

fn yaml_scalar(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Sequence(items) => Some(items.iter().filter_map(yaml_scalar).collect::<Vec<_>>().join(",")),
        _ => None,
    }
}

/// flytekit's boolean reading: anything but empty, false, 0, off, no.
fn truthy(v: &str) -> bool {
    !v.is_empty() && !matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "off" | "no")
}

/// Reads the configuration with flytekit's precedence. `env` reads an environment variable.
pub fn load(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    home: Option<&Path>,
) -> Result<PlatformConfig, String> {
    let file = config_file(explicit, env, cwd, home);
    let values = match &file {
        Some(p) => FileValues::load(p)?,
        None => FileValues::default(),
    };
    // (section, option) for FLYTE_SECTION_OPTION and the INI key, and the YAML path.
    let read = |section: &str, option: &str, yaml: Option<&str>| -> Option<String> {
        env(&format!("FLYTE_{}_{}", section.to_uppercase(), option.to_uppercase()))
            .or_else(|| values.get(&format!("{section}.{option}"), yaml))
    };
    let endpoint = read("platform", "url", Some("admin.endpoint"))
        .map(|e| e.replace("dns:///", ""))
        .unwrap_or_else(|| "localhost:30080".to_string());
    let list = |v: Option<String>| -> Vec<String> {
        v.map(|s| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()).unwrap_or_default()
    };
    let auth_mode = match read("credentials", "auth_mode", Some("admin.authType")).map(|m| m.to_ascii_lowercase()) {
        None => AuthMode::None,
        Some(m) if m.is_empty() => AuthMode::None,
        Some(m) if m == "clientsecret" || m == "client_credentials" => AuthMode::ClientSecret,
        Some(m) if m == "externalcommand" || m == "external_process" => AuthMode::ExternalCommand,
        Some(m) if m == "pkce" || m == "standard" => AuthMode::Pkce,
        Some(m) => {
            return Err(format!(
                "unknown auth type `{m}` in the Flyte config (expected ClientSecret, Pkce or ExternalCommand)"
            ))
        }
    };
    Ok(PlatformConfig {
        endpoint,
        insecure: read("platform", "insecure", Some("admin.insecure")).is_some_and(|v| truthy(&v)),
        insecure_skip_verify: read("platform", "insecure_skip_verify", Some("admin.insecureSkipVerify"))
            .is_some_and(|v| truthy(&v)),
        ca_cert_file: read("platform", "ca_cert_file_path", Some("admin.caCertFilePath"))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        auth_mode,
        client_id: read("credentials", "client_id", Some("admin.clientId")).filter(|s| !s.is_empty()),
        client_secret: read("credentials", "client_secret", None).filter(|s| !s.is_empty()),
        client_secret_location: read("credentials", "client_secret_location", Some("admin.clientSecretLocation"))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        client_secret_env_var: read("credentials", "client_secret_env_var", Some("admin.clientSecretEnvVar"))
            .filter(|s| !s.is_empty()),
        scopes: list(read("credentials", "scopes", Some("admin.scopes"))),
        command: list(read("credentials", "command", Some("admin.command"))),
        file,
    })
}

/// The `images:` section of a YAML config (`NAME: URI`), as sorted `NAME=URI` strings; flytekit adds
/// these to the `--image` values, so they are part of the content version.
pub fn images_section(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let Ok(v) = serde_norway::from_str::<serde_norway::Value>(&text) else { return Vec::new() };
    let mut out: Vec<String> = match v.get("images").and_then(|i| i.as_mapping()) {
        Some(m) => m.iter().filter_map(|(k, v)| Some(format!("{}={}", k.as_str()?, yaml_scalar(v)?))).collect(),
        None => Vec::new(),
    };
    out.sort();
    out
}

/// The real process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn file_precedence_follows_flytekit() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let cwd = dir.path().join("cwd");
        std::fs::create_dir_all(home.join(".flyte")).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        let yaml = home.join(".flyte/config.yaml");
        std::fs::write(&yaml, "admin:\n  endpoint: dns:///home:1\n  insecure: true\n").unwrap();
        let none = env_of(&[]);
        assert_eq!(config_file(None, &none, &cwd, Some(&home)), Some(yaml.clone()));
        // ~/.flyte/config (INI) comes before ~/.flyte/config.yaml.
        let ini = home.join(".flyte/config");
        std::fs::write(&ini, "[platform]\nurl = ini:2\n").unwrap();
        assert_eq!(config_file(None, &none, &cwd, Some(&home)), Some(ini.clone()));
        // ./flytekit.config before the home files.
        let local = cwd.join("flytekit.config");
        std::fs::write(&local, "[platform]\nurl = local:3\n").unwrap();
        assert_eq!(config_file(None, &none, &cwd, Some(&home)), Some(local.clone()));
        // FLYTECTL_CONFIG before those, but only when the file exists.
        let ctl = dir.path().join("ctl.yaml");
        std::fs::write(&ctl, "admin:\n  endpoint: dns:///ctl:4\n").unwrap();
        let e = env_of(&[("FLYTECTL_CONFIG", ctl.to_str().unwrap())]);
        assert_eq!(config_file(None, &e, &cwd, Some(&home)), Some(ctl.clone()));
        let missing = env_of(&[("FLYTECTL_CONFIG", "/nonexistent/x.yaml")]);
        assert_eq!(config_file(None, &missing, &cwd, Some(&home)), Some(local.clone()));
        // --config first of all.
        assert_eq!(config_file(Some(&yaml), &e, &cwd, Some(&home)), Some(yaml.clone()));
    }

    #[test]
    fn environment_variables_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("c.yaml");
        std::fs::write(
            &yaml,
            "admin:\n  endpoint: dns:///file:1\n  insecure: true\n  authType: ClientSecret\n  clientId: me\n  scopes: [a, b]\n",
        )
        .unwrap();
        let c = load(Some(&yaml), &env_of(&[]), dir.path(), None).unwrap();
        assert_eq!(c.endpoint, "file:1");
        assert!(c.insecure);
        assert_eq!(c.auth_mode, AuthMode::ClientSecret);
        assert_eq!(c.client_id.as_deref(), Some("me"));
        assert_eq!(c.scopes, vec!["a", "b"]);
        let e = env_of(&[("FLYTE_PLATFORM_URL", "env:2"), ("FLYTE_PLATFORM_INSECURE", "False")]);
        let c = load(Some(&yaml), &e, dir.path(), None).unwrap();
        assert_eq!(c.endpoint, "env:2");
        assert!(!c.insecure);
        // No file at all: flytekit's defaults.
        let c = load(None, &env_of(&[]), dir.path(), None).unwrap();
        assert_eq!((c.endpoint.as_str(), c.insecure), ("localhost:30080", false));
    }

    #[test]
    fn bad_config_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("c.yaml");
        std::fs::write(&yaml, "admin: [unclosed").unwrap();
        let err = load(Some(&yaml), &env_of(&[]), dir.path(), None).unwrap_err();
        assert!(err.contains("not valid YAML"), "{err}");
        let err = load(Some(&dir.path().join("nope.yaml")), &env_of(&[]), dir.path(), None).unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
    }
}
