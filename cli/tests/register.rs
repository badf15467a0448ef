//! `fledge register` end to end, against the FlyteAdmin stand-in (`../shared/flyteadmin/`), compared
//! with `pyflyte register` through flytekit's FlyteRemote (tests/e2e/register/compare.py).
//!
//! These tests need the pinned flytekit venv (scripts/setup-python.sh) and the stand-in's venv
//! (installed by its start.sh); when either cannot be set up they fail with the reason, never skip.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The pinned flytekit venv's python (set up once per test binary).
fn flytekit_python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/setup-python.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cannot run scripts/setup-python.sh");
        assert!(
            out.status.success(),
            "scripts/setup-python.sh failed (exit {:?}): the flytekit venv is required",
            out.status.code()
        );
        let py = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
        assert!(Path::new(&py).is_file(), "scripts/setup-python.sh did not print a python path (got `{py}`)");
        PathBuf::from(py)
    })
}

/// A private copy of the fledge binary, taken once: a shared CARGO_TARGET_DIR may rebuild
/// `target/debug/fledge` from another checkout while these (slow) tests run.
fn fledge_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dest = std::env::temp_dir().join(format!("fledge-register-test-{}", std::process::id()));
        std::fs::copy(env!("CARGO_BIN_EXE_fledge"), &dest).expect("cannot copy the fledge binary");
        let ok = Command::new(&dest).args(["register", "--help"]).output().map(|o| o.status.success()).unwrap_or(false);
        assert!(
            ok,
            "{} has no `register` command: was it rebuilt from another checkout?",
            env!("CARGO_BIN_EXE_fledge")
        );
        dest
    })
}

fn venv_of(python: &Path) -> PathBuf {
    python.parent().unwrap().parent().unwrap().to_path_buf()
}

/// A running stand-in; killed on drop.
struct Admin {
    pid: i32,
    grpc: String,
    data: PathBuf,
    config: PathBuf,
}

impl Admin {
    fn start(dir: &Path, name: &str) -> Admin {
        let data = dir.join(format!("{name}-data"));
        let start = repo().join("../shared/flyteadmin/start.sh");
        assert!(start.is_file(), "the FlyteAdmin stand-in is missing: {} not found", start.display());
        let out =
            Command::new("bash").arg(&start).arg(&data).stderr(Stdio::inherit()).output().expect("cannot run start.sh");
        assert!(
            out.status.success(),
            "the FlyteAdmin stand-in did not start ({}): see {}/server.log",
            start.display(),
            data.display()
        );
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 3, "unexpected start.sh output `{line}`");
        let config = dir.join(format!("{name}-config.yaml"));
        std::fs::write(&config, format!("admin:\n  endpoint: dns:///{}\n  insecure: true\n", parts[1])).unwrap();
        Admin { pid: parts[0].parse().unwrap(), grpc: parts[1].to_string(), data, config }
    }

    fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data.join("calls.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.pid, libc::SIGTERM);
        }
    }
}

