//! TLS beyond what tonic's `ClientTlsConfig` offers: the `insecureSkipVerify` connection (any server
//! certificate is accepted, the handshake signatures are still checked) and the TLS settings of the
//! HTTP clients (token endpoint, bundle upload) from the same Flyte config.

use super::config::PlatformConfig;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tonic::transport::Uri;

/// Accepts every server certificate (flytekit's `insecureSkipVerify`), but still checks that the
/// server signed the handshake with the certificate's key, so the session keys are the server's.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The connector for `Endpoint::connect_with_connector`: TCP, then TLS without certificate
/// verification, offering (and requiring) HTTP/2 through ALPN as gRPC does.
#[derive(Clone)]
pub struct SkipVerifyConnector {
    tls: tokio_rustls::TlsConnector,
}

impl SkipVerifyConnector {
    pub fn new() -> SkipVerifyConnector {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        SkipVerifyConnector { tls: tokio_rustls::TlsConnector::from(Arc::new(config)) }
    }
}

impl tonic::codegen::Service<Uri> for SkipVerifyConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| std::io::Error::other(format!("no host in `{uri}`")))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().unwrap_or(443);
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from(host.clone())
                .map_err(|e| std::io::Error::other(format!("`{host}` is not a valid TLS server name: {e}")))?;
            let stream = tls.connect(name, tcp).await?;
            if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Err(std::io::Error::other("the server did not agree to HTTP/2 (ALPN `h2`), which gRPC needs"));
            }
            Ok(TokioIo::new(stream))
        })
    }
}

/// Whether a connection error (as text, with its sources) is a failed certificate verification.
pub fn is_certificate_error(chain: &str) -> bool {
    // rustls' `Error::InvalidCertificate` and the alerts about certificates.
    chain.contains("invalid peer certificate") || chain.contains("UnknownIssuer") || chain.contains("BadCertificate")
}

/// TLS for the HTTP clients (token endpoint, bundle upload), from the same settings as the gRPC
/// connection: with `caCertFilePath`, the system roots plus that CA; with `insecureSkipVerify`, no
/// verification; otherwise ureq's defaults.
pub fn http_tls_config(config: &PlatformConfig) -> Result<ureq::tls::TlsConfig, String> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if config.insecure_skip_verify {
        tls = tls.disable_verification(true);
    } else if let Some(ca) = &config.ca_cert_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
        let mut roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                roots.push(c);
            }
        }
        if roots.len() == before {
            return Err(format!("the CA file {} holds no PEM certificate", ca.display()));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
    }
    Ok(tls.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, yaml: &str) -> PlatformConfig {
        let file = dir.join("config.yaml");
        std::fs::write(&file, yaml).unwrap();
        super::super::config::load(Some(&file), &|_| None, dir, None).unwrap()
    }

    #[test]
    fn http_tls_follows_the_flyte_config() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), "admin:\n  endpoint: dns:///h:1\n  insecureSkipVerify: true\n");
        assert!(http_tls_config(&c).unwrap().disable_verification());
        let c = config(dir.path(), "admin:\n  endpoint: dns:///h:1\n");
        let tls = http_tls_config(&c).unwrap();
        assert!(!tls.disable_verification());
        assert!(matches!(tls.root_certs(), ureq::tls::RootCerts::WebPki));
        // A CA file without a certificate, and a missing one, are errors naming the file.
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").unwrap();
        let c = config(dir.path(), &format!("admin:\n  endpoint: dns:///h:1\n  caCertFilePath: {}\n", ca.display()));
        assert!(http_tls_config(&c).unwrap_err().contains("holds no PEM certificate"));
        std::fs::remove_file(&ca).unwrap();
        assert!(http_tls_config(&c).unwrap_err().contains("cannot read the CA file"));
    }

    #[test]
    fn certificate_errors_are_recognised() {
        assert!(is_certificate_error("transport error: invalid peer certificate: UnknownIssuer"));
        assert!(!is_certificate_error("transport error: Connection refused (os error 111)"));
    }
}
