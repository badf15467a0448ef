//! OAuth2 authorization code flow with PKCE (RFC 7636, S256) for a browser login, and the token
//! endpoint's `authorization_code` and `refresh_token` grants. Blocking: run it off the async runtime.
//!
//! The login listens on the redirect URI's port (one local HTTP callback, std `TcpListener`), opens
//! the authorization URL with `$BROWSER` (else `xdg-open`, `open` on macOS) and always prints it too,
//! checks the callback's `state`, answers the browser with a short page, then exchanges the code.

use super::token_cache::Tokens;
use super::token_request;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long the login waits for the browser's callback.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// What a login needs, from `AuthMetadataService` and the config.
#[derive(Clone, Debug)]
pub struct LoginParams {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub audience: String,
    /// TLS for the token endpoint (CA file / skip-verify from the Flyte config).
    pub tls: ureq::tls::TlsConfig,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random_b64url(n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| format!("no system randomness for the login: {e}"))?;
    Ok(b64url(&buf))
}

/// A code verifier: 64 characters of the unreserved set (48 random bytes, base64url).
pub fn code_verifier() -> Result<String, String> {
    random_b64url(48)
}

/// `BASE64URL(SHA256(verifier))` without padding (RFC 7636 §4.2, S256).
pub fn code_challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// The URL the user's browser opens.
pub fn authorization_url(p: &LoginParams, challenge: &str, state: &str) -> Result<String, String> {
    let mut url = url::Url::parse(&p.authorization_endpoint)
        .map_err(|e| format!("the authorization endpoint `{}` is not a URL: {e}", p.authorization_endpoint))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &p.client_id)
            .append_pair("redirect_uri", &p.redirect_uri)
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        if !p.scopes.is_empty() {
            q.append_pair("scope", &p.scopes.join(" "));
        }
        if !p.audience.is_empty() {
            q.append_pair("audience", &p.audience);
        }
    }
    Ok(url.into())
}

/// The full browser login: listen, open the browser, wait for the callback, exchange the code.
/// `say` prints a line for the user (stderr).
pub fn login(p: &LoginParams, endpoint: &str, timeout: Duration, say: &dyn Fn(&str)) -> Result<Tokens, String> {
    let redirect = url::Url::parse(&p.redirect_uri)
        .map_err(|e| format!("the login redirect URI `{}` is not a URL: {e}", p.redirect_uri))?;
    if redirect.scheme() != "http" {
        return Err(format!("the login redirect URI `{}` is not a local http:// address", p.redirect_uri));
    }
    let listeners = listen(&redirect).map_err(|e| {
        format!(
            "cannot listen on {} for the login callback: {e} (is another login running, or the port in use?)",
            p.redirect_uri
        )
    })?;
    let verifier = code_verifier()?;
    let state = random_b64url(24)?;
    let url = authorization_url(p, &code_challenge(&verifier), &state)?;
    let opened = open_browser(&url);
    if !opened && !std::io::stderr().is_terminal() {
        // Nobody will see the URL in time (CI, a script): say so now rather than after the timeout.
        return Err(format!(
            "`authType: Pkce` needs a browser login, but no browser could be started ($BROWSER, {}) and this is not an interactive terminal; outside a terminal use `authType: ClientSecret` or `ExternalCommand`",
            if cfg!(target_os = "macos") { "open" } else { "xdg-open" }
        ));
    }
    say(&format!(
        "log in to {endpoint} in your browser{}:\n  {url}\nwaiting up to {} minutes for the login...",
        if opened { " (if it did not open, open this URL)" } else { ": open this URL" },
        timeout.as_secs().div_ceil(60)
    ));
    let code = wait_for_callback(&listeners, redirect.path(), &state, timeout)?;
    token_request(
        &p.token_endpoint,
        &p.tls,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &p.redirect_uri),
            ("client_id", &p.client_id),
            ("code_verifier", &verifier),
        ],
    )
}

/// A new access token from a refresh token.
pub fn refresh(
    token_endpoint: &str,
    tls: &ureq::tls::TlsConfig,
    client_id: &str,
    refresh_token: &str,
) -> Result<Tokens, String> {
    let mut t = token_request(
        token_endpoint,
        tls,
        None,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)],
    )?;
    // A server that does not rotate refresh tokens answers without one: the old one stays good.
    if t.refresh_token.is_none() {
        t.refresh_token = Some(refresh_token.to_string());
    }
    Ok(t)
}

