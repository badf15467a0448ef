//! The connection to FlyteAdmin: tonic channel (insecure or TLS), bearer-token auth, timeouts.
//!
//! Every call has a deadline. Tokens come from OAuth2 client credentials (endpoints discovered
//! through `AuthMetadataService`) or an external command; a call answered `UNAUTHENTICATED` gets a
//! fresh token and is retried once.

use super::config::{AuthMode, PlatformConfig};
use super::tls;
use fledge_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use fledge_proto::flyteidl::service::auth_metadata_service_client::AuthMetadataServiceClient;
use fledge_proto::flyteidl::service::data_proxy_service_client::DataProxyServiceClient;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Adds `authorization: Bearer <token>` when a token is known.
#[derive(Clone, Default)]
pub struct Auth {
    token: Arc<Mutex<Option<String>>>,
}

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(t) = self.token.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let v = format!("Bearer {t}")
                .parse()
                .map_err(|_| tonic::Status::invalid_argument("token is not a valid header value"))?;
            req.metadata_mut().insert("authorization", v);
        }
        Ok(req)
    }
}

pub type Admin = AdminServiceClient<InterceptedService<Channel, Auth>>;
pub type DataProxy = DataProxyServiceClient<InterceptedService<Channel, Auth>>;

#[derive(Clone)]
pub struct Client {
    pub config: Arc<PlatformConfig>,
    channel: Channel,
    auth: Auth,
}

