//! `authType: Pkce`: a browser login whose tokens are cached between runs.
//!
//! Getting a token: a cached access token that is not about to expire (and is not the one just
//! refused), else the refresh token (`grant_type=refresh_token`), else the browser login
//! (`pkce.rs`). Whatever is granted is saved in the token cache (`token_cache.rs`).

pub mod pkce;
pub mod token_cache;

use pkce::LoginParams;
use std::sync::Mutex;
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