/// Opens `url` with `$BROWSER` (a `:`-separated list of commands; `%s` stands for the URL, else it
/// is the last argument), else the desktop's opener. The command is not waited for.
fn open_browser(url: &str) -> bool {
    let commands: Vec<String> = match std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty()) {
        Some(b) => b.split(':').map(str::to_string).collect(),
        None if cfg!(target_os = "macos") => vec!["open".into()],
        None => vec!["xdg-open".into()],
    };
    for cmd in commands {
        let mut parts: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
        if parts.is_empty() {
            continue;
        }
        if parts.iter().any(|p| p.contains("%s")) {
            parts.iter_mut().for_each(|p| *p = p.replace("%s", url));
        } else {
            parts.push(url.to_string());
        }
        let child = std::process::Command::new(&parts[0])
            .args(&parts[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Ok(mut child) = child {
            // Reaped in the background; a browser may run for long.
            std::thread::spawn(move || child.wait());
            return true;
        }
    }
    false
}

/// The callback listeners for the redirect URI's host and port. `localhost` (flytekit's default
/// redirect URI) is both 127.0.0.1 and ::1, and browsers may try either first: listen on both
/// (::1 only where the machine has IPv6).
fn listen(redirect: &url::Url) -> std::io::Result<Vec<TcpListener>> {
    let port = redirect.port_or_known_default().unwrap_or(80);
    match redirect.host_str() {
        Some("localhost") | None => {
            let v4 = TcpListener::bind(("127.0.0.1", port))?;
            let port = v4.local_addr()?.port();
            let mut all = vec![v4];
            all.extend(TcpListener::bind(("::1", port)).ok());
            Ok(all)
        }
        Some(h) => Ok(vec![TcpListener::bind((h.trim_start_matches('[').trim_end_matches(']'), port))?]),
    }
}

/// Accepts connections until the callback for `path` arrives or `timeout` passes; other paths
/// (a favicon) get a 404. Returns the authorization code.
fn wait_for_callback(listeners: &[TcpListener], path: &str, state: &str, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    for l in listeners {
        l.set_nonblocking(true).map_err(|e| format!("login callback listener: {e}"))?;
    }
    loop {
        let mut idle = true;
        for listener in listeners {
            match listener.accept() {
                Ok((stream, _)) => {
                    idle = false;
                    if let Some(result) = handle_connection(stream, path, state) {
                        return result;
                    }
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {}
                Err(e) => return Err(format!("login callback listener: {e}")),
            }
        }
        if idle {
            if Instant::now() >= deadline {
                return Err(format!(
                    "no login within {} minutes: the browser never came back to the redirect URI; run the command again to retry",
                    timeout.as_secs().div_ceil(60)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One HTTP request on the callback port. `None`: not the callback, keep waiting.
fn handle_connection(mut stream: TcpStream, path: &str, state: &str) -> Option<Result<String, String>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut request_line = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (request_line.next().unwrap_or_default(), request_line.next().unwrap_or_default());
    let url = url::Url::parse(&format!("http://localhost{target}")).ok();
    let Some(url) = url.filter(|u| method == "GET" && u.path().trim_end_matches('/') == path.trim_end_matches('/'))
    else {
        respond(&mut stream, "404 Not Found", "Not found", "This is fledge's login callback.");
        return None;
    };
    let param = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    if let Some(error) = param("error") {
        let detail = param("error_description").map(|d| format!(": {d}")).unwrap_or_default();
        respond(&mut stream, "400 Bad Request", "Login failed", &format!("{error}{detail}"));
        return Some(Err(format!("the login was refused by the authorization server: {error}{detail}")));
    }
    if param("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            "Login failed",
            "The answer does not belong to this login (state mismatch).",
        );
        return Some(Err(
            "the login callback's state does not match this login (a stale or forged answer); run the command again"
                .into(),
        ));
    }
    let Some(code) = param("code").filter(|c| !c.is_empty()) else {
        respond(&mut stream, "400 Bad Request", "Login failed", "The answer has no authorization code.");
        return Some(Err("the login callback has no authorization code".into()));
    };
    respond(&mut stream, "200 OK", "Logged in", "fledge is logged in. You can close this tab.");
    Some(Ok(code))
}

fn respond(stream: &mut TcpStream, status: &str, title: &str, message: &str) {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>fledge: {t}</title></head>\
         <body style=\"font-family: sans-serif\"><h1>{t}</h1><p>{m}</p></body></html>\n",
        t = esc(title),
        m = esc(message)
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_localhost_callback_arrives_over_ipv6_or_ipv4() {
        let redirect = url::Url::parse("http://localhost:0/callback").unwrap();
        let listeners = listen(&redirect).unwrap();
        let port = listeners[0].local_addr().unwrap().port();
        let has_ipv6 = TcpListener::bind(("::1", 0)).is_ok();
        assert_eq!(listeners.len(), if has_ipv6 { 2 } else { 1 });
        let hosts: &[&str] = if has_ipv6 { &["::1", "127.0.0.1"] } else { &["127.0.0.1"] };
        for (i, host) in hosts.iter().enumerate() {
            let (host, code) = (host.to_string(), format!("code{i}"));
            let browser = std::thread::spawn(move || {
                let mut s = TcpStream::connect((host.as_str(), port)).unwrap();
                write!(s, "GET /callback?code={code}&state=st HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                answer
            });
            let got = wait_for_callback(&listeners, "/callback", "st", Duration::from_secs(10));
            assert_eq!(got, Ok(format!("code{i}")));
            assert!(browser.join().unwrap().starts_with("HTTP/1.1 200"));
        }
    }

    #[test]
    fn the_challenge_is_rfc7636s_s256() {
        // RFC 7636 appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = code_verifier().unwrap();
        assert!((43..=128).contains(&v.len()), "{v}");
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)), "{v}");
        assert_ne!(v, code_verifier().unwrap());
    }

    #[test]
    fn the_authorization_url_carries_the_parameters() {
        let p = LoginParams {
            authorization_endpoint: "https://idp.example/oauth2/authorize?tenant=x".into(),
            token_endpoint: String::new(),
            client_id: "flytectl".into(),
            redirect_uri: "http://localhost:53593/callback".into(),
            scopes: vec!["offline".into(), "all".into()],
            audience: String::new(),
            tls: ureq::tls::TlsConfig::default(),
        };
        let u = url::Url::parse(&authorization_url(&p, "CH", "ST").unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "x");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "flytectl");
        assert_eq!(q["redirect_uri"], "http://localhost:53593/callback");
        assert_eq!(q["scope"], "offline all");
        assert_eq!((q["code_challenge"].as_str(), q["code_challenge_method"].as_str()), ("CH", "S256"));
        assert_eq!(q["state"], "ST");
        assert!(!q.contains_key("audience"));
    }
}
