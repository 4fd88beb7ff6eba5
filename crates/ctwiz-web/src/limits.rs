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

/// A limit: `burst` attempts at once, then one more per `every` (a token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    burst: NonZeroU32,
    every: Duration,
}

impl Rate {
    /// Refuses a zero burst or period (a limiter cannot be built from them).
    pub fn new(burst: u32, every: Duration) -> Result<Rate, String> {
        let burst = NonZeroU32::new(burst).ok_or("the burst must be at least 1")?;
        if every.is_zero() {
            return Err("the period must be longer than zero".into());
        }
        Ok(Rate { burst, every })
    }

    /// The built-in limits below: whole seconds, never zero.
    fn of(burst: u32, every_secs: u64) -> Rate {
        Rate::new(burst, Duration::from_secs(every_secs)).expect("built-in limits are non-zero")
    }

    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    fn quota(&self) -> Quota {
        quota(self.burst.get(), self.every)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at once, then 1 per {:?}", self.burst, self.every)
    }
}

/// One form's limits, per client address and per account name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRates {
    pub per_address: Rate,
    pub per_account: Rate,
}

/// The limits of every throttled door, as configured (`ctwiz.toml` `[limits]`); the
/// defaults are the ones documented on [`Limits`] and [`FailedSignIns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRates {
    pub sign_in: ThrottleRates,
    pub public_forms: ThrottleRates,
    pub portal_search: ThrottleRates,
    pub portal_verify: ThrottleRates,
    /// Failed SOAP sign-ins per address ([`FailedSignIns`]).
    pub soap_sign_in_failures: Rate,
}

impl Default for LimitRates {
    fn default() -> LimitRates {
        let both = |a: (u32, u64), b: (u32, u64)| ThrottleRates {
            per_address: Rate::of(a.0, a.1),
            per_account: Rate::of(b.0, b.1),
        };
        LimitRates {
            sign_in: both((20, 3), (10, 30)),
            public_forms: both((5, 60), (3, 300)),
            portal_search: both((10, 60), (5, 600)),
            portal_verify: both((20, 3), (1, 1)),
            soap_sign_in_failures: Rate::of(20, 3),
        }
    }
}

impl Throttle {
    /// A throttle with these limits.
    pub fn from_rates(rates: &ThrottleRates) -> Throttle {
        Throttle {
            by_addr: DefaultKeyedRateLimiter::keyed(rates.per_address.quota()),
            by_account: DefaultKeyedRateLimiter::keyed(rates.per_account.quota()),
            clock: DefaultClock::default(),
        }
    }

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

impl Limits {
    /// The throttles for these limits.
    pub fn from_rates(rates: &LimitRates) -> Limits {
        Limits {
            sign_in: Throttle::from_rates(&rates.sign_in),
            public_forms: Throttle::from_rates(&rates.public_forms),
            portal_search: Throttle::from_rates(&rates.portal_search),
            portal_verify: Throttle::from_rates(&rates.portal_verify),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from_rates(&LimitRates::default())
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
    pub fn new(rate: Rate) -> FailedSignIns {
        FailedSignIns {
            failures: DefaultKeyedRateLimiter::keyed(rate.quota()),
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
        FailedSignIns::new(LimitRates::default().soap_sign_in_failures)
    }
}
