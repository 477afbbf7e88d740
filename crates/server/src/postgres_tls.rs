//! PostgreSQL over TLS (rustls, ring provider) when the URL asks for it, with libpq's meaning of
//! `sslmode`:
//!
//! - `require`: encrypted, the server's certificate not checked (protects against listening on
//!   the wire, not against an impostor).
//! - `verify-ca`: encrypted, the certificate must chain to a trusted root.
//! - `verify-full`: as `verify-ca`, and the certificate must name the host in the URL.
//! - `disable`, `prefer` or none: plain TCP (this server does not try TLS unless told to).
//!
//! Trusted roots: the PEM file in `sslrootcert=`, else the system's. tokio-postgres itself knows
//! only `disable|prefer|require` and no `sslrootcert`, so both are taken out of the URL here.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A URL split into what tokio-postgres parses and what this module handles.
#[derive(Debug)]
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub mode: TlsMode,
    pub root_cert: Option<std::path::PathBuf>,
}

fn bad_url(why: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("bad PostgreSQL URL: {why}"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a `postgres://` URL, taking `sslmode` and `sslrootcert` out of its query.
pub fn parse(url: &str) -> StoreResult<PgTarget> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut root_cert) = (TlsMode::Off, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                mode = match percent_decode(value).as_str() {
                    "disable" | "allow" | "prefer" => TlsMode::Off,
                    "require" => TlsMode::Require,
                    "verify-ca" => TlsMode::VerifyCa,
                    "verify-full" => TlsMode::VerifyFull,
                    other => {
                        return Err(bad_url(format!(
                            "sslmode `{other}` is not disable, prefer, require, verify-ca or verify-full"
                        )))
                    }
                }
            }
            "sslrootcert" => root_cert = Some(std::path::PathBuf::from(percent_decode(value))),
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    let mut config: tokio_postgres::Config = url.parse().map_err(bad_url)?;
    config.ssl_mode(if mode == TlsMode::Off { SslMode::Disable } else { SslMode::Require });
    Ok(PgTarget { config, mode, root_cert })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(root_cert: Option<&std::path::Path>) -> StoreResult<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| StoreError::Database(format!("sslrootcert {}: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Database(format!(
                    "sslrootcert {} holds no usable certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(StoreError::Database(
                    "no system root certificates found for sslmode=verify-*: name one with sslrootcert=".into(),
                ));
            }
        }
    }
    Ok(roots)
}

/// The TLS connector for `target`, or `None` for plain TCP.
pub fn connector(target: &PgTarget) -> StoreResult<Option<MakeRustlsConnect>> {
    let verifier: Arc<dyn ServerCertVerifier> = match target.mode {
        TlsMode::Off => return Ok(None),
        TlsMode::Require => Arc::new(EncryptOnly(provider())),
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots(target.root_cert.as_deref())?), provider())
                    .build()
                    .map_err(|e| StoreError::Database(format!("TLS verifier: {e}")))?;
            if target.mode == TlsMode::VerifyCa {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Database(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `sslmode=require`: any certificate, but the handshake's signatures are still checked.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
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
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must verify; the host name need not match.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// An error with its causes ("error performing TLS handshake: invalid peer certificate: ...").
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
        let target = parse(
            "postgres://u@db.example/waypoint?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=w",
        )
        .unwrap();
        assert_eq!(target.mode, TlsMode::VerifyFull);
        assert_eq!(target.root_cert.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
        assert_eq!(target.config.get_application_name(), Some("w"));
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(parse("postgres://u@h/db").unwrap().mode, TlsMode::Off);
        assert!(parse("postgres://u@h/db?sslmode=sometimes").unwrap_err().to_string().contains("sometimes"));
    }
}