impl Client {
    /// Connects (with a timeout) and fetches a first token when auth is configured.
    pub async fn connect(config: PlatformConfig) -> Result<Client, String> {
        let skip_verify = !config.insecure && config.insecure_skip_verify;
        // Skipping verification: fledge makes the TLS connection itself (tonic's own TLS always
        // verifies), so tonic sees a plain `http` address; the origin keeps `https` in the requests.
        let scheme = if config.insecure || skip_verify { "http" } else { "https" };
        let uri = format!("{scheme}://{}", config.endpoint);
        let mut ep = Endpoint::from_shared(uri.clone())
            .map_err(|e| format!("invalid Flyte endpoint `{}`: {e}", config.endpoint))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true);
        if skip_verify {
            let origin = format!("https://{}", config.endpoint)
                .parse()
                .map_err(|e| format!("invalid Flyte endpoint `{}`: {e}", config.endpoint))?;
            ep = ep.origin(origin);
            eprintln!(
                "warning: TLS certificate verification is off for {} (`insecureSkipVerify: true`): use it for testing only",
                config.endpoint
            );
        } else if !config.insecure {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = &config.ca_cert_file {
                let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
            }
            ep = ep.tls_config(tls).map_err(|e| format!("TLS set-up failed: {e}"))?;
        }
        let connecting = async {
            if skip_verify {
                ep.connect_with_connector(tls::SkipVerifyConnector::new()).await
            } else {
                ep.connect().await
            }
        };
        let config_file =
            || config.file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "the Flyte config".into());
        let channel = match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                let chain = error_chain(&e);
                if tls::is_certificate_error(&chain) {
                    return Err(format!(
                        "TLS certificate verification failed for FlyteAdmin at {}: {chain}; if the server's certificate is signed by a private CA, give that CA's PEM file as `admin.caCertFilePath` in {} (or, for testing only, turn verification off with `admin.insecureSkipVerify: true`)",
                        config.endpoint,
                        config_file(),
                    ));
                }
                return Err(format!(
                    "cannot reach FlyteAdmin at {} ({}): {chain}; check `admin.endpoint` in {} (or FLYTE_PLATFORM_URL){}",
                    config.endpoint,
                    if config.insecure { "plain text" } else { "TLS" },
                    config_file(),
                    if config.insecure { "" } else { " and whether it needs `insecure: true`" }
                ));
            }
            Err(_) => {
                return Err(format!(
                    "cannot reach FlyteAdmin at {}: no answer within {}s",
                    config.endpoint,
                    CONNECT_TIMEOUT.as_secs()
                ))
            }
        };
        let client = Client { config: Arc::new(config), channel, auth: Auth::default() };
        if client.config.auth_mode != AuthMode::None {
            client.refresh_token().await?;
        }
        Ok(client)
    }

    /// `plan::status_message`, with a hint when a plain-text connection broke under a call, which
    /// is what a TLS endpoint does to plain-text HTTP/2 (tonic's connect does not wait for the
    /// server's first frame, so this shows on the first call, not at connect time; depending on
    /// timing tonic reports it as Cancelled, Internal "h2 protocol error" or Unknown "transport error").
    pub fn explain(&self, s: &tonic::Status) -> String {
        let m = super::plan::status_message(s);
        let msg = s.message();
        let broke = s.code() == tonic::Code::Cancelled
            || msg.contains("h2 protocol error")
            || msg.contains("transport error")
            || (s.code() == tonic::Code::Unavailable && msg.contains("connection"));
        if self.config.insecure && broke {
            format!(
                "{m} (the connection broke: if FlyteAdmin at {} expects TLS, remove `insecure: true` from the Flyte config)",
                self.config.endpoint
            )
        } else {
            m
        }
    }

    pub fn admin(&self) -> Admin {
        AdminServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    /// The channel with the auth interceptor, for hand-made calls.
    pub fn intercepted(&self) -> InterceptedService<Channel, Auth> {
        InterceptedService::new(self.channel.clone(), self.auth.clone())
    }

    pub fn data_proxy(&self) -> DataProxy {
        DataProxyServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    /// Gets a new token with the configured method.
    pub async fn refresh_token(&self) -> Result<(), String> {
        let token = match self.config.auth_mode {
            AuthMode::None => return Err(
                "FlyteAdmin asks for authentication but no auth is configured: set `admin.authType` (ClientSecret or ExternalCommand) in the Flyte config".into(),
            ),
            AuthMode::Pkce => return Err(
                "`authType: Pkce` (browser login) is not supported by fledge register yet; use ClientSecret or ExternalCommand".into(),
            ),
            AuthMode::ExternalCommand => external_command_token(&self.config.command).await?,
            AuthMode::ClientSecret => self.client_credentials_token().await?,
        };
        *self.auth.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        Ok(())
    }

    async fn client_credentials_token(&self) -> Result<String, String> {
        let c = &self.config;
        let client_id = c.client_id.clone().ok_or("`authType: ClientSecret` needs `admin.clientId`")?;
        let secret = if let Some(s) = &c.client_secret {
            s.clone()
        } else if let Some(p) = &c.client_secret_location {
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the client secret {}: {e}", p.display()))?
                .trim()
                .to_string()
        } else if let Some(v) = &c.client_secret_env_var {
            std::env::var(v).map_err(|_| format!("the client secret variable ${v} is not set"))?
        } else {
            return Err("`authType: ClientSecret` needs `admin.clientSecretLocation`, `admin.clientSecretEnvVar` or FLYTE_CREDENTIALS_CLIENT_SECRET".into());
        };
        let mut meta = AuthMetadataServiceClient::new(self.channel.clone());
        let md = meta
            .get_o_auth2_metadata(fledge_proto::flyteidl::service::OAuth2MetadataRequest {})
            .await
            .map_err(|s| {
                format!("cannot discover the OAuth2 endpoints (AuthMetadataService/GetOAuth2Metadata): {}", s.message())
            })?
            .into_inner();
        let public = meta
            .get_public_client_config(fledge_proto::flyteidl::service::PublicClientAuthConfigRequest {})
            .await
            .map(|r| r.into_inner())
            .ok();
        let mut scopes = c.scopes.clone();
        if scopes.is_empty() {
            scopes = public.as_ref().map(|p| p.scopes.clone()).unwrap_or_default();
        }
        let audience = public.map(|p| p.audience).unwrap_or_default();
        let token_endpoint = md.token_endpoint;
        let tls = tls::http_tls_config(c)?;
        tokio::task::spawn_blocking(move || {
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
            let mut form = vec![("grant_type", "client_credentials".to_string())];
            if !scopes.is_empty() {
                form.push(("scope", scopes.join(" ")));
            }
            if !audience.is_empty() {
                form.push(("audience", audience));
            }
            let agent = ureq::Agent::config_builder()
                .tls_config(tls)
                .timeout_global(Some(CALL_TIMEOUT))
                .http_status_as_error(false)
                .build()
                .new_agent();
            let mut resp = agent
                .post(&token_endpoint)
                .header("authorization", &format!("Basic {basic}"))
                .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
                .map_err(|e| format!("cannot get a token from {token_endpoint}: {e}"))?;
            let status = resp.status();
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            if !status.is_success() {
                return Err(format!(
                    "the token endpoint {token_endpoint} refused the client credentials ({status}): {body}"
                ));
            }
            let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("bad token response: {e}"))?;
            v.get("access_token")
                .and_then(|t| t.as_str())
                .map(str::to_string)
                .ok_or_else(|| "the token response has no access_token".to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

async fn external_command_token(command: &[String]) -> Result<String, String> {
    let (prog, args) = command.split_first().ok_or("`authType: ExternalCommand` needs `admin.command`")?;
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(prog).args(args).stdin(std::process::Stdio::null()).kill_on_drop(true).output(),
    )
    .await
    .map_err(|_| format!("the token command `{prog}` did not finish within 120s"))?
    .map_err(|e| format!("cannot run the token command `{prog}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("the token command `{prog}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() {
        return Err(format!("the token command `{prog}` printed no token"));
    }
    Ok(token)
}

/// An error and its sources, on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// A call with one retry after a token refresh on `UNAUTHENTICATED`.
#[macro_export]
macro_rules! with_auth_retry {
    ($client:expr, $call:expr) => {{
        match $call.await {
            Err(s) if s.code() == tonic::Code::Unauthenticated => match $client.refresh_token().await {
                Ok(()) => $call.await,
                Err(e) => Err(tonic::Status::unauthenticated(format!("{} ({e})", s.message()))),
            },
            other => other,
        }
    }};
}
