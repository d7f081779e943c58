//! The rustls client configuration: Mozilla's roots (or `SSL_CERT_FILE`),
//! plus extra certificates, HTTP/1.1 by ALPN, the ring provider.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::HttpConfig;
use crate::error::{Error, ErrorKind};

pub(super) fn client_config(config: &HttpConfig) -> Result<rustls::ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    let base: Vec<CertificateDer<'static>> = match &config.ca_file {
        Some(file) => read_pem_certificates(file)?,
        None => webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec(),
    };
    let mut extra = config.extra_roots.clone();
    for file in &config.extra_ca_files {
        extra.extend(read_pem_certificates(file)?);
    }
    // Mozilla's bundle holds a few roots webpki cannot parse; skip those,
    // but a certificate the user named must be usable.
    roots.add_parsable_certificates(base);
    for cert in extra {
        roots
            .add(cert)
            .map_err(|e| Error::new(ErrorKind::Setup, format!("an extra CA certificate is not usable: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Setup, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// The certificates of a PEM file; an error when it has none.
pub fn read_pem_certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let setup = |m: String| Error::new(ErrorKind::Setup, m);
    let pem = std::fs::read(file).map_err(|e| setup(format!("cannot read CA file {}: {e}", file.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setup(format!("bad PEM in CA file {}: {e}", file.display())))?;
    if certs.is_empty() {
        return Err(setup(format!("no certificate in CA file {}", file.display())));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("cloudauth-runtime-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let with = |ca_file: Option<std::path::PathBuf>, extra: Vec<std::path::PathBuf>| {
            client_config(&HttpConfig { ca_file, extra_ca_files: extra, ..HttpConfig::default() })
        };
        assert!(with(None, vec![empty.clone()]).unwrap_err().to_string().contains("no certificate in CA file"));
        assert!(with(Some(dir.join("missing.pem")), vec![]).unwrap_err().to_string().contains("cannot read CA file"));
        assert!(with(None, vec![]).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
