//! `fledge register`: check the project, bundle its code, serialize its entities with flytekit in the
//! user's Python, upload the bundle and register only what is new (docs/register.md).
//!
//! `config` reads flytekit's configuration, `bundle` makes the reproducible tarball, `version` the
//! content version, `serialize` runs flytekit (and caches its output), `client` is the gRPC connection
//! and auth, `plan` the order and meaning of the calls, `output` the table and JSON.

pub mod auth;
pub mod bundle;
pub mod client;
pub mod config;
pub mod output;
pub mod plan;
pub mod serialize;
pub mod tls;
pub mod version;
pub mod warm;

use crate::output::Sources;
use crate::run::pyenv;
use clap::{Args, ValueEnum};
use fledge_core::diagnostic::Severity;
use fledge_core::Workspace;
use plan::{Entity, Row, Status, Target};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RegisterFormat {
    Human,
    Json,
}

#[derive(Args)]
pub struct RegisterArgs {
    /// Packages or modules (folders or .py files) to register, as for `pyflyte register`.
    /// Default: every package (folder with __init__.py) in the current folder.
    pub targets: Vec<PathBuf>,
    /// Flyte project.
    #[arg(long, short = 'p', default_value = "flytesnacks")]
    pub project: String,
    /// Flyte domain.
    #[arg(long, short = 'd', default_value = "development")]
    pub domain: String,
    /// Version of every entity. Default: a content version (same code and settings, same version).
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// Container image, `URI` (the default image) or `NAME=URI`; repeatable, as for pyflyte.
    #[arg(long = "image", short = 'i')]
    pub images: Vec<String>,
    /// Print what would be registered and the version without registering anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Make the registered launch plans the active version.
    #[arg(long)]
    pub activate_launchplans: bool,
    /// Register even if `fledge check` finds errors.
    #[arg(long)]
    pub no_check: bool,
    /// flytekit/flytectl config file (default: $FLYTECTL_CONFIG, ./flytekit.config, ~/.flyte/config[.yaml]).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Folder inside the image where the code bundle is unpacked.
    #[arg(long, short = 'D', default_value = "/root")]
    pub destination_dir: String,
    /// Kubernetes service account of the launch plans.
    #[arg(long, default_value = "")]
    pub service_account: String,
    /// Raw output data prefix of the launch plans.
    #[arg(long, default_value = "")]
    pub raw_data_prefix: String,
    /// Environment variable for the tasks, `KEY=VALUE`; repeatable.
    #[arg(long = "env", short = 'e')]
    pub env: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: RegisterFormat,
}

/// A failure before anything was registered (exit 2) or a refused project (exit 1).
struct Fail(u8, String);

/// Reports a failure that happened before any entity was sent (also as JSON with `--format json`).
fn report_failure(args: &RegisterArgs, code: u8, msg: &str) -> ExitCode {
    eprintln!("fledge register: {msg}");
    if args.format == RegisterFormat::Json {
        println!("{}", serde_json::json!({"version": 1, "error": msg, "exit_code": code}));
    }
    ExitCode::from(code)
}

pub fn run(args: RegisterArgs) -> ExitCode {
    match prepare(&args) {
        Err(Fail(code, msg)) => report_failure(&args, code, &msg),
        Ok(prep) => {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("fledge register: cannot start the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            let result = rt.block_on(execute(&args, prep));
            rt.shutdown_timeout(Duration::from_millis(100));
            match result {
                Err(Fail(code, msg)) => report_failure(&args, code, &msg),
                Ok(code) => code,
            }
        }
    }
}

struct Prepared {
    targets: Vec<String>,
    python: pyenv::PythonEnv,
    bundle: bundle::Bundle,
    platform: config::PlatformConfig,
    version: String,
    version_source: &'static str,
    request: serialize::Request,
    /// The project's third-party modules (a warm serializer imports them once).
    preimport: Vec<String>,
    timings: output::Timings,
}

struct WsSources<'a>(&'a Workspace);
impl Sources for WsSources<'_> {
    fn text(&self, path: &Path) -> Option<&str> {
        self.0.file_text(path)
    }
}

