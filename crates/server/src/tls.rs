//! TLS with rustls (ring provider). Without `--cert/--key` the server makes a self-signed
//! certificate for localhost on first run and keeps it in the data folder, so a demo needs no
//! setup; devices then pin that certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate and key are: the given pair, or the data folder's self-signed pair
/// (created now if missing).
pub fn certificate_files(
    data_dir: &Path,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    if let (Some(cert), Some(key)) = (cert.clone(), key.clone()) {
        return Ok((cert, key));
    }
    anyhow::ensure!(cert.is_none() && key.is_none(), "--cert and --key go together");
    let dir = data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() || !key.exists() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        let made = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
        std::fs::write(&cert, made.cert.pem())?;
        write_private(&key, made.key_pair.serialize_pem().as_bytes())?;
        tracing::info!("made a self-signed certificate: {}", cert.display());
    }
    Ok((cert, key))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A rustls server configuration (HTTP/2 and HTTP/1.1) for the PEM files.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<RustlsConfig> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// The SHA-256 fingerprint of a PEM certificate's first certificate, as devices are asked to
/// type it at enrolment (`AB:CD:...`).
pub fn fingerprint(cert: &Path) -> anyhow::Result<String> {
    let der = CertificateDer::from_pem_file(cert).with_context(|| format!("reading {}", cert.display()))?;
    Ok(waypoint_core::sync_client::certificate_fingerprint(&der))
}
