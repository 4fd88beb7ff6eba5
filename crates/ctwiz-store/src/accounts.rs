//! Account use cases shared by the web app and the CLI: password hashing (argon2),
//! one-time temporary passwords, and sign-in with lockout.

use crate::error::{Result, StoreError};
use crate::traits::{Account, UserStore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::NaiveDateTime;
use ctwiz_core::access::{AccountStatus, User};
use ctwiz_core::ids::{UserId, Username};
use rand::Rng;

mod credential_cache;
pub use credential_cache::CredentialCache;

/// Failed sign-ins in a row after which the account locks until a state user unlocks it.
pub const MAX_FAILED_SIGN_INS: u32 = 5;

/// Hashes a password into an argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&bytes).map_err(|e| StoreError::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// Checks `password` against a stored PHC string; a malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random one-time password: 14 characters from an alphabet without look-alikes.
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..14)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The password policy for chosen passwords: 12+ characters with letters and digits.
pub fn check_password_policy(password: &str) -> std::result::Result<(), &'static str> {
    if password.chars().count() < 12 {
        return Err("the password must have at least 12 characters");
    }
    if !password.chars().any(|c| c.is_alphabetic()) || !password.chars().any(|c| c.is_ascii_digit())
    {
        return Err("the password must contain letters and digits");
    }
    Ok(())
}

/// Creates a user with a fresh temporary password that must be changed at first sign-in.
/// Returns the id and the temporary password (shown or mailed once, never stored).
pub fn create_with_temporary_password(
    store: &dyn UserStore,
    user: &User,
) -> Result<(UserId, String)> {
    let temp = temporary_password();
    let id = store.create_user(user, &hash_password(&temp)?, true)?;
    Ok((id, temp))
}

/// Why a sign-in failed. Frontends show one message for all of them (no enumeration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    UnknownUser,
    WrongPassword,
    Locked,
    Disabled,
}

/// The message users see for any failure, so an attacker learns nothing.
pub const SIGN_IN_FAILED: &str = "Invalid username/password and/or your account is locked.";

/// A locked or disabled account is refused whatever the password.
fn refused_by_status(status: AccountStatus) -> Option<SignInFailure> {
    match status {
        AccountStatus::Locked => Some(SignInFailure::Locked),
        AccountStatus::Disabled => Some(SignInFailure::Disabled),
        AccountStatus::Active => None,
    }
}

/// Verifies a sign-in; counts failures and locks the account at [`MAX_FAILED_SIGN_INS`].
pub fn sign_in(
    store: &dyn UserStore,
    username: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<std::result::Result<Account, SignInFailure>> {
    let Ok(name) = Username::new(username) else {
        return Ok(Err(SignInFailure::UnknownUser));
    };
    let Some(account) = store.account(&name)? else {
        // Spend the same time as a real check so timing does not reveal unknown names.
        let _ = verify_password(password, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000");
        return Ok(Err(SignInFailure::UnknownUser));
    };
    let id = account
        .user
        .id
        .ok_or_else(|| StoreError::Corrupt("account without id".into()))?;
    if let Some(failure) = refused_by_status(account.user.status) {
        return Ok(Err(failure));
    }
    if !verify_password(password, &account.password_hash) {
        let n = store.record_failed_sign_in(id)?;
        if n >= MAX_FAILED_SIGN_INS {
            store.set_status(id, AccountStatus::Locked)?;
            return Ok(Err(SignInFailure::Locked));
        }
        return Ok(Err(SignInFailure::WrongPassword));
    }
    store.record_sign_in(id, now)?;
    Ok(Ok(account))
}

/// Re-checks, without hashing, a sign-in that [`sign_in`] verified earlier and a caller
/// cached (the SOAP service: argon2 would dominate every interface message). One indexed
/// read: the account must still exist, be active, and still have the password hash that
/// was verified (`verified_hash`; a change or reset stores a new salted hash). Returns the
/// current account, so grant changes apply at once too.
pub fn recheck_cached_sign_in(
    store: &dyn UserStore,
    username: &str,
    verified_hash: &str,
) -> Result<std::result::Result<Account, SignInFailure>> {
    let Ok(name) = Username::new(username) else {
        return Ok(Err(SignInFailure::UnknownUser));
    };
    let Some(account) = store.account(&name)? else {
        return Ok(Err(SignInFailure::UnknownUser));
    };
    if let Some(failure) = refused_by_status(account.user.status) {
        return Ok(Err(failure));
    }
    if account.password_hash != verified_hash {
        return Ok(Err(SignInFailure::WrongPassword));
    }
    Ok(Ok(account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use ctwiz_core::ids::Email;

    /// A new user `nurse{n}` with a temporary password.
    fn nurse(s: &SqliteStore, n: u8) -> (UserId, String) {
        let u = User::new(
            Username::new(&format!("nurse{n}")).unwrap(),
            &format!("Nurse {n}"),
            Email::new(&format!("n{n}@example.org")).unwrap(),
        )
        .unwrap();
        create_with_temporary_password(s, &u).unwrap()
    }

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn temporary_password_signs_in_and_must_be_changed() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (_, temp) = nurse(&s, 1);
        let acc = sign_in(&s, "NURSE1", &temp, now()).unwrap().unwrap();
        assert!(acc.must_change_password);
        assert_eq!(
            sign_in(&s, "nurse1", "wrong", now()).unwrap().unwrap_err(),
            SignInFailure::WrongPassword
        );
        assert_eq!(
            sign_in(&s, "nobody", "x", now()).unwrap().unwrap_err(),
            SignInFailure::UnknownUser
        );
    }

    #[test]
    fn repeated_failures_lock_the_account() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (id, temp) = nurse(&s, 2);
        for _ in 0..MAX_FAILED_SIGN_INS - 1 {
            assert_eq!(
                sign_in(&s, "nurse2", "bad", now()).unwrap().unwrap_err(),
                SignInFailure::WrongPassword
            );
        }
        assert_eq!(
            sign_in(&s, "nurse2", "bad", now()).unwrap().unwrap_err(),
            SignInFailure::Locked
        );
        // Even the right password is refused while locked.
        assert_eq!(
            sign_in(&s, "nurse2", &temp, now()).unwrap().unwrap_err(),
            SignInFailure::Locked
        );
        s.set_status(id, AccountStatus::Active).unwrap();
        assert!(sign_in(&s, "nurse2", &temp, now()).unwrap().is_ok());
    }

    #[test]
    fn cached_sign_in_follows_lock_disable_and_password_change() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (id, temp) = nurse(&s, 3);
        let acc = sign_in(&s, "nurse3", &temp, now()).unwrap().unwrap();
        let hash = acc.password_hash.clone();
        assert!(recheck_cached_sign_in(&s, "nurse3", &hash).unwrap().is_ok());
        s.set_status(id, AccountStatus::Locked).unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::Locked
        );
        s.set_status(id, AccountStatus::Disabled).unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::Disabled
        );
        s.set_status(id, AccountStatus::Active).unwrap();
        assert!(recheck_cached_sign_in(&s, "nurse3", &hash).unwrap().is_ok());
        // A reset stores a new salted hash, even for the same password.
        s.set_password(id, &hash_password(&temp).unwrap(), false)
            .unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::WrongPassword
        );
        assert_eq!(
            recheck_cached_sign_in(&s, "nobody", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::UnknownUser
        );
    }

    #[test]
    fn policy() {
        assert!(check_password_policy("short1").is_err());
        assert!(check_password_policy("longbutnodigits").is_err());
        assert!(check_password_policy("long enough 123").is_ok());
    }
}