/// The root flytekit imports from: the first folder above the target without `__init__.py`.
fn project_root(target: &Path) -> PathBuf {
    let mut p = target.parent().map(Path::to_path_buf).unwrap_or_else(|| target.to_path_buf());
    while p.join("__init__.py").exists() {
        match p.parent() {
            Some(up) => p = up.to_path_buf(),
            None => break,
        }
    }
    p
}

fn prepare(args: &RegisterArgs) -> Result<Prepared, Fail> {
    let started = Instant::now();
    let mut timings = output::Timings::default();
    let usage = |m: String| Fail(2, m);
    let cwd = std::env::current_dir().map_err(|e| usage(format!("cannot read the current folder: {e}")))?;
    let mut targets: Vec<PathBuf> = args.targets.iter().map(|t| cwd.join(t)).collect();
    if targets.is_empty() {
        let mut pkgs: Vec<PathBuf> = std::fs::read_dir(&cwd)
            .map_err(|e| usage(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("__init__.py").is_file())
            .collect();
        pkgs.sort();
        if pkgs.is_empty() {
            return Err(usage("no package (folder with __init__.py) in the current folder: name the packages or modules to register, e.g. `fledge register workflows/`".into()));
        }
        targets = pkgs;
    }
    for t in &targets {
        if !t.exists() {
            return Err(usage(format!("{}: no such file or directory", t.display())));
        }
    }
    let targets: Vec<PathBuf> = targets.iter().map(|t| t.canonicalize().unwrap_or_else(|_| t.clone())).collect();
    let root = project_root(&targets[0]);
    if let Some(t) = targets.iter().find(|t| project_root(t) != root) {
        return Err(usage(format!(
            "{} is under {} but {} is under {}: register targets of one source root at a time",
            t.display(),
            project_root(t).display(),
            targets[0].display(),
            root.display()
        )));
    }
    for (k, v) in [("--project", &args.project), ("--domain", &args.domain)] {
        if v.trim().is_empty() {
            return Err(usage(format!("{k} must not be empty")));
        }
    }
    if let Some(v) = &args.version {
        if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(usage(format!("--version `{v}` is not a valid version (no spaces or slashes)")));
        }
    }
    let mut env = std::collections::BTreeMap::new();
    for e in &args.env {
        let (k, v) = e.split_once('=').ok_or_else(|| usage(format!("--env `{e}` is not KEY=VALUE")))?;
        env.insert(k.to_string(), v.to_string());
    }

    // 1. Check the project, as `fledge check` would.
    let t0 = Instant::now();
    let ws = Workspace::load(std::slice::from_ref(&root)).map_err(|e| usage(e.to_string()))?;
    let analysis = ws.analyze();
    let preimport = analysis.index.external_imports();
    if !args.no_check {
        let errors: Vec<_> = analysis.diagnostics.iter().filter(|d| d.severity == Severity::Error).cloned().collect();
        if !errors.is_empty() {
            eprint!("{}", crate::output::render_human(&errors, &WsSources(&ws), &cwd, false));
            return Err(Fail(
                1,
                format!(
                    "refusing to register: `fledge check` found {} error{} in {} (nothing was sent; fix them, or pass --no-check)",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" },
                    root.display()
                ),
            ));
        }
    }
    timings.check = t0.elapsed();
    let python = pyenv::detect(ws.root(), ws.config())
        .map_err(|e| usage(e.to_string().replace("`fledge run`", "`fledge register`")))?;

    // 2. Bundle, configuration, version.
    let bundle = bundle::build(&root).map_err(usage)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let platform = config::load(args.config.as_deref(), &config::process_env, &cwd, home.as_deref()).map_err(usage)?;
    let config_images = platform.file.as_deref().map(config::images_section).unwrap_or_default();
    let env_pairs: Vec<(String, String)> = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let (version, version_source) = match &args.version {
        Some(v) => (v.clone(), "given"),
        None => (
            version::content_version(&version::VersionInputs {
                bundle_md5: bundle.md5,
                project: &args.project,
                domain: &args.domain,
                images: &args.images,
                config_images: &config_images,
                destination_dir: &args.destination_dir,
                env: &env_pairs,
                service_account: &args.service_account,
                raw_data_prefix: &args.raw_data_prefix,
                flytekit_version: &python.flytekit_version,
                serializer_digest: &serialize::script_digest(),
            }),
            "content version",
        ),
    };
    let targets: Vec<String> = targets.iter().map(|t| t.display().to_string()).collect();
    let request = serialize::Request {
        root: root.display().to_string(),
        targets: targets.clone(),
        project: args.project.clone(),
        domain: args.domain.clone(),
        version: version.clone(),
        images: args.images.clone(),
        config_file: platform.file.as_ref().map(|f| f.display().to_string()),
        destination_dir: args.destination_dir.clone(),
        distribution_location: None,
        env,
        service_account: args.service_account.clone(),
        raw_data_prefix: args.raw_data_prefix.clone(),
    };
    timings.started = Some(started);
    Ok(Prepared { targets, python, bundle, platform, version, version_source, request, preimport, timings })
}

