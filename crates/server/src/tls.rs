//! TLS with rustls (ring provider). Without `--cert/--key` the server makes a self-signed
//! certificate on first run and keeps it in the data folder, so a demo needs no setup; devices
//! then pin that certificate. It names localhost and the loopback addresses, plus each
//! `--tls-name` (the host name or address devices on the station's network use).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::private_files::write_private;

/// What every self-signed certificate names: enough for a device on the server machine itself.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Beside the self-signed pair: the names it was made for, one a line.
const NAMES_FILE: &str = "names.txt";

/// Where the certificate and key are: the given pair, or the data folder's self-signed pair
/// (created now if missing).
pub fn certificate_files(
    data_dir: &Path,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    certificate_files_for(data_dir, cert, key, &[])
}

/// [`certificate_files`], with the self-signed certificate also naming `names` (host names or IP
/// addresses). An existing one that lacks a name is an error rather than replaced: enrolled
/// devices pin it, and a new one would lock them out without a word.
pub fn certificate_files_for(
    data_dir: &Path,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    names: &[String],
) -> anyhow::Result<(PathBuf, PathBuf)> {
    if let (Some(cert), Some(key)) = (cert.clone(), key.clone()) {
        anyhow::ensure!(
            names.is_empty(),
            "--tls-name is for the self-signed certificate; a given --cert names its own hosts"
        );
        return Ok((cert, key));
    }
    anyhow::ensure!(cert.is_none() && key.is_none(), "--cert and --key go together");
    let dir = data_dir.join("tls");
    let (cert, key, names_file) = (dir.join("cert.pem"), dir.join("key.pem"), dir.join(NAMES_FILE));
    let mut wanted: Vec<String> = LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect();
    for name in names.iter().map(|n| n.trim().to_ascii_lowercase()) {
        anyhow::ensure!(!name.is_empty(), "--tls-name is empty");
        if !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    if cert.exists() && key.exists() {
        let made_for = self_signed_names(data_dir).unwrap_or_default();
        let missing: Vec<&String> = wanted.iter().filter(|n| !made_for.contains(n)).collect();
        anyhow::ensure!(
            missing.is_empty(),
            "the self-signed certificate in {} was made for {}, not {}. Devices enrolled with it have \
             pinned it: to make one that also names {}, move that folder away, run `waypoint-server init` \
             with every --tls-name, and enrol the devices again with the new fingerprint",
            dir.display(),
            made_for.join(", "),
            missing.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "),
            missing.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        );
        return Ok((cert, key));
    }
    crate::private_files::ensure_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let made = rcgen::generate_simple_self_signed(wanted.clone())
        .with_context(|| format!("making a self-signed certificate for {}", wanted.join(", ")))?;
    // The certificate is public, but the folder's rule is 0600 for every file.
    write_private(&cert, made.cert.pem().as_bytes())?;
    write_private(&key, made.key_pair.serialize_pem().as_bytes())?;
    write_private(&names_file, (wanted.join("\n") + "\n").as_bytes())?;
    tracing::info!("made a self-signed certificate for {}: {}", wanted.join(", "), cert.display());
    Ok((cert, key))
}

/// The names the data folder's self-signed certificate was made for (loopback only for one made
/// before they were recorded), or `None` when there is no self-signed certificate there.
pub fn self_signed_names(data_dir: &Path) -> Option<Vec<String>> {
    let dir = data_dir.join("tls");
    if !dir.join("cert.pem").exists() {
        return None;
    }
    Some(match std::fs::read_to_string(dir.join(NAMES_FILE)) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect(),
    })
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
    Ok(waypoint_protocol::certificate_fingerprint(&der))
}
