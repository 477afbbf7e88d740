//! Certificate pinning at enrolment: the server's certificate is fetched, compared with the
//! fingerprint the records admin gave, checked for the host name, and kept as PEM.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
use waypoint_protocol::certificate_fingerprint;

/// Hex digits only, upper case: how typed fingerprints are compared.
pub(crate) fn normalize_fingerprint(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_hexdigit()).map(|c| c.to_ascii_uppercase()).collect()
}

pub(crate) fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("base64 is ascii")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// The server's certificate as presented in a TLS handshake, trusted for nothing: it is only
/// compared with the fingerprint the admin gave.
pub(crate) fn fetch_server_certificate(url: &reqwest::Url) -> std::result::Result<Vec<u8>, String> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct RecordOnly(Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for RecordOnly {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> std::result::Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let host = url.host_str().ok_or("no host")?.trim_matches(|c| c == '[' || c == ']').to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let mut connection = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    // "localhost" may give ::1 before 127.0.0.1: try each address as a browser would.
    let mut last_error = format!("cannot find {host}");
    let mut connected = None;
    for address in (host.as_str(), port).to_socket_addrs().map_err(|e| format!("cannot find {host}: {e}"))? {
        match TcpStream::connect_timeout(&address, Duration::from_secs(10)) {
            Ok(socket) => {
                connected = Some(socket);
                break;
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    let mut socket = connected.ok_or(last_error)?;
    socket.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    socket.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    while connection.is_handshaking() {
        connection.complete_io(&mut socket).map_err(|e| e.to_string())?;
    }
    let certificate = connection.peer_certificates().and_then(|c| c.first()).ok_or("the server sent no certificate")?;
    Ok(certificate.to_vec())
}

/// Whether the pinned certificate names the host the device was given. Requests check it (the
/// fingerprint does not replace the name check), and a failure there only says "cannot reach".
pub(crate) fn certificate_names_host(der: &[u8], url: &reqwest::Url) -> std::result::Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::CertificateError;

    let host = url.host_str().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string();
    let certificate = CertificateDer::from(der.to_vec());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).map_err(|e| format!("The server's certificate is unusable: {e}."))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .map_err(|e| format!("The server's certificate is unusable: {e}."))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("`{host}` is not a host name: {e}."))?;
    match verifier.verify_server_cert(&certificate, &[], &name, &[], UnixTime::now()) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(
            error @ (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }),
        )) => {
            let names = match error {
                // rustls shows them as `DnsName("localhost")`, `IpAddress(127.0.0.1)`.
                CertificateError::NotValidForNameContext { presented, .. } => format!(
                    " (it names {})",
                    presented
                        .iter()
                        .map(|n| n
                            .trim_start_matches("DnsName(")
                            .trim_start_matches("IpAddress(")
                            .trim_end_matches(')'))
                        .map(|n| n.trim_matches('"'))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            Err(format!(
                "The fingerprint matches, but the server's certificate does not name `{host}`{names}. Use an \
                 address it names, or ask the records admin to add this one: `waypoint-server init \
                 --tls-name {host}` on a new certificate."
            ))
        }
        Err(other) => Err(format!("The server's certificate is not usable here: {other}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_whatever_the_separators_and_case() {
        let shown = certificate_fingerprint(b"certificate");
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(normalize_fingerprint(&shown.to_lowercase().replace(':', " ")), normalize_fingerprint(&shown));
    }

    #[test]
    fn pem_wraps_der_in_64_column_base64() {
        let pem = der_to_pem(&[7u8; 100]);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
    }
}