/// Uploads the bundle through the data proxy; returns its native URL.
async fn upload(
    client: &client::Client,
    args: &RegisterArgs,
    b: &bundle::Bundle,
) -> Result<(String, tokio::task::JoinHandle<Result<(), String>>), Fail> {
    use fledge_proto::flyteidl::service::CreateUploadLocationRequest;
    let req = CreateUploadLocationRequest {
        project: args.project.clone(),
        domain: args.domain.clone(),
        filename: b.file_name(),
        content_md5: b.md5.to_vec(),
        ..Default::default()
    };
    let loc = crate::with_auth_retry!(client, client.data_proxy().create_upload_location(req.clone()))
        .map_err(|s| Fail(1, format!("cannot get an upload location for the code bundle from FlyteAdmin at {} (DataProxyService/CreateUploadLocation): {}; nothing was registered", client.config.endpoint, client.explain(&s))))?
        .into_inner();
    let (url, native) = (loc.signed_url.clone(), loc.native_url.clone());
    let md5 = b.content_md5();
    let body = b.bytes.clone();
    let headers = loc.headers.clone();
    let tls = tls::http_tls_config(&client.config).map_err(|e| Fail(1, format!("{e}; nothing was registered")))?;
    let put = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(Duration::from_secs(300)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut req = agent.put(&url).header("Content-MD5", &md5).header("Content-Type", "application/octet-stream");
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req.send(&body[..]).map_err(|e| format!("upload of the code bundle to {url} failed: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            let text: String = text.chars().take(500).collect();
            return Err(format!("upload of the code bundle was refused: HTTP {status} from {url}: {}", text.trim()));
        }
        Ok(())
    });
    Ok((native, put))
}

