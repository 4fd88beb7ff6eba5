//! How a PostgreSQL URL asks for TLS, libpq's way: `sslmode` and `sslrootcert` in its
//! query string.
//!
//! * no `sslmode`, or `disable`: plain TCP (a private network or a local socket proxy);
//! * `require`, `verify-ca`, `verify-full`: TLS, and the server's certificate is verified,
//!   chain and host name, in all three (stricter than libpq's `require`): against the CA
//!   certificates of `sslrootcert=FILE` (PEM), or else the Mozilla roots (webpki-roots);
//! * `prefer`: TLS when the server offers it, verified the same way; plain otherwise.
//!
//! Client certificates (`sslcert`, `sslkey`) are not supported: the URL is refused.

use super::{Error, Result};
use std::sync::Arc;
use tokio_postgres::config::SslMode;

/// The connection settings of `url`, and the TLS configuration when it asks for TLS.
pub(super) fn settings(
    url: &str,
) -> Result<(tokio_postgres::Config, Option<rustls::ClientConfig>)> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = None;
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = Some(value.to_string()),
            "sslrootcert" => root = Some(percent_decoded(value)?),
            "sslcert" | "sslkey" => {
                return Err(Error::Value(format!(
                    "{key}: client certificates are not supported; authenticate with a password"
                )))
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: tokio_postgres::Config = url.parse()?;
    let mode = match mode.as_deref() {
        None | Some("disable") => SslMode::Disable,
        Some("prefer") => SslMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        Some(other) => {
            return Err(Error::Value(format!(
                "sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
            )))
        }
    };
    config.ssl_mode(mode);
    if mode == SslMode::Disable {
        return Ok((config, None));
    }
    Ok((config, Some(client_config(root.as_deref())?)))
}

/// Trusting the CA certificates in `root` (PEM), or the Mozilla roots.
fn client_config(root: Option<&str>) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| Error::Value(format!("sslrootcert={path}: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Value(format!(
                    "sslrootcert={path}: no certificate in the file"
                )));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| Error::Value(format!("sslrootcert={path}: {e}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Value(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A query-string value with its `%XX` escapes decoded (a path may hold spaces).
fn percent_decoded(v: &str) -> Result<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = v
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::Value(format!("a bad %-escape in {v}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Value(format!("{v} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_whether_and_how_to_use_tls() {
        let (c, tls) = settings("postgres://u@h:5432/db").unwrap();
        assert_eq!(c.get_ssl_mode(), SslMode::Disable);
        assert!(tls.is_none());
        let (c, tls) =
            settings("postgres://u@h/db?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(c.get_ssl_mode(), SslMode::Require);
        assert_eq!(c.get_application_name(), Some("x"));
        assert!(tls.is_some(), "the Mozilla roots");
        let e = settings("postgres://u@h/db?sslmode=allow").unwrap_err();
        assert!(e.to_string().contains("sslmode=allow"), "{e}");
        let e = settings("postgres://u@h/db?sslmode=require&sslrootcert=/no/such%20file.pem")
            .unwrap_err();
        assert!(e.to_string().contains("/no/such file.pem"), "{e}");
        assert!(settings("postgres://u@h/db?sslcert=a.pem").is_err());
    }
}