/// A fresh copy of a project under `dir`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "__pycache__" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Env { dir }
    }
    /// A fresh environment with its own copy of examples/shop (returned: the copy's folder).
    fn with_shop() -> (Env, PathBuf) {
        let env = Env::new();
        let proj = env.path().join("shop");
        copy_tree(&repo().join("examples/shop"), &proj);
        (env, proj)
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn fledge(&self, cwd: &Path, args: &[&str]) -> (Output, Duration) {
        self.fledge_with(cwd, args, &[])
    }
    /// `fledge register` with extra environment variables (they win over the ones set here).
    fn fledge_with(&self, cwd: &Path, args: &[&str], vars: &[(&str, &Path)]) -> (Output, Duration) {
        let t = Instant::now();
        let out = self.register_command(cwd, args, vars).output().unwrap();
        (out, t.elapsed())
    }
    /// The command `fledge_with` runs, for a caller that runs it otherwise.
    fn register_command(&self, cwd: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Command {
        let mut cmd = Command::new(fledge_bin());
        cmd.arg("register")
            .args(args)
            .current_dir(cwd)
            .env("VIRTUAL_ENV", venv_of(flytekit_python()))
            .env("HOME", self.path().join("home"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env_remove("FLYTECTL_CONFIG")
            .env_remove("FLYTE_PLATFORM_URL")
            .envs(vars.iter().copied())
            .stdin(Stdio::null());
        cmd
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn method(c: &Value) -> &str {
    c["method"].as_str().unwrap_or_default()
}

const IMAGE: &str = "ghcr.io/example/shop:v1";

#[test]
fn registers_the_example_like_pyflyte_in_order_and_idempotently() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "fledge");
    let cfg = admin.config.to_str().unwrap().to_string();

    // 1. First registration.
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--version", "v1", "--image", IMAGE, "shop"]);
    assert!(out.status.success(), "fledge register failed:\n{}", text(&out));
    let calls = admin.calls();
    let pos = |pred: &dyn Fn(&Value) -> bool| calls.iter().position(pred);
    let all = |m: &str| calls.iter().enumerate().filter(|(_, c)| method(c) == m).map(|(i, _)| i).collect::<Vec<_>>();
    let put = pos(&|c| method(c) == "HTTP PUT" && c["status"] == 200).expect("the bundle was not PUT");
    assert!(pos(&|c| method(c) == "DataProxyService/CreateUploadLocation").unwrap() < put);
    let (tasks, wfs, lps) =
        (all("AdminService/CreateTask"), all("AdminService/CreateWorkflow"), all("AdminService/CreateLaunchPlan"));
    assert_eq!((tasks.len(), wfs.len(), lps.len()), (15, 2, 3), "{calls:#?}");
    assert!(calls.iter().all(|c| c["code"] == "OK" || method(c) == "HTTP PUT"), "{calls:#?}");
    assert!(tasks.iter().all(|&t| t > put), "a task was created before the bundle was uploaded");
    assert!(tasks.iter().max() < wfs.iter().min(), "workflows must come after every task");
    // Each launch plan after the workflow it launches.
    for &l in &lps {
        let name = calls[l]["id"].as_str().unwrap().split('/').nth(2).unwrap().split('@').next().unwrap().to_string();
        if let Some(w) = wfs.iter().find(|&&w| calls[w]["id"].as_str().unwrap().contains(&format!("/{name}@"))) {
            assert!(*w < l, "launch plan {name} before its workflow");
        }
    }

    // 2. pyflyte register of the same project and version on another stand-in, then FlyteRemote read-back.
    let py_admin = Admin::start(env.path(), "pyflyte");
    let pyflyte = flytekit_python().with_file_name("pyflyte");
    let out = Command::new(&pyflyte)
        .args([
            "--config",
            py_admin.config.to_str().unwrap(),
            "register",
            "--project",
            "flytesnacks",
            "--domain",
            "development",
        ])
        .args(["--image", IMAGE, "--version", "v1", "shop"])
        .current_dir(&proj)
        .env("HOME", env.path().join("home"))
        .env("FLYTE_SDK_LOGGING_LEVEL", "40")
        .output()
        .unwrap();
    assert!(out.status.success(), "pyflyte register failed:\n{}", text(&out));
    let out = Command::new(flytekit_python())
        .arg(repo().join("tests/e2e/register/compare.py"))
        .args([&cfg, py_admin.config.to_str().unwrap(), "flytesnacks", "development", "v1"])
        .env("HOME", env.path().join("home"))
        .output()
        .unwrap();
    assert!(out.status.success(), "specs differ between fledge and pyflyte:\n{}", text(&out));
    let summary: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(summary["compared"], 20, "{summary}");

    // 3. Unchanged re-registration: nothing created, no upload, one call per entity at most.
    let before = admin.calls().len();
    let (out, took) =
        env.fledge(&proj, &["--config", &cfg, "--version", "v1", "--image", IMAGE, "shop", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["created"], 0, "{report}");
    assert_eq!(report["counts"]["already_present"], 20, "{report}");
    let again: Vec<Value> = admin.calls()[before..].to_vec();
    assert!(
        !again.iter().any(|c| method(c) == "HTTP PUT" || method(c).contains("CreateUploadLocation")),
        "re-uploaded: {again:#?}"
    );
    assert!(!again.iter().any(|c| c["code"] == "OK" && method(c).contains("Create")), "created something: {again:#?}");
    let mut ids: Vec<String> =
        again.iter().filter(|c| method(c).contains("Create")).map(|c| format!("{}{}", method(c), c["id"])).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate calls: {again:#?}");
    eprintln!("unchanged re-registration took {took:?}");

    // 3b. The same from a machine without fledge's cache: every entity answers ALREADY_EXISTS, which
    // is success and is not retried (exactly one Create per entity).
    std::fs::remove_dir_all(env.path().join("cache")).unwrap();
    let before = admin.calls().len();
    let (out, _) =
        env.fledge(&proj, &["--config", &cfg, "--version", "v1", "--image", IMAGE, "shop", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["already_present"], 20, "{report}");
    let again: Vec<Value> = admin.calls()[before..].to_vec();
    let creates: Vec<&Value> = again.iter().filter(|c| method(c).starts_with("AdminService/Create")).collect();
    assert_eq!(creates.len(), 20, "one Create per entity, no retries: {again:#?}");
    assert!(creates.iter().all(|c| c["code"] == "ALREADY_EXISTS"), "{again:#?}");

    // 4. Content version: stable across runs, nothing new the second time.
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--image", IMAGE, "shop", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["version_source"], "content version");
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--image", IMAGE, "shop", "--format", "json"]);
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["entity_version"], second["entity_version"]);
    assert_eq!(second["counts"]["created"], 0, "{second}");

    // 5. A changed task under the same explicit version: a clear error showing what differs.
    let pricing = proj.join("shop/pricing.py");
    let code = std::fs::read_to_string(&pricing).unwrap();
    std::fs::write(&pricing, format!("{code}\n# changed\n")).unwrap();
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--version", "v1", "--image", IMAGE, "shop"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("different structure") && t.contains("register the change under a new version"), "{t}");
    assert!(t.contains("what differs") && t.contains(".tar.gz"), "the difference is not shown:\n{t}");
    // A content version registers the change as a new version.
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--image", IMAGE, "shop", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let changed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(changed["entity_version"], first["entity_version"]);
    assert_eq!(changed["counts"]["created"], 20, "{changed}");
}

#[test]
fn a_project_with_a_type_error_is_refused_before_anything_is_sent() {
    let env = Env::new();
    let proj = env.path().join("proj");
    std::fs::create_dir_all(proj.join("wf")).unwrap();
    std::fs::write(proj.join("wf/__init__.py"), "").unwrap();
    std::fs::write(
        proj.join("wf/flow.py"),
        "from flytekit import task, workflow\n\n\n@task\ndef name() -> str:\n    return \"x\"\n\n\n@task\ndef double(n: int) -> int:\n    return n * 2\n\n\n@workflow\ndef wf() -> int:\n    return double(n=name())\n",
    )
    .unwrap();
    let admin = Admin::start(env.path(), "admin");
    let (out, _) = env.fledge(&proj, &["--config", admin.config.to_str().unwrap(), "--version", "v1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("type-mismatch") && t.contains("refusing to register"), "{t}");
    assert!(admin.calls().is_empty(), "calls were sent: {:#?}", admin.calls());
}

#[test]
fn a_dead_endpoint_is_a_clear_error() {
    let (env, proj) = Env::with_shop();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = env.path().join("dead.yaml");
    std::fs::write(&cfg, format!("admin:\n  endpoint: dns:///127.0.0.1:{port}\n  insecure: true\n")).unwrap();
    let (out, took) = env.fledge(&proj, &["--config", cfg.to_str().unwrap(), "--image", IMAGE]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("cannot reach FlyteAdmin at 127.0.0.1:{port}")) && t.contains("nothing was registered"),
        "{t}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn an_upload_failure_registers_nothing_and_a_rerun_finishes() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    // The blob store cannot write under the project: the PUT fails.
    std::fs::create_dir_all(admin.data.join("blobs")).unwrap();
    let blocker = admin.data.join("blobs/flytesnacks");
    std::fs::write(&blocker, "not a folder").unwrap();
    let cfg = admin.config.to_str().unwrap().to_string();
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--image", IMAGE]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("upload of the code bundle") && t.contains("nothing was registered"), "{t}");
    assert!(!admin.calls().iter().any(|c| method(c).starts_with("AdminService/Create")), "{:#?}", admin.calls());
    // Fixed: the same command finishes the job.
    std::fs::remove_file(&blocker).unwrap();
    let (out, _) = env.fledge(&proj, &["--config", &cfg, "--image", IMAGE, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["created"], 20, "{report}");
}

#[test]
fn dry_run_prints_the_plan_and_sends_nothing() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let (out, _) = env.fledge(
        &proj,
        &["--config", admin.config.to_str().unwrap(), "--image", IMAGE, "--dry-run", "--format", "json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["counts"]["created"], 20, "{report}");
    assert_eq!(report["entity_version"].as_str().unwrap().len(), 22);
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
}

/// tests/e2e/register/auth_proxy.py in front of a stand-in: demands a bearer token.
struct AuthProxy {
    child: std::process::Child,
    addr: String,
    token_url: String,
    log: PathBuf,
}

impl AuthProxy {
    fn start(dir: &Path, admin: &Admin, args: &[&str]) -> AuthProxy {
        use std::io::BufRead;
        let install = repo().join("../shared/flyteadmin/install.sh");
        let out = Command::new("bash").arg(&install).stderr(Stdio::inherit()).output().expect("cannot run install.sh");
        assert!(out.status.success(), "the stand-in's venv could not be set up ({})", install.display());
        let py = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let log = dir.join("auth.jsonl");
        let mut child = Command::new(&py)
            .arg(repo().join("tests/e2e/register/auth_proxy.py"))
            .arg(&admin.grpc)
            .arg(&log)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("auth_proxy.py did not start within 60 s");
        let field = |i: usize| {
            line.split_whitespace().nth(i).unwrap_or_else(|| panic!("auth_proxy.py said `{line}`")).to_string()
        };
        AuthProxy { child, addr: field(1), token_url: field(2), log }
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for AuthProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn client_credentials_are_used_and_an_expired_token_is_refreshed_once() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let proxy = AuthProxy::start(
        env.path(),
        &admin,
        &["--client-id", "fledge", "--client-secret", "s3cret", "--expire-after", "6"],
    );
    let secret = env.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let cfg = env.path().join("auth.yaml");
    std::fs::write(
        &cfg,
        format!(
            "admin:\n  endpoint: dns:///{}\n  insecure: true\n  authType: ClientSecret\n  clientId: fledge\n  clientSecretLocation: {}\n",
            proxy.addr,
            secret.display()
        ),
    )
    .unwrap();
    let (out, _) = env.fledge(&proj, &["--config", cfg.to_str().unwrap(), "--image", IMAGE, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["created"], 20, "{report}");
    let log = proxy.log();
    let tokens = log.iter().filter(|c| c["method"] == "POST /token" && c["ok"] == true).count();
    let refused = log.iter().filter(|c| c["authorized"] == false).count();
    assert!(tokens >= 2 && refused >= 1, "expected a refresh after the token expired: {log:#?}");
    // Every entity was created exactly once on the server behind the proxy.
    let creates = admin.calls().iter().filter(|c| method(c).starts_with("AdminService/Create")).count();
    assert_eq!(creates, 20, "{:#?}", admin.calls());
}

#[test]
fn a_wrong_token_is_a_clear_error_and_nothing_is_registered() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let proxy = AuthProxy::start(env.path(), &admin, &[]);
    let cfg = env.path().join("auth.yaml");
    let write_cfg = |token: &str| {
        std::fs::write(
            &cfg,
            format!(
                "admin:\n  endpoint: dns:///{}\n  insecure: true\n  authType: ExternalCommand\n  command: [\"echo\", \"{token}\"]\n",
                proxy.addr
            ),
        )
        .unwrap()
    };
    write_cfg("wrong-token");
    let (out, _) = env.fledge(&proj, &["--config", cfg.to_str().unwrap(), "--image", IMAGE]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Unauthenticated") && t.contains("token was refused") && t.contains("nothing was registered"),
        "{t}"
    );
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
    // With the right token the same command registers everything.
    write_cfg("static-token");
    let (out, _) = env.fledge(&proj, &["--config", cfg.to_str().unwrap(), "--image", IMAGE, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["created"], 20, "{report}");
}

/// Runs `serialize.py` (the script `fledge register` runs) on `root`'s package `target` with the
/// given environment; the entity frames it wrote (kind, name, bytes), without the trailer.
/// Runs serialize.py (fresh interpreter) on `target` under `root`; its output file and result.
fn run_serializer(root: &Path, target: &str, envs: &[(&str, &str)]) -> (PathBuf, Output) {
    let out = root.join(format!("frames-{}", envs.iter().map(|(k, v)| format!("{k}{v}")).collect::<String>()));
    let req = serde_json::json!({
        "root": root, "targets": [root.join(target)], "project": "flytesnacks", "domain": "development",
        "version": "v1", "images": [IMAGE], "config_file": null, "destination_dir": "/root",
        "distribution_location": "s3://bucket/fast0123.tar.gz", "env": {}, "service_account": "",
        "raw_data_prefix": "",
    });
    let run = Command::new(flytekit_python())
        .arg(repo().join("cli/src/register/serialize.py"))
        .arg(req.to_string())
        .arg(&out)
        .current_dir(root)
        .env("PYTHONHASHSEED", "0")
        .env("FLYTE_SDK_LOGGING_LEVEL", "40")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    (out, run)
}

fn serialize_frames(root: &Path, target: &str, envs: &[(&str, &str)]) -> Vec<(u32, String, Vec<u8>)> {
    let (out, run) = run_serializer(root, target, envs);
    assert!(run.status.success(), "serialize.py failed with {envs:?}:\n{}", text(&run));
    let bytes = std::fs::read(&out).unwrap();
    let (mut at, mut frames) = (0, Vec::new());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    while at < bytes.len() {
        let (kind, n) = (u32_at(at), u32_at(at + 4) as usize);
        let name = String::from_utf8_lossy(&bytes[at + 8..at + 8 + n]).into_owned();
        let size = u32_at(at + 8 + n) as usize;
        let data = bytes[at + 12 + n..at + 12 + n + size].to_vec();
        at += 12 + n + size;
        if kind != 0 {
            frames.push((kind, name, data));
        }
    }
    frames
}

#[test]
fn serializing_in_forked_processes_with_memoized_types_gives_flytekits_bytes_in_its_order() {
    let env = Env::new();
    let gen = env.path().join("gen");
    let made = Command::new(flytekit_python())
        .arg(repo().join("../shared/bench/gen_project.py"))
        .args(["--modules", "25", "--out"])
        .arg(&gen)
        .output()
        .unwrap();
    assert!(made.status.success(), "gen_project.py failed:\n{}", text(&made));
    let shop = env.path().join("shop");
    copy_tree(&repo().join("examples/shop"), &shop);
    for (root, target) in [(&gen, "benchproj"), (&shop, "shop")] {
        // flytekit as it is: one process, every type converted each time it is met.
        let plain =
            serialize_frames(root, target, &[("FLEDGE_SERIALIZE_PLAIN", "1"), ("FLEDGE_SERIALIZE_WORKERS", "1")]);
        assert!(plain.len() > 10, "{target}: only {} entities", plain.len());
        for workers in ["2", "3"] {
            let fast = serialize_frames(root, target, &[("FLEDGE_SERIALIZE_WORKERS", workers)]);
            let names = |f: &[(u32, String, Vec<u8>)]| f.iter().map(|(k, n, _)| format!("{k}:{n}")).collect::<Vec<_>>();
            assert_eq!(names(&fast), names(&plain), "{target}, {workers} processes: other entities or order");
            for (a, b) in fast.iter().zip(&plain) {
                assert!(a.2 == b.2, "{target}, {workers} processes: {} {} serialized differently", a.0, a.1);
            }
        }
    }
}

#[test]
fn the_return_statement_shortcut_gives_flytekits_answers() {
    let env = Env::new();
    let root = env.path().join("proj");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    let task = |body: &str| format!("from flytekit import task\n\n\n@task\ndef t(x: int) -> int:\n{body}\n");
    // Only flytekit's tokenizer finds the word in the comment after the last line of code.
    let accepted = task("    print(x)\n    # the value is returned by the framework");
    let refused = task("    print(x)\n\n\nVALUE = 1  # return");
    for (code, ok) in [(accepted, true), (refused, false)] {
        std::fs::write(root.join("pkg/mod.py"), &code).unwrap();
        let (_, plain) = run_serializer(&root, "pkg", &[("FLEDGE_SERIALIZE_PLAIN", "1")]);
        let (_, fast) = run_serializer(&root, "pkg", &[]);
        assert_eq!(plain.status.success(), ok, "flytekit itself:\n{}", text(&plain));
        assert_eq!(fast.status.success(), ok, "with the shortcut:\n{}", text(&fast));
        if !ok {
            let error = |o: &Output| {
                text(o).lines().rev().find(|l| l.starts_with("fledge-serialize-error")).map(str::to_string)
            };
            assert!(error(&fast).is_some_and(|e| e.contains("FlyteMissingReturnValueException")), "{}", text(&fast));
            assert_eq!(error(&fast), error(&plain));
        }
    }
}

/// A TLS front for a stand-in: a throw-away CA and a server certificate for localhost/127.0.0.1
/// (rcgen), and a proxy that ends TLS (ALPN `h2`) and copies the bytes to the stand-in's plain
/// gRPC port, which speaks HTTP/2 with prior knowledge. Stops with its runtime on drop.
struct TlsFront {
    addr: String,
    ca_file: PathBuf,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    fn start(dir: &Path, backend: &str) -> TlsFront {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "fledge test CA");
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &ca).unwrap();
        let ca_file = dir.join("test-ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();

        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let backend = backend.to_string();
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                tokio::spawn(async move {
                    // A client that does not speak TLS fails here and is disconnected.
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront { addr: format!("localhost:{port}"), ca_file, _runtime: runtime }
    }
}

/// The TLS settings against a real TLS endpoint: an unknown CA is refused with a clear error, plain
/// text against TLS fails fast, a CA file registers everything, `insecureSkipVerify` connects with
/// a warning. One stand-in and one registration for all of them.
#[test]
fn tls_with_a_ca_file_without_it_skipping_verification_and_plain_text() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let front = TlsFront::start(env.path(), &admin.grpc);
    let cfg = env.path().join("tls.yaml");
    let run = |settings: &str, extra: &[&str]| {
        std::fs::write(&cfg, format!("admin:\n  endpoint: dns:///{}\n{settings}", front.addr)).unwrap();
        let mut args = vec!["--config", cfg.to_str().unwrap(), "--version", "v1", "--image", IMAGE];
        args.extend_from_slice(extra);
        env.fledge(&proj, &args)
    };
    let creates = || admin.calls().iter().filter(|c| method(c).starts_with("AdminService/Create")).count();

    // (b) System roots only: the test CA is unknown.
    let (out, took) = run("", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("TLS certificate verification failed for FlyteAdmin at {}", front.addr))
            && t.contains("caCertFilePath")
            && t.contains("nothing was registered"),
        "{t}"
    );
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
    assert!(took < Duration::from_secs(30), "took {took:?}");

    // (d) Plain text against the TLS port: an error, not a hang.
    let (out, took) = run("  insecure: true\n", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&front.addr) && t.contains("remove `insecure: true`") && t.contains("nothing was registered"),
        "{t}"
    );
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
    assert!(took < Duration::from_secs(30), "took {took:?}");

    // (a) The CA file: everything is registered over TLS.
    let ca = format!("  caCertFilePath: {}\n", front.ca_file.display());
    let (out, _) = run(&ca, &["--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["created"], 20, "{report}");
    assert_eq!(creates(), 20, "{:#?}", admin.calls());
    assert!(!text(&out).contains("verification is off"), "{}", text(&out));

    // (c) Verification off (no CA file): connects with a warning; the unchanged project is found
    // registered through a call over that connection.
    let before = admin.calls().len();
    let (out, _) = run("  insecureSkipVerify: true\n", &["--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["already_present"], 20, "{report}");
    let warning = format!("warning: TLS certificate verification is off for {}", front.addr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().filter(|l| l.contains(&warning)).count(), 1, "{stderr}");
    let again = admin.calls()[before..].to_vec();
    assert!(!again.is_empty() && again.iter().all(|c| c["code"] == "OK"), "{again:#?}");
    assert_eq!(creates(), 20, "{:#?}", admin.calls());
}

/// A browser login (`authType: Pkce`) against auth_proxy.py's `--pkce` mode: `BROWSER` is a script
/// that notes each URL it is given and fetches it following redirects, as a browser would (the
/// proxy's /authorize redirects at once to fledge's callback).
struct Pkce {
    proxy: AuthProxy,
    cfg: PathBuf,
    browser: PathBuf,
    browser_log: PathBuf,
    tokens_dir: PathBuf,
    redirect: String,
}

impl Pkce {
    fn start(env: &Env, admin: &Admin, extra: &[&str]) -> Pkce {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let redirect = format!("http://localhost:{port}/callback");
        let mut args = vec!["--pkce", redirect.as_str()];
        args.extend_from_slice(extra);
        let proxy = AuthProxy::start(env.path(), admin, &args);
        let browser_log = env.path().join("browser.log");
        let browser = env.path().join("browser.sh");
        std::fs::write(
            &browser,
            format!(
                "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30).read()' \"$1\"\n",
                browser_log.display(),
                flytekit_python().display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cfg = env.path().join("pkce.yaml");
        std::fs::write(
            &cfg,
            format!("admin:\n  endpoint: dns:///{}\n  insecure: true\n  authType: Pkce\n", proxy.addr),
        )
        .unwrap();
        Pkce { proxy, cfg, browser, browser_log, tokens_dir: env.path().join("cache/fledge/tokens"), redirect }
    }

    fn register(&self, env: &Env, proj: &Path) -> Output {
        let args = ["--config", self.cfg.to_str().unwrap(), "--image", IMAGE, "--format", "json"];
        env.fledge_with(proj, &args, &[("BROWSER", &self.browser)]).0
    }

    fn browser_runs(&self) -> usize {
        std::fs::read_to_string(&self.browser_log).unwrap_or_default().lines().count()
    }

    /// Successful grants of this type at the token endpoint.
    fn grants(&self, grant: &str) -> usize {
        self.proxy
            .log()
            .iter()
            .filter(|c| c["method"] == "POST /token" && c["grant"] == grant && c["ok"] == true)
            .count()
    }

    fn token_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(&self.tokens_dir) {
            Ok(d) => d.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn token_file(&self) -> PathBuf {
        let files = self.token_files();
        assert_eq!(files.len(), 1, "one cached login expected: {files:?}");
        files[0].clone()
    }
}

fn created(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["failed"], 0, "{report}");
    report
}

#[test]
fn a_pkce_browser_login_registers_and_its_cached_token_is_reused() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let pkce = Pkce::start(&env, &admin, &[]);
    let out = pkce.register(&env, &proj);
    let report = created(&out);
    assert_eq!(report["counts"]["created"], 20, "{report}");
    assert_eq!(pkce.browser_runs(), 1, "{}", text(&out));
    let url = std::fs::read_to_string(&pkce.browser_log).unwrap();
    assert!(url.contains("code_challenge_method=S256") && url.contains("scope=offline+all"), "{url}");
    // The URL is also printed for a user without a browser.
    assert!(String::from_utf8_lossy(&out.stderr).contains(url.trim()), "{}", text(&out));
    assert_eq!(pkce.grants("authorization_code"), 1, "{:#?}", pkce.proxy.log());
    let file = pkce.token_file();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(saved["access_token"].is_string() && saved["refresh_token"].is_string(), "{saved}");
    assert_eq!(saved["endpoint"], pkce.proxy.addr.as_str(), "{saved}");
    assert_eq!(saved["client_id"], "flytectl", "{saved}");

    // A second run uses the cached token: no browser, no token request, nothing refused.
    let out = pkce.register(&env, &proj);
    created(&out);
    assert_eq!(pkce.browser_runs(), 1, "{}", text(&out));
    let log = pkce.proxy.log();
    assert_eq!(log.iter().filter(|c| c["method"] == "POST /token").count(), 1, "{log:#?}");
    assert!(log.iter().all(|c| c["authorized"] != false), "{log:#?}");
    let creates = admin.calls().iter().filter(|c| method(c).starts_with("AdminService/Create")).count();
    assert_eq!(creates, 20, "{:#?}", admin.calls());
}

#[test]
fn an_expired_pkce_token_is_renewed_with_the_refresh_token_not_the_browser() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    // Every access token dies after 6 accepted calls, in the middle of the registration.
    let pkce = Pkce::start(&env, &admin, &["--expire-after", "6"]);
    let out = pkce.register(&env, &proj);
    let report = created(&out);
    assert_eq!(report["counts"]["created"], 20, "{report}");
    assert_eq!(pkce.browser_runs(), 1, "{}", text(&out));
    let log = pkce.proxy.log();
    assert!(log.iter().any(|c| c["authorized"] == false), "the token never expired: {log:#?}");
    // Many calls in flight were refused together; they caused one renewal.
    assert_eq!(pkce.grants("refresh_token"), 1, "{log:#?}");
    assert_eq!(pkce.grants("authorization_code"), 1, "{log:#?}");

    // The cached access token has expired (its time is up): the next run renews it at start with
    // the refresh token saved by the renewal above (the proxy rotates them), without a browser.
    let file = pkce.token_file();
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    saved["expires_at"] = 1.into();
    std::fs::write(&file, serde_json::to_vec(&saved).unwrap()).unwrap();
    let out = pkce.register(&env, &proj);
    created(&out);
    assert_eq!(pkce.browser_runs(), 1, "{}", text(&out));
    assert_eq!(pkce.grants("refresh_token"), 2, "{:#?}", pkce.proxy.log());
    assert_eq!(pkce.grants("authorization_code"), 1, "{:#?}", pkce.proxy.log());
    let renewed: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_ne!(renewed["access_token"], saved["access_token"]);
    assert_ne!(renewed["refresh_token"], saved["refresh_token"]);

    // A corrupt cache file is ignored: a new browser login, and the file is replaced.
    std::fs::write(&file, "{ not json").unwrap();
    let out = pkce.register(&env, &proj);
    created(&out);
    assert_eq!(pkce.browser_runs(), 2, "{}", text(&out));
    assert_eq!(pkce.grants("authorization_code"), 2, "{:#?}", pkce.proxy.log());
    let replaced: Value = serde_json::from_slice(&std::fs::read(pkce.token_file()).unwrap()).unwrap();
    assert!(replaced["access_token"].is_string(), "{replaced}");
}

#[test]
fn a_denied_pkce_login_is_a_clear_error_and_nothing_is_registered() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let pkce = Pkce::start(&env, &admin, &["--deny"]);
    let out = pkce.register(&env, &proj);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("access_denied") && t.contains("The user denied the request"), "{t}");
    assert!(t.contains("nothing was registered"), "{t}");
    assert_eq!(pkce.browser_runs(), 1, "{t}");
    assert_eq!(pkce.grants("authorization_code"), 0, "{:#?}", pkce.proxy.log());
    assert!(pkce.token_files().is_empty(), "{:?}", pkce.token_files());
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
}

/// Without a browser to start and without a terminal (CI), a browser login cannot happen: a clear
/// error at once, not after the five-minute login timeout.
#[test]
fn a_pkce_login_without_browser_or_terminal_fails_at_once() {
    let (env, proj) = Env::with_shop();
    let admin = Admin::start(env.path(), "admin");
    let pkce = Pkce::start(&env, &admin, &[]);
    let args = ["--config", pkce.cfg.to_str().unwrap(), "--image", IMAGE];
    let missing = env.path().join("no-such-browser");
    let (out, took) = env.fledge_with(&proj, &args, &[("BROWSER", &missing)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("no browser could be started") && t.contains("ClientSecret"), "{t}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(admin.calls().is_empty(), "{:#?}", admin.calls());
}

/// The stand-in's token endpoint checks the PKCE verifier (so the tests above prove fledge sends the
/// right one): a wrong verifier is refused, the right one accepted.
#[test]
fn the_test_token_endpoint_refuses_a_wrong_pkce_verifier() {
    use base64::Engine;
    use sha2::Digest;
    let env = Env::new();
    let admin = Admin::start(env.path(), "admin");
    let pkce = Pkce::start(&env, &admin, &[]);
    let agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let verifier = "the-right-verifier-0123456789-0123456789-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let code = || -> String {
        let resp = agent
            .get(pkce.proxy.token_url.replace("/token", "/authorize"))
            .query("response_type", "code")
            .query("client_id", "flytectl")
            .query("redirect_uri", &pkce.redirect)
            .query("code_challenge", &challenge)
            .query("code_challenge_method", "S256")
            .query("state", "s")
            .call()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 302);
        let location = resp.headers().get("location").unwrap().to_str().unwrap().to_string();
        location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string()
    };
    let exchange = |code: &str, verifier: &str| -> u16 {
        agent
            .post(&pkce.proxy.token_url)
            .send_form([
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", pkce.redirect.as_str()),
                ("client_id", "flytectl"),
                ("code_verifier", verifier),
            ])
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(exchange(&code(), "a-wrong-verifier-0123456789-0123456789-0123456789"), 400);
    let good = code();
    assert_eq!(exchange(&good, verifier), 200);
    // Each code is good once.
    assert_eq!(exchange(&good, verifier), 400);
}

/// Stops the warm serializers started under a cache folder when the test ends (they would leave
/// by themselves within 30 s of the folder's removal).
struct StopServers(PathBuf);

impl Drop for StopServers {
    fn drop(&mut self) {
        let _ = Command::new("pkill").arg("-9").arg("-f").arg(self.0.join("fledge/serializers")).status();
    }
}

/// The entities (kind, name, base64 bytes) of the one serialization stored under a cache folder,
/// removed so that the next registration serializes again.
fn take_serialized(cache: &Path) -> Value {
    let dir = cache.join("fledge/register");
    let mut found = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        match path.extension().and_then(|x| x.to_str()) {
            Some("json") => found.push(serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()).unwrap()),
            Some("done") => {}
            _ => continue,
        }
        std::fs::remove_file(&path).unwrap();
    }
    assert_eq!(found.len(), 1, "expected one stored serialization in {}", dir.display());
    found.pop().unwrap()["entities"].take()
}

fn clear_serialized(cache: &Path) {
    for e in std::fs::read_dir(cache.join("fledge/register")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json" || x == "done") {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

fn servers_started(cache: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(cache.join("fledge/serializers")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "log") {
            n += std::fs::read_to_string(&path).unwrap().lines().filter(|l| l.starts_with("serving ")).count();
        }
    }
    n
}

#[test]
fn a_warm_serializer_gives_a_fresh_interpreters_bytes_and_restarts_when_a_library_changes() {
    let (env, proj) = Env::with_shop();
    // A library outside the project (on PYTHONPATH), whose value ends up in a launch plan.
    let lib = env.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("shoplib.py"), "DEFAULT_ORDERS = 6\n").unwrap();
    let pipeline = proj.join("shop/pipeline.py");
    let code = std::fs::read_to_string(&pipeline).unwrap();
    let code = code.replacen("import functools\n", "import functools\n\nimport shoplib\n", 1).replacen(
        "n_orders: int = 6,",
        "n_orders: int = shoplib.DEFAULT_ORDERS,",
        1,
    );
    assert!(code.contains("shoplib.DEFAULT_ORDERS"));
    std::fs::write(&pipeline, code).unwrap();

    let admin = Admin::start(env.path(), "admin");
    let cfg = admin.config.to_str().unwrap().to_string();
    let (fresh_cache, warm_cache) = (env.path().join("fresh-cache"), env.path().join("warm-cache"));
    let _stop = StopServers(warm_cache.clone());
    let vars = |warm: bool| {
        let cache = if warm { &warm_cache } else { &fresh_cache };
        let idle = Path::new(if warm { "600" } else { "0" });
        // Relative, as a fresh interpreter started in the project root reads it.
        [("XDG_CACHE_HOME", cache.as_path()), ("FLEDGE_SERIALIZER_IDLE", idle), ("PYTHONPATH", Path::new("../lib"))]
    };
    let register = |version: &str, warm: bool| {
        let args = ["--config", &cfg, "--version", version, "--image", IMAGE, "--format", "json", "shop"];
        env.fledge_with(&proj, &args, &vars(warm)).0
    };
    let warm_flag = |out: &Output| created(out)["timings"]["flytekit_warm_server"].clone();

    // 1. A fresh interpreter, then the first warm registration (it starts the server) and a
    //    second one (served by the same server): the same bytes, entity for entity, in order.
    let out = register("v1", false);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(warm_flag(&out), false);
    let fresh = take_serialized(&fresh_cache);
    for round in 1..=2 {
        let out = register("v1", true);
        assert!(out.status.success(), "warm round {round}:\n{}", text(&out));
        assert_eq!(warm_flag(&out), true, "round {round} was not served by a warm server");
        assert!(take_serialized(&warm_cache) == fresh, "round {round}: the warm server's bytes differ");
    }
    assert_eq!(servers_started(&warm_cache), 1, "the second registration should reuse the server");

    // 2. The library changes: the server notices, leaves, and a new one serializes the new value.
    std::fs::write(lib.join("shoplib.py"), "DEFAULT_ORDERS = 12\n").unwrap();
    let out = register("v2", true);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(warm_flag(&out), true);
    let warm = take_serialized(&warm_cache);
    let out = register("v2", false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(warm == take_serialized(&fresh_cache), "after the library changed, warm and fresh bytes differ");
    assert_eq!(servers_started(&warm_cache), 2, "a changed library must start a new server");

    // 3. A module that kills its own process: a clear error; the server itself survives it.
    std::fs::write(proj.join("shop/boom.py"), "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)\n")
        .unwrap();
    let out = register("v3", true);
    assert!(!out.status.success());
    assert!(text(&out).contains("ended without a status"), "{}", text(&out));
    std::fs::remove_file(proj.join("shop/boom.py")).unwrap();
    let out = register("v3", true);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(servers_started(&warm_cache), 2, "the server must survive a request's crash");

    // 4. A server killed without cleaning up (its socket file left behind): the next
    //    registration starts a new one.
    let killed = Command::new("pkill").arg("-9").arg("-f").arg(warm_cache.join("fledge/serializers")).status().unwrap();
    assert!(killed.success(), "no warm server process found to kill");
    std::thread::sleep(Duration::from_millis(200));
    clear_serialized(&warm_cache);
    let out = register("v3", true);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(warm_flag(&out), true);
    assert_eq!(servers_started(&warm_cache), 3);

    // 5. Three registrations at once with no server running start one server, not three.
    let killed = Command::new("pkill").arg("-9").arg("-f").arg(warm_cache.join("fledge/serializers")).status().unwrap();
    assert!(killed.success());
    let outs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = ["v5a", "v5b", "v5c"].iter().map(|v| scope.spawn(|| register(v, true))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outs {
        assert!(out.status.success(), "{}", text(out));
        assert_eq!(warm_flag(out), true);
    }
    assert_eq!(servers_started(&warm_cache), 4, "concurrent registrations must share one new server");

    // 6. A library that defines a task when imported: kept out of the server (its entities would
    //    come first, or be registered when the targets do not import it), bytes still equal.
    std::fs::write(
        lib.join("shoptasks.py"),
        "from flytekit import task\n\n\n@task\ndef shared(x: int) -> int:\n    return x\n",
    )
    .unwrap();
    let code = std::fs::read_to_string(&pipeline).unwrap().replacen(
        "import shoplib\n",
        "import shoplib\nimport shoptasks\n",
        1,
    );
    std::fs::write(&pipeline, code).unwrap();
    for version in ["v6", "v7"] {
        clear_serialized(&warm_cache);
        let out = register(version, true);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(warm_flag(&out), true, "{version}: {}", String::from_utf8_lossy(&out.stderr));
        let warm = take_serialized(&warm_cache);
        let out = register(version, false);
        assert!(out.status.success(), "{}", text(&out));
        let fresh = take_serialized(&fresh_cache);
        assert!(fresh.to_string().contains("shoptasks.shared"), "the library's task is registered");
        assert!(warm == fresh, "{version}: with a library that defines a task, warm and fresh bytes differ");
    }
    let skip = std::fs::read_dir(warm_cache.join("fledge/serializers"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".skip"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap_or_default();
    assert_eq!(skip.trim(), "shoptasks");
    assert_eq!(servers_started(&warm_cache), 5, "the server that imported the library must leave");

    // 7. fledge killed while the project's code hangs: the request's process stops with it (it is
    //    not in fledge's process group, so nothing else would stop it).
    std::fs::write(proj.join("shop/slow.py"), "import time\n\ntime.sleep(120)\n").unwrap();
    let pattern = warm_cache.join("fledge/serializers");
    let processes = || {
        let out = Command::new("pgrep").arg("-f").arg(&pattern).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let mut fledge = env
        .register_command(&proj, &["--config", &cfg, "--version", "v8", "--image", IMAGE, "shop"], &vars(true))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while processes() < 2 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(processes(), 2, "the server and the request's process");
    fledge.kill().unwrap();
    fledge.wait().unwrap();
    let t0 = Instant::now();
    while processes() > 1 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(processes(), 1, "the request's process outlived fledge");
    std::fs::remove_file(proj.join("shop/slow.py")).unwrap();
}