async fn execute(args: &RegisterArgs, p: Prepared) -> Result<ExitCode, Fail> {
    let target = Target { project: args.project.clone(), domain: args.domain.clone(), version: p.version.clone() };
    let mut timings = p.timings.clone();
    if args.dry_run {
        let req = serialize::Request {
            distribution_location: Some(format!(
                "<data proxy>/{}/{}/{}",
                args.project,
                args.domain,
                p.bundle.file_name()
            )),
            ..p.request.clone()
        };
        let t0 = Instant::now();
        let s = serialize::run(&p.python.python, &req, &p.preimport).await.map_err(|e| Fail(1, e))?;
        timings.flytekit(t0.elapsed(), &s.trailer);
        let rows: Vec<Row> = s
            .entities
            .iter()
            .map(|e| Row { kind: e.kind, name: e.name.clone(), status: Status::WouldRegister, activated: false })
            .collect();
        return Ok(finish(args, &p, &rows, "not uploaded (dry run)", &timings));
    }
    let key = serialize::cache_key(
        &p.platform.endpoint,
        &p.python.python,
        &p.python.flytekit_version,
        &p.bundle.md5_hex(),
        &p.request,
    );
    let cached = serialize::cache_load(&key);
    // Nothing serialized for this code yet: start flytekit now, so that its import and the loading
    // of the project's modules overlap the connection and the upload.
    let started = Instant::now();
    let mut early = match cached {
        None => Some(serialize::start(&p.python.python, &p.request, &p.preimport).map_err(|e| Fail(1, e))?),
        Some(_) => None,
    };
    let t0 = Instant::now();
    let client = client::Client::connect(p.platform.clone())
        .await
        .map_err(|e| Fail(1, format!("{e}; nothing was registered")))?;
    timings.connect = t0.elapsed();
    // Unchanged since a complete registration to this endpoint: fledge registers the last entity
    // only after every other one succeeded, and Flyte never deletes a registered entity, so the
    // last one being there means all of them are. One Get call instead of one Create per entity.
    if let Some((native, s)) = &cached {
        if !args.activate_launchplans && serialize::is_complete(&key) {
            if let Some(last) = s.entities.last() {
                if plan::exists(&client, &target, last).await.map_err(|e| Fail(1, e))? {
                    let rows: Vec<Row> = s
                        .entities
                        .iter()
                        .map(|e| Row {
                            kind: e.kind,
                            name: e.name.clone(),
                            status: Status::AlreadyExists,
                            activated: false,
                        })
                        .collect();
                    let uploaded =
                        format!("already uploaded ({native}); nothing changed since the last complete registration");
                    return Ok(finish(args, &p, &rows, &uploaded, &timings));
                }
            }
        }
    }
    let entities: Vec<Entity>;
    let uploaded: String;
    match cached {
        Some((native, s))
            if plan::first_task_exists(&client, &target, &s.entities).await.map_err(|e| Fail(1, e))? =>
        {
            entities = s.entities;
            uploaded = format!("already uploaded ({native})");
        }
        _ => {
            let mut serializer = match early.take() {
                Some(s) => s,
                None => serialize::start(&p.python.python, &p.request, &p.preimport).map_err(|e| Fail(1, e))?,
            };
            let t0 = Instant::now();
            let (native, put) = upload(&client, args, &p.bundle).await?;
            serializer.tell_location(&native).await;
            match put.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(Fail(1, format!("{e}; nothing was registered"))),
                Err(e) => {
                    return Err(Fail(1, format!("upload of the code bundle failed: {e}; nothing was registered")))
                }
            }
            timings.upload = t0.elapsed();
            let s = serializer.finish().await.map_err(|e| Fail(1, format!("{e}\nnothing was registered")))?;
            timings.flytekit(started.elapsed(), &s.trailer);
            serialize::cache_store(&key, &native, &s);
            entities = s.entities;
            uploaded = format!("uploaded to {native}");
        }
    }
    if entities.is_empty() {
        return Err(Fail(1, format!("no Flyte entities found in {}", p.targets.join(", "))));
    }
    let t0 = Instant::now();
    let rows = plan::register(&client, target, &entities, args.activate_launchplans).await;
    timings.register = t0.elapsed();
    if rows.iter().all(|r| matches!(r.status, Status::Created | Status::AlreadyExists)) {
        serialize::mark_complete(&key);
    }
    Ok(finish(args, &p, &rows, &uploaded, &timings))
}

/// Prints the result; the exit code.
fn finish(args: &RegisterArgs, p: &Prepared, rows: &[Row], uploaded: &str, timings: &output::Timings) -> ExitCode {
    let summary = output::Summary {
        endpoint: &p.platform.endpoint,
        project: &args.project,
        domain: &args.domain,
        version: &p.version,
        version_source: p.version_source,
        bundle_file: &p.bundle.file_name(),
        bundle_files: p.bundle.files.len(),
        bundle_bytes: p.bundle.bytes.len(),
        uploaded,
        dry_run: args.dry_run,
        rows,
        timings,
    };
    match args.format {
        RegisterFormat::Human => print!("{}", output::human(&summary)),
        RegisterFormat::Json => print!("{}", output::json(&summary)),
    }
    if rows.iter().any(|r| matches!(r.status, Status::Failed(_) | Status::NotSent)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_root_is_the_first_folder_above_without_init() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("pkg/sub")).unwrap();
        std::fs::write(r.join("pkg/__init__.py"), "").unwrap();
        std::fs::write(r.join("pkg/sub/__init__.py"), "").unwrap();
        std::fs::write(r.join("pkg/sub/wf.py"), "").unwrap();
        std::fs::write(r.join("script.py"), "").unwrap();
        assert_eq!(project_root(&r.join("pkg")), r);
        assert_eq!(project_root(&r.join("pkg/sub")), r);
        assert_eq!(project_root(&r.join("pkg/sub/wf.py")), r);
        assert_eq!(project_root(&r.join("script.py")), r);
    }
}
