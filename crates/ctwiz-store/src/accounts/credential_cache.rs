//! Verified username/password pairs, trusted for a while without re-hashing: argon2 costs
//! tens of milliseconds, which would dominate every interface message (SOAP sends the
//! password with each one). A cached entry still re-reads the account on every use
//! ([`recheck_cached_sign_in`]), so locking, disabling, a password change or reset, and
//! grant changes apply at once; a wrong password is never answered from the cache.

use super::{recheck_cached_sign_in, sign_in, SignInFailure};
use crate::error::Result;
use crate::traits::{Account, UserStore};
use blake2::{Blake2b512, Digest};
use chrono::NaiveDateTime;
use ctwiz_core::actor::Channel;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-ins remembered for `ttl`. One per process, shared by its doors.
pub struct CredentialCache {
    ttl: Duration,
    /// blake2(username, password) → (verified at, the argon2 hash it was verified against).
    entries: Mutex<HashMap<Vec<u8>, (Instant, String)>>,
}

impl CredentialCache {
    /// How long the SOAP service trusts a verified password without re-hashing.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

    pub fn new(ttl: Duration) -> CredentialCache {
        CredentialCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// [`sign_in`], answered from the cache when the same username and password were
    /// verified within the time to live and the account is unchanged since.
    pub fn sign_in(
        &self,
        store: &dyn UserStore,
        channel: Channel,
        username: &str,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<std::result::Result<Account, SignInFailure>> {
        let key = Blake2b512::new()
            .chain_update(username.as_bytes())
            .chain_update([0u8])
            .chain_update(password.as_bytes())
            .finalize()
            .to_vec();
        let cached = self.entries.lock().ok().and_then(|c| {
            c.get(&key)
                .filter(|(at, _)| at.elapsed() < self.ttl)
                .map(|(_, hash)| hash.clone())
        });
        if let Some(hash) = cached {
            match recheck_cached_sign_in(store, username, &hash)? {
                Ok(account) => return Ok(Ok(account)),
                // Any change drops the entry; the full sign-in decides (and counts a
                // failure if the password no longer verifies).
                Err(_) => {
                    if let Ok(mut c) = self.entries.lock() {
                        c.remove(&key);
                    }
                }
            }
        }
        let out = sign_in(store, channel, username, password, now)?;
        if let Ok(account) = &out {
            if let Ok(mut c) = self.entries.lock() {
                c.retain(|_, (at, _)| at.elapsed() < self.ttl);
                c.insert(key, (Instant::now(), account.password_hash.clone()));
            }
        }
        Ok(out)
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache::new(Self::DEFAULT_TTL)
    }
}
