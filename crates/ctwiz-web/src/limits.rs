//! Throttling of sign-in and the public forms (account request, forgot username, forgot
//! password): each is limited per client address and per account name, so neither one
//! address trying many names nor many addresses trying one name get far. Over the limit
//! the answer is HTTP 429 with `Retry-After` (see [`AppError::TooManyRequests`]).
//!
//! The address is the peer of the TCP connection ([`ClientAddr`], from axum's
//! `ConnectInfo`, which [`crate::serve`] provides). Behind a reverse proxy every request
//! comes from the proxy, so the per-address limit then applies to the proxy as a whole.

use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

/// The address of the client that sent the request: the connection's peer. Requests
/// without connection information (handed to the router directly) count as `0.0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}

/// Beyond this many remembered keys, keys whose limit has fully recovered are dropped.
const MAX_KEYS: usize = 10_000;

/// One form's limits: a burst and a steady rate per address, and per account name.
pub struct Throttle {
    by_addr: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(burst: u32, one_per: Duration) -> Quota {
    Quota::with_period(one_per)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
}

impl Throttle {
    /// `burst` attempts at once, then one more per `one_per`; for each address and for
    /// each account name.
    pub fn new(
        addr_burst: u32,
        addr_one_per: Duration,
        account_burst: u32,
        account_one_per: Duration,
    ) -> Throttle {
        Throttle {
            by_addr: DefaultKeyedRateLimiter::keyed(quota(addr_burst, addr_one_per)),
            by_account: DefaultKeyedRateLimiter::keyed(quota(account_burst, account_one_per)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `addr` for `account` (a username or e-mail address, compared
    /// case-insensitively); refused with the time to wait when either limit is spent.
    pub fn check(&self, addr: IpAddr, account: &str) -> Result<(), AppError> {
        let wait = |t: governor::NotUntil<_>| {
            let secs = t.wait_time_from(self.clock.now()).as_secs_f64().ceil() as u64;
            AppError::TooManyRequests {
                retry_after: secs.max(1),
            }
        };
        if self.by_addr.len() > MAX_KEYS {
            self.by_addr.retain_recent();
        }
        if self.by_account.len() > MAX_KEYS {
            self.by_account.retain_recent();
        }
        self.by_addr.check_key(&addr).map_err(wait)?;
        let account = account.trim().to_lowercase();
        if !account.is_empty() {
            self.by_account.check_key(&account).map_err(wait)?;
        }
        Ok(())
    }
}

/// The limits of every throttled form.
pub struct Limits {
    /// `POST /sign-in`: 20 at once per address then one per 3 s; 10 per account name then
    /// one per 30 s (the lock after 5 wrong passwords comes first for a real account).
    pub sign_in: Throttle,
    /// `POST` of the account request and forgot-username/password forms: 5 at once per
    /// address then one a minute; 3 per account name or e-mail then one per 5 minutes.
    pub public_forms: Throttle,
    /// `POST /portal` (a code sent to a record's contact): 10 at once per address then one
    /// a minute; 5 per person searched for (names and birth date) then one per 10 minutes.
    /// The use case adds its own limit per record (3 codes an hour).
    pub portal_search: Throttle,
    /// `POST /portal/verify`: 20 at once per address then one per 3 s (each challenge
    /// also locks after 5 wrong codes).
    pub portal_verify: Throttle,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            sign_in: Throttle::new(20, Duration::from_secs(3), 10, Duration::from_secs(30)),
            public_forms: Throttle::new(5, Duration::from_secs(60), 3, Duration::from_secs(300)),
            portal_search: Throttle::new(10, Duration::from_secs(60), 5, Duration::from_secs(600)),
            portal_verify: Throttle::new(20, Duration::from_secs(3), 1, Duration::from_secs(1)),
        }
    }
}

/// Failed sign-ins of a door that signs in on every request (SOAP sends a username and
/// password with each message). Only failures count, so an EHR sending thousands of
/// messages with the right password is never slowed; an address whose failures go past
/// `burst` (then one more per `one_per`) is refused outright, right password or not, until
/// its limit recovers. Per account, the lock after repeated wrong passwords
/// (`ctwiz_store::accounts`) applies as on the web.
pub struct FailedSignIns {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked: std::sync::Mutex<std::collections::HashMap<IpAddr, std::time::Instant>>,
    clock: DefaultClock,
}

impl FailedSignIns {
    pub fn new(burst: u32, one_per: Duration) -> FailedSignIns {
        FailedSignIns {
            failures: DefaultKeyedRateLimiter::keyed(quota(burst, one_per)),
            blocked: Default::default(),
            clock: DefaultClock::default(),
        }
    }

    /// Whether `addr` is refused for now: the seconds to wait.
    pub fn blocked(&self, addr: IpAddr) -> Option<u64> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        match blocked.get(&addr) {
            Some(until) if *until > now => {
                Some((*until - now).as_secs_f64().ceil().max(1.0) as u64)
            }
            Some(_) => {
                blocked.remove(&addr);
                None
            }
            None => None,
        }
    }

    /// Counts one failed sign-in from `addr`; past the limit, `addr` is refused from now on
    /// for the returned number of seconds.
    pub fn failed(&self, addr: IpAddr) -> Option<u64> {
        if self.failures.len() > MAX_KEYS {
            self.failures.retain_recent();
        }
        let not_until = self.failures.check_key(&addr).err()?;
        let wait = not_until.wait_time_from(self.clock.now());
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        if blocked.len() > MAX_KEYS {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(addr, now + Duration::from_secs(secs));
        Some(secs)
    }
}

impl Default for FailedSignIns {
    /// As the web's sign-in per address: 20 at once, then one per 3 s.
    fn default() -> FailedSignIns {
        FailedSignIns::new(20, Duration::from_secs(3))
    }
}
