//! Issuing official immunization certificates: the PDF (`pdf`, fonts embedded so a name in
//! any script prints as written) and the SMART Health Card each one carries (`shc`: a FHIR
//! R4 bundle signed ES256 with the registry's key). The document model and what each kind
//! shows are `ctwiz_core::certificate`; loading, authorizing and auditing is
//! `usecase::certificates`. The doors call the use case and send the bytes.

pub mod pdf;
pub mod shc;

use crate::error::Result;
use chrono::NaiveDateTime;

/// One issuer key (P-256). `private_key` is the 32-byte secret scalar: it never leaves the
/// store except to sign; `public_jwk` is what `/.well-known/jwks.json` publishes.
#[derive(Clone, PartialEq, Eq)]
pub struct ShcKey {
    /// RFC 7638 thumbprint of the public key (base64url SHA-256), as SMART Health Cards ask.
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: NaiveDateTime,
    /// When a newer key took over signing; retired keys stay published.
    pub retired_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for ShcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShcKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Stored issuer keys.
pub trait ShcKeyStore {
    /// Every key, newest first.
    fn shc_keys(&self) -> Result<Vec<ShcKey>>;
    /// Adds `key`; with `retire_signing`, the current signing key is retired at
    /// `key.created_at` in the same transaction. Returns false (adding nothing) when the
    /// key would be a second signing key (another process created one first).
    fn add_shc_key(&self, key: &ShcKey, retire_signing: bool) -> Result<bool>;
}
