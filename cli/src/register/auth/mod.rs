//! `authType: Pkce`: a browser login whose tokens are cached between runs.
//!
//! Getting a token: a cached access token that is not about to expire (and is not the one just
//! refused), else the refresh token (`grant_type=refresh_token`), else the browser login
//! (`pkce.rs`). Whatever is granted is saved in the token cache (`token_cache.rs`).

pub mod pkce;
pub mod token_cache;

use pkce::LoginParams;
use std::sync::Mutex;
use std::time::Duration;
use token_cache::{now_secs, TokenCache, Tokens};

/// flytekit's redirect URI when the server's public client config gives none.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:53593/callback";
/// The client id when neither the server nor the config gives one (flytectl's public client).
pub const DEFAULT_CLIENT_ID: &str = "flytectl";

fn say(msg: &str) {
    eprintln!("fledge register: {msg}");
}

/// A token for a PKCE login. `refused` is the access token the server just refused (never reused);
/// `memory` holds the last tokens of this run, for when the cache cannot be written.
pub async fn pkce_token(
    endpoint: &str,
    params: LoginParams,
    refused: Option<&str>,
    memory: &Mutex<Option<Tokens>>,
) -> Result<Tokens, String> {
    let cache = TokenCache::new(TokenCache::default_dir());
    let stored =
        cache.load(endpoint, &params.client_id).or_else(|| memory.lock().unwrap_or_else(|e| e.into_inner()).clone());
    let endpoint_owned = endpoint.to_string();
    let save = |t: &Tokens| {
        *memory.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.clone());
        if let Err(e) = cache.store(&endpoint_owned, &params.client_id, t) {
            say(&format!("warning: {e}; the next run will log in again"));
        }
    };
    if let Some(t) = stored {
        if refused != Some(t.access_token.as_str()) && t.is_fresh(now_secs()) {
            return Ok(t);
        }
        if let Some(rt) = t.refresh_token.clone() {
            let (te, tls, cid) = (params.token_endpoint.clone(), params.tls.clone(), params.client_id.clone());
            match tokio::task::spawn_blocking(move || pkce::refresh(&te, &tls, &cid, &rt))
                .await
                .map_err(|e| e.to_string())?
            {
                Ok(new) => {
                    save(&new);
                    return Ok(new);
                }
                Err(e) => {
                    say(&format!("the saved login could not be renewed ({e}); logging in again"));
                    cache.remove(endpoint, &params.client_id);
                    *memory.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
            }
        }
    }
    let (p, ep) = (params.clone(), endpoint.to_string());
    let new = tokio::task::spawn_blocking(move || pkce::login(&p, &ep, pkce::LOGIN_TIMEOUT, &say))
        .await
        .map_err(|e| e.to_string())??;
    save(&new);
    Ok(new)
}

/// How long a token request may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// POSTs a form to the token endpoint (with `authorization` as that header's value, e.g. the HTTP
/// Basic credentials of a client) and reads `access_token`, `refresh_token`, `expires_in`. Every
/// grant goes through here: client credentials, authorization code, refresh token.
pub fn token_request(
    endpoint: &str,
    tls: &ureq::tls::TlsConfig,
    authorization: Option<&str>,
    form: &[(&str, &str)],
) -> Result<Tokens, String> {
    let grant = form.iter().find(|(k, _)| *k == "grant_type").map(|(_, v)| *v).unwrap_or_default();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls.clone())
        .timeout_global(Some(TOKEN_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.post(endpoint).header("accept", "application/json");
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let mut resp =
        req.send_form(form.iter().copied()).map_err(|e| format!("cannot reach the token endpoint {endpoint}: {e}"))?;
    let status = resp.status();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    if !status.is_success() {
        return Err(format!("the token endpoint {endpoint} refused the {grant} grant ({status}): {}", body.trim()));
    }
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("bad answer from the token endpoint {endpoint}: {e}"))?;
    let access_token = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("the token endpoint {endpoint} answered without an access_token"))?
        .to_string();
    let refresh_token = v.get("refresh_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty()).map(str::to_string);
    let expires_in = v.get("expires_in").and_then(|e| e.as_u64().or_else(|| e.as_str()?.trim().parse().ok()));
    Ok(Tokens { access_token, refresh_token, expires_at: expires_in.map(|s| now_secs() + s) })
}
