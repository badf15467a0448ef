//! The connection to FlyteAdmin: tonic channel (insecure or TLS), bearer-token auth, timeouts.
//!
//! Every call has a deadline. Tokens come from OAuth2 client credentials (endpoints discovered
//! through `AuthMetadataService`), a browser login (PKCE, cached between runs: `auth/`) or an
//! external command; a call answered `UNAUTHENTICATED` gets a fresh token and is retried once.

use super::auth;
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

/// Adds `authorization: Bearer <token>` when a token is known (or the header the server's public
/// client config names). Also serializes token refreshes and keeps a browser login's tokens.
#[derive(Clone, Default)]
pub struct Auth {
    token: Arc<Mutex<Option<Bearer>>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
    login: Arc<Mutex<Option<auth::token_cache::Tokens>>>,
}

#[derive(Clone)]
struct Bearer {
    /// The metadata key, lowercase (`authorization` unless the server says otherwise).
    key: String,
    token: String,
}

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(b) = self.token.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let v = format!("Bearer {}", b.token)
                .parse()
                .map_err(|_| tonic::Status::invalid_argument("token is not a valid header value"))?;
            let k = tonic::metadata::AsciiMetadataKey::from_bytes(b.key.as_bytes())
                .map_err(|_| tonic::Status::invalid_argument(format!("`{}` is not a valid header name", b.key)))?;
            req.metadata_mut().insert(k, v);
        }
        Ok(req)
    }
}

impl Auth {
    fn current(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|b| b.token.clone())
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

    /// The token sent now, if any.
    pub fn current_token(&self) -> Option<String> {
        self.auth.current()
    }

    /// Gets a new token with the configured method (the first one, or after the current one was refused).
    pub async fn refresh_token(&self) -> Result<(), String> {
        self.refresh_token_after(self.current_token()).await
    }

    /// Gets a new token because `refused` (the token a call was sent with) was refused; does nothing
    /// when another call already replaced it. Refreshes run one at a time, so concurrent refusals
    /// cause one refresh (and at most one browser login).
    pub async fn refresh_token_after(&self, refused: Option<String>) -> Result<(), String> {
        let _one_at_a_time = self.auth.refresh.lock().await;
        if refused.is_some() && self.auth.current() != refused {
            return Ok(());
        }
        let mut key = "authorization".to_string();
        let token = match self.config.auth_mode {
            AuthMode::None => return Err(
                "FlyteAdmin asks for authentication but no auth is configured: set `admin.authType` (ClientSecret, Pkce or ExternalCommand) in the Flyte config".into(),
            ),
            AuthMode::Pkce => {
                let (params, header) = self.pkce_params().await?;
                key = header;
                auth::pkce_token(&self.config.endpoint, params, refused.as_deref(), &self.auth.login).await?.access_token
            }
            AuthMode::ExternalCommand => external_command_token(&self.config.command).await?,
            AuthMode::ClientSecret => {
                let (header, token) = self.client_credentials_token().await?;
                key = header;
                token
            }
        };
        *self.auth.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(Bearer { key, token });
        Ok(())
    }

    /// The OAuth2 endpoints and, when the server has one, its public client config.
    async fn auth_metadata(
        &self,
    ) -> Result<
        (
            fledge_proto::flyteidl::service::OAuth2MetadataResponse,
            Option<fledge_proto::flyteidl::service::PublicClientAuthConfigResponse>,
        ),
        String,
    > {
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
        Ok((md, public))
    }

    /// A browser login's parameters, as flytekit takes them: endpoints from the OAuth2 metadata;
    /// client id, redirect URI, audience and header from the public client config (client id:
    /// else `admin.clientId`, else `flytectl`; redirect URI: else `http://localhost:53593/callback`);
    /// scopes from the config, else the public client config.
    async fn pkce_params(&self) -> Result<(auth::pkce::LoginParams, String), String> {
        let (md, public) = self.auth_metadata().await?;
        let public = public.unwrap_or_default();
        if md.authorization_endpoint.is_empty() || md.token_endpoint.is_empty() {
            return Err(format!(
                "`authType: Pkce` needs the server's authorization and token endpoints, but {} announces none (AuthMetadataService/GetOAuth2Metadata)",
                self.config.endpoint
            ));
        }
        let header = header_key(Some(&public));
        let non_empty = |s: String| Some(s).filter(|s| !s.is_empty());
        let params = auth::pkce::LoginParams {
            authorization_endpoint: md.authorization_endpoint,
            token_endpoint: md.token_endpoint,
            client_id: non_empty(public.client_id)
                .or_else(|| self.config.client_id.clone())
                .unwrap_or_else(|| auth::DEFAULT_CLIENT_ID.into()),
            redirect_uri: non_empty(public.redirect_uri).unwrap_or_else(|| auth::DEFAULT_REDIRECT_URI.into()),
            scopes: if self.config.scopes.is_empty() { public.scopes } else { self.config.scopes.clone() },
            audience: public.audience,
            tls: tls::http_tls_config(&self.config)?,
        };
        Ok((params, header))
    }

    /// The header key (as for a browser login) and a token from the client credentials grant.
    async fn client_credentials_token(&self) -> Result<(String, String), String> {
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
        let (md, public) = self.auth_metadata().await?;
        let mut scopes = c.scopes.clone();
        if scopes.is_empty() {
            scopes = public.as_ref().map(|p| p.scopes.clone()).unwrap_or_default();
        }
        let header = header_key(public.as_ref());
        let audience = public.map(|p| p.audience).unwrap_or_default();
        let token_endpoint = md.token_endpoint;
        let tls = tls::http_tls_config(c)?;
        let tokens = tokio::task::spawn_blocking(move || {
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
            let scope = scopes.join(" ");
            let mut form = vec![("grant_type", "client_credentials")];
            if !scope.is_empty() {
                form.push(("scope", &scope));
            }
            if !audience.is_empty() {
                form.push(("audience", &audience));
            }
            auth::token_request(&token_endpoint, &tls, Some(&format!("Basic {basic}")), &form)
        })
        .await
        .map_err(|e| e.to_string())??;
        let token = tokens.access_token;
        Ok((header, token))
    }
}

/// The metadata key the token goes in: the server's `authorization_metadata_key`, else
/// `authorization` (lower case, as gRPC metadata keys are).
fn header_key(public: Option<&fledge_proto::flyteidl::service::PublicClientAuthConfigResponse>) -> String {
    public
        .map(|p| p.authorization_metadata_key.to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "authorization".into())
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
        let refused = $client.current_token();
        match $call.await {
            Err(s) if s.code() == tonic::Code::Unauthenticated => match $client.refresh_token_after(refused).await {
                Ok(()) => $call.await,
                Err(e) => Err(tonic::Status::unauthenticated(format!("{} ({e})", s.message()))),
            },
            other => other,
        }
    }};
}
