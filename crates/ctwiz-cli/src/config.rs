//! The configuration of `ctwiz serve` and of every command's database: flags, `CTWIZ_*`
//! environment variables and `ctwiz.toml`, merged here and nowhere else.
//!
//! A setting takes the first of: its command-line flag, its environment variable, the
//! configuration file, the built-in default. The file is the one `--config FILE` (or
//! `CTWIZ_CONFIG`) names, else `./ctwiz.toml` if there is one. Every key is in the
//! commented example (docs/ctwiz.example.toml, `ctwiz config example`). Unknown keys are
//! refused; a bad value is reported with its key and line. Values are read by the same
//! rules whatever their source (each type's `FromStr`, and the web crate's checks of
//! relays, gateways, facility bindings and log levels).

use ctwiz_web::logging::{LogFormat, LogLevel};
use ctwiz_web::mllp::{MllpBinding, MllpConfig};
use ctwiz_web::{LimitRates, Rate, SmsGateway, SmtpConfig, ThrottleRates, WebConfig};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The file read from the working directory when no `--config` is given.
pub const FILE_NAME: &str = "ctwiz.toml";

/// The commented example configuration (`ctwiz config example`).
pub const EXAMPLE: &str = include_str!("../../../docs/ctwiz.example.toml");

/// Reads an environment variable: the process's ([`process_env`]) or a test's table.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment; a variable set to nothing counts as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File => f.write_str("file"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Setting<T> {
    fn default(value: T) -> Self {
        Setting {
            value,
            source: Source::Default,
        }
    }
}

/// The first of a flag, an environment variable and a file value that is set. A variable
/// is read with the type's `FromStr`, and a bad one is reported by name.
fn first_of<T: FromStr>(
    flag: (&'static str, Option<T>),
    var: &'static str,
    file: Option<T>,
    env: Env,
) -> Result<Option<Setting<T>>, String>
where
    T::Err: fmt::Display,
{
    if let Some(value) = flag.1 {
        return Ok(Some(Setting {
            value,
            source: Source::Flag(flag.0),
        }));
    }
    if let Some(raw) = env(var) {
        let value = raw
            .trim()
            .parse()
            .map_err(|e| format!("environment variable {var}: {e}"))?;
        return Ok(Some(Setting {
            value,
            source: Source::Env(var),
        }));
    }
    Ok(file.map(|value| Setting {
        value,
        source: Source::File,
    }))
}

/// [`first_of`], else `default`.
fn or_default<T>(found: Option<Setting<T>>, default: T) -> Setting<T> {
    found.unwrap_or_else(|| Setting::default(default))
}

/// [`first_of`] for a setting that may stay unset.
fn optional<T>(found: Option<Setting<T>>) -> Setting<Option<T>> {
    match found {
        Some(s) => Setting {
            value: Some(s.value),
            source: s.source,
        },
        None => Setting::default(None),
    }
}

// ---------------------------------------------------------------------------------------
// Values: one `FromStr` per kind, used for flags, variables and the file alike.

/// A number of seconds, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(NonZeroU64);

impl Seconds {
    fn of(secs: u64) -> Seconds {
        Seconds(NonZeroU64::new(secs).expect("built-in durations are non-zero"))
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(self.0.get())
    }

    fn check(n: u64) -> Result<Seconds, String> {
        NonZeroU64::new(n)
            .map(Seconds)
            .ok_or_else(|| "0 is not a number of seconds here (1 or more)".to_string())
    }
}

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: u64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number of seconds"))?;
        Seconds::check(n)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Seconds::check(u64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// On or off (`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` in a variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch(pub bool);

impl FromStr for Switch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Switch(true)),
            "false" | "no" | "off" | "0" => Ok(Switch(false)),
            _ => Err(format!("{s:?} is neither true nor false")),
        }
    }
}

/// The site's address as clients reach it: the SMART Health Card issuer's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = ctwiz_store::certificate::shc::IssuerUrl::new(s).map_err(|_| {
            format!("{s:?} is not a public URL (http:// or https://HOST[:PORT][/PATH], no trailing slash)")
        })?;
        Ok(PublicUrl(url.as_str().to_string()))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An SMTP relay, `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    host: String,
    port: u16,
}

impl FromStr for Relay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, port) = SmtpConfig::parse_relay(s)?;
        Ok(Relay { host, port })
    }
}

impl fmt::Display for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The sender of e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender(String);

impl FromStr for Sender {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SmtpConfig::check_sender(s.trim())?;
        Ok(Sender(s.trim().to_string()))
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The SMS gateway's `http://` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsUrl(String);

impl FromStr for SmsUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SmsGateway::new(s.trim(), None)?;
        Ok(SmsUrl(s.trim().to_string()))
    }
}

impl fmt::Display for SmsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// The day of the year (`MM-DD`) the clean-up lists go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupDay((u32, u32));

impl FromStr for CleanupDay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let schedule = ctwiz_web::schedule::Schedule::default().with_cleanup_day(s.trim())?;
        Ok(CleanupDay(schedule.cleanup_day))
    }
}

impl fmt::Display for CleanupDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.0 .0, self.0 .1)
    }
}

/// A string value of the file, read with the same `FromStr` as its flag and variable.
#[derive(Debug, Clone)]
struct Parsed<T>(T);

impl<'de, T: FromStr> Deserialize<'de> for Parsed<T>
where
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Parsed).map_err(serde::de::Error::custom)
    }
}

fn unparsed<T>(p: Option<Parsed<T>>) -> Option<T> {
    p.map(|p| p.0)
}

// ---------------------------------------------------------------------------------------
// The file.

/// `ctwiz.toml` as written (see docs/ctwiz.example.toml).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// An SQLite file (relative to the configuration file) or a postgres:// URL.
    database: Option<String>,
    #[serde(default)]
    web: WebFile,
    #[serde(default)]
    smtp: SmtpFile,
    #[serde(default)]
    sms: SmsFile,
    #[serde(default)]
    mllp: MllpFile,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    schedule: ScheduleFile,
    #[serde(default)]
    log: LogFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebFile {
    addr: Option<Parsed<SocketAddr>>,
    public_url: Option<Parsed<PublicUrl>>,
    secure_cookies: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    relay: Option<Parsed<Relay>>,
    from: Option<Parsed<Sender>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFile {
    gateway: Option<Parsed<SmsUrl>>,
    token: Option<Parsed<Secret>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MllpFile {
    addr: Option<Parsed<SocketAddr>>,
    idle_secs: Option<Seconds>,
    facility: Option<Vec<FacilityFile>>,
}

/// One `[[mllp.facility]]` table: `--mllp-bind PIN=USERNAME@ADDR,...` as keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FacilityFile {
    pin: String,
    username: String,
    sources: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    sign_in: Option<ThrottleFile>,
    public_forms: Option<ThrottleFile>,
    portal_search: Option<ThrottleFile>,
    portal_verify: Option<ThrottleFile>,
    soap_sign_in_failures: Option<RateFile>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleFile {
    per_address: Option<RateFile>,
    per_account: Option<RateFile>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateFile {
    burst: NonZeroU32,
    every_secs: Seconds,
}

impl RateFile {
    fn rate(self) -> Rate {
        Rate::new(self.burst.get(), self.every_secs.duration())
            .expect("a non-zero burst and period")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    enabled: Option<bool>,
    cleanup_day: Option<Parsed<CleanupDay>>,
    every_secs: Option<Seconds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFile {
    format: Option<Parsed<LogFormat>>,
    level: Option<Parsed<LogLevel>>,
}

/// A configuration file, read and checked.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    file: FileConfig,
    /// `[[mllp.facility]]`, checked (after parsing: toml locates a table in an array
    /// only by the array's first line).
    facilities: Option<Vec<MllpBinding>>,
}

/// The file `--config`/`CTWIZ_CONFIG` names (which must exist), else `./ctwiz.toml` if
/// present, read and checked; `None` when there is neither.
pub fn load(named: Option<&Path>) -> Result<Option<Loaded>, String> {
    let path = match named {
        Some(p) => p.to_path_buf(),
        None if Path::new(FILE_NAME).is_file() => PathBuf::from(FILE_NAME),
        None => return Ok(None),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("configuration file {}: {e}", path.display()))?;
    parse(&path, &text).map(Some)
}

/// Reads the text of the configuration file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Loaded, String> {
    let file = toml::from_str::<FileConfig>(text).map_err(|e| located(path, text, &e))?;
    let facilities = match &file.mllp.facility {
        None => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, f)| {
                    MllpBinding::new(&f.pin, &f.username, &f.sources).map_err(|e| {
                        let key = format!("mllp.facility[{}]", i + 1);
                        match nth_header_line(text, "[[mllp.facility]]", i) {
                            Some(n) => format!(
                                "configuration file {}: line {n}, {key}: {e}",
                                path.display()
                            ),
                            None => format!("configuration file {}: {key}: {e}", path.display()),
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        file,
        facilities,
    })
}

/// The line number of the `n`th (from 0) `header` line.
fn nth_header_line(text: &str, header: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.split('#').next().unwrap_or("").trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// A parse error as `FILE: line N, KEY: what`: toml gives the byte span; the key is
/// read back from the line and the table header above it.
fn located(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let what = e.message().trim();
    let Some(span) = e.span() else {
        return format!("configuration file {}: {what}", path.display());
    };
    let at = span.start.min(text.len());
    let line_no = text[..at].matches('\n').count() + 1;
    let key = key_at(text, at);
    format!(
        "configuration file {}: line {line_no}{}: {what}",
        path.display(),
        key.map(|k| format!(", {k}")).unwrap_or_default()
    )
}

/// The dotted key written at byte `at`: `table.key` (or the table itself on a header
/// line; `[[array]]` tables are numbered from 1).
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = |l: &str| -> Option<(String, bool)> {
        let l = l.split('#').next().unwrap_or("").trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
            Some((name.trim().to_string(), true))
        } else {
            l.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .map(|name| (name.trim().to_string(), false))
        }
    };
    let numbered = |name: &str, upto: usize| -> String {
        let n = text[..upto]
            .lines()
            .filter(|l| header(l) == Some((name.to_string(), true)))
            .count();
        format!("{name}[{n}]")
    };
    if let Some((name, array)) = header(line) {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        return Some(if array {
            numbered(&name, line_end)
        } else {
            name
        });
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))?;
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(header)
        .map(|(name, array)| {
            if array {
                numbered(&name, line_start)
            } else {
                name
            }
        });
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

impl Loaded {
    /// Relative paths in the file are relative to the file.
    fn relative(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() || ctwiz_store::postgres_url(&p).is_some() {
            return p;
        }
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
            _ => p,
        }
    }

    /// What is risky about the file itself.
    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        #[cfg(unix)]
        if self.file.sms.token.is_some() {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(&self.path) {
                if meta.permissions().mode() & 0o044 != 0 {
                    out.push(format!(
                        "{} holds sms.token and other users may read it: chmod 600 it, or set CTWIZ_SMS_TOKEN instead",
                        self.path.display()
                    ));
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Merged settings.

/// The database every command opens: `--db`, `CTWIZ_DB`, the file's `database`, or
/// `ctwiz.db` in the working directory.
pub fn database(flag: Option<PathBuf>, env: Env, file: Option<&Loaded>) -> Setting<PathBuf> {
    if let Some(value) = flag {
        return Setting {
            value,
            source: Source::Flag("--db"),
        };
    }
    if let Some(v) = env("CTWIZ_DB") {
        return Setting {
            value: PathBuf::from(v),
            source: Source::Env("CTWIZ_DB"),
        };
    }
    if let Some((f, db)) = file.and_then(|f| Some((f, f.file.database.as_deref()?))) {
        return Setting {
            value: f.relative(db),
            source: Source::File,
        };
    }
    Setting::default(PathBuf::from("ctwiz.db"))
}

/// A database as it may be printed: a PostgreSQL URL's password is masked.
pub fn shown_database(db: &Path) -> String {
    let text = db.display().to_string();
    let Some(url) = ctwiz_store::postgres_url(db) else {
        return text;
    };
    // postgres://USER:PASSWORD@HOST...: mask what lies between the first ':' after the
    // scheme and the last '@' of the authority.
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:********@{host}{tail}"),
            None => text,
        },
        None => text,
    }
}

/// The flags of `ctwiz serve` (also taken by `ctwiz config check`): each overrides its
/// environment variable and the configuration file.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeFlags {
    /// Address and port to listen on [env CTWIZ_ADDR; file web.addr; default 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<SocketAddr>,
    /// Mark session cookies Secure (set when users reach the site over HTTPS)
    /// [env CTWIZ_SECURE_COOKIES; file web.secure_cookies].
    #[arg(long)]
    pub secure_cookies: bool,
    /// SMTP relay that delivers the e-mail outbox; without it mail stays in the outbox,
    /// readable by state users [env CTWIZ_SMTP; file smtp.relay].
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp: Option<Relay>,
    /// Sender address for e-mail sent through --smtp [env CTWIZ_MAIL_FROM; file smtp.from;
    /// default ctwiz@localhost].
    #[arg(long, value_name = "ADDRESS")]
    pub mail_from: Option<Sender>,
    /// HTTP SMS gateway (or a local relay to one) that delivers the text-message outbox
    /// (portal codes): each text is POSTed as JSON {"to", "body"}. Without it texts stay
    /// in the outbox, readable by state users [env CTWIZ_SMS_GATEWAY; file sms.gateway].
    #[arg(long, value_name = "URL")]
    pub sms_gateway: Option<SmsUrl>,
    /// Bearer token sent to --sms-gateway. Prefer the environment variable CTWIZ_SMS_TOKEN:
    /// a flag shows in the process list [file sms.token].
    #[arg(long, value_name = "TOKEN", hide = true)]
    pub sms_token: Option<Secret>,
    /// Also accept HL7 v2 over MLLP on this address. Nothing is trusted by default:
    /// every facility that sends over MLLP needs a binding (--mllp-bind or
    /// [[mllp.facility]]). The CDC SOAP service is always served at /iis/soap
    /// [env CTWIZ_MLLP; file mllp.addr].
    #[arg(long, value_name = "HOST:PORT")]
    pub mllp: Option<SocketAddr>,
    /// Bind a facility to the account its messages are processed as (its grants decide
    /// what it may submit and query) and the addresses it connects from (IPs or CIDR
    /// networks). Repeat per facility; replaces the file's [[mllp.facility]] tables.
    #[arg(long, value_name = "PIN=USERNAME@ADDR[,ADDR...]")]
    pub mllp_bind: Vec<MllpBinding>,
    /// Close an MLLP connection that completes no message for this many seconds
    /// [env CTWIZ_MLLP_IDLE_SECS; file mllp.idle_secs; default 60].
    #[arg(long, value_name = "SECONDS")]
    pub mllp_idle_secs: Option<Seconds>,
    /// The site's address as clients reach it (e.g. https://iis.example.org behind a
    /// TLS-terminating proxy): the SOAP WSDL advertises its service there, and it is the
    /// issuer of the SMART Health Cards on certificates, whose keys are served at
    /// URL/.well-known/jwks.json. Without it the WSDL follows the proxy's Forwarded /
    /// X-Forwarded-Proto headers and cards name http://ADDR [env CTWIZ_PUBLIC_URL; file
    /// web.public_url].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<PublicUrl>,
    /// Do not send the scheduled lists from this process (another process does)
    /// [env CTWIZ_SCHEDULE=off; file schedule.enabled = false].
    #[arg(long)]
    pub no_schedule: bool,
    /// The day of the year (MM-DD) the two-year-old clean-up goes to every practice
    /// [env CTWIZ_CLEANUP_DAY; file schedule.cleanup_day; default 10-01].
    #[arg(long, value_name = "MM-DD")]
    pub cleanup_day: Option<CleanupDay>,
    /// How often the schedule is checked, in seconds [env CTWIZ_SCHEDULE_EVERY_SECS; file
    /// schedule.every_secs; default 3600].
    #[arg(long, value_name = "SECONDS")]
    pub schedule_every_secs: Option<Seconds>,
    /// Log lines on stderr as readable text or as JSON objects, one per line
    /// [env CTWIZ_LOG_FORMAT; file log.format; default human].
    #[arg(long, value_name = "human|json")]
    pub log_format: Option<LogFormat>,
    /// Which log lines are written: a level (error, warn, info, debug), optionally with
    /// per-target levels, e.g. info,ctwiz::access=warn [env CTWIZ_LOG_LEVEL; file
    /// log.level; default info].
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,
}

/// Everything `ctwiz serve` runs with, each setting with its source.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub addr: Setting<SocketAddr>,
    pub public_url: Setting<Option<PublicUrl>>,
    pub secure_cookies: Setting<bool>,
    pub smtp: Setting<Option<Relay>>,
    pub mail_from: Setting<Sender>,
    pub sms_gateway: Setting<Option<SmsUrl>>,
    pub sms_token: Setting<Option<Secret>>,
    pub mllp: Setting<Option<SocketAddr>>,
    pub mllp_idle: Setting<Seconds>,
    pub mllp_facilities: Setting<Vec<MllpBinding>>,
    /// Each rate of `[limits]` by its key, and all of them as the web crate takes them.
    pub limit_rates: Vec<(&'static str, Setting<Rate>)>,
    pub limits: LimitRates,
    pub schedule: Setting<bool>,
    pub cleanup_day: Setting<CleanupDay>,
    pub schedule_every: Setting<Seconds>,
    pub log_format: Setting<LogFormat>,
    pub log_level: Setting<LogLevel>,
    /// What is allowed but probably not meant (printed by `config check`, logged by `serve`).
    pub warnings: Vec<String>,
}

/// The default listen address of `ctwiz serve`.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default sender of e-mail.
pub const DEFAULT_MAIL_FROM: &str = "ctwiz@localhost";

impl ServeSettings {
    /// Merges `flags`, the environment and the file (flag > environment > file >
    /// default), checking each value and what only makes sense together.
    pub fn resolve(
        flags: &ServeFlags,
        env: Env,
        file: Option<&Loaded>,
    ) -> Result<ServeSettings, String> {
        let empty = FileConfig::default();
        let f = file.map_or(&empty, |l| &l.file);
        let addr = or_default(
            first_of(
                ("--addr", flags.addr),
                "CTWIZ_ADDR",
                f.web.addr.as_ref().map(|p| p.0),
                env,
            )?,
            DEFAULT_ADDR.parse().expect("a valid default address"),
        );
        let public_url = optional(first_of(
            ("--public-url", flags.public_url.clone()),
            "CTWIZ_PUBLIC_URL",
            unparsed(f.web.public_url.clone()),
            env,
        )?);
        let secure_cookies = or_default(
            first_of(
                (
                    "--secure-cookies",
                    flags.secure_cookies.then_some(Switch(true)),
                ),
                "CTWIZ_SECURE_COOKIES",
                f.web.secure_cookies.map(Switch),
                env,
            )?,
            Switch(false),
        );
        let smtp = optional(first_of(
            ("--smtp", flags.smtp.clone()),
            "CTWIZ_SMTP",
            unparsed(f.smtp.relay.clone()),
            env,
        )?);
        let mail_from = or_default(
            first_of(
                ("--mail-from", flags.mail_from.clone()),
                "CTWIZ_MAIL_FROM",
                unparsed(f.smtp.from.clone()),
                env,
            )?,
            Sender(DEFAULT_MAIL_FROM.into()),
        );
        let sms_gateway = optional(first_of(
            ("--sms-gateway", flags.sms_gateway.clone()),
            "CTWIZ_SMS_GATEWAY",
            unparsed(f.sms.gateway.clone()),
            env,
        )?);
        let sms_token = optional(first_of(
            ("--sms-token", flags.sms_token.clone()),
            "CTWIZ_SMS_TOKEN",
            unparsed(f.sms.token.clone()),
            env,
        )?);
        let mllp = optional(first_of(
            ("--mllp", flags.mllp),
            "CTWIZ_MLLP",
            f.mllp.addr.as_ref().map(|p| p.0),
            env,
        )?);
        let mllp_idle = or_default(
            first_of(
                ("--mllp-idle-secs", flags.mllp_idle_secs),
                "CTWIZ_MLLP_IDLE_SECS",
                f.mllp.idle_secs,
                env,
            )?,
            Seconds::of(MllpConfig::DEFAULT_IDLE_TIMEOUT.as_secs()),
        );
        let mllp_facilities = if !flags.mllp_bind.is_empty() {
            Setting {
                value: flags.mllp_bind.clone(),
                source: Source::Flag("--mllp-bind"),
            }
        } else if let Some(list) = file.and_then(|l| l.facilities.as_ref()) {
            Setting {
                value: list.clone(),
                source: Source::File,
            }
        } else {
            Setting::default(Vec::new())
        };
        let (limit_rates, limits) = limits(&f.limits);
        let schedule = or_default(
            first_of(
                ("--no-schedule", flags.no_schedule.then_some(Switch(false))),
                "CTWIZ_SCHEDULE",
                f.schedule.enabled.map(Switch),
                env,
            )?,
            Switch(true),
        );
        let default_schedule = ctwiz_web::schedule::Schedule::default();
        let cleanup_day = or_default(
            first_of(
                ("--cleanup-day", flags.cleanup_day),
                "CTWIZ_CLEANUP_DAY",
                unparsed(f.schedule.cleanup_day.clone()),
                env,
            )?,
            CleanupDay(default_schedule.cleanup_day),
        );
        let schedule_every = or_default(
            first_of(
                ("--schedule-every-secs", flags.schedule_every_secs),
                "CTWIZ_SCHEDULE_EVERY_SECS",
                f.schedule.every_secs,
                env,
            )?,
            Seconds::of(default_schedule.every.as_secs()),
        );
        let log_format = or_default(
            first_of(
                ("--log-format", flags.log_format),
                "CTWIZ_LOG_FORMAT",
                unparsed(f.log.format.clone()),
                env,
            )?,
            LogFormat::default(),
        );
        let log_level = or_default(
            first_of(
                ("--log-level", flags.log_level.clone()),
                "CTWIZ_LOG_LEVEL",
                unparsed(f.log.level.clone()),
                env,
            )?,
            LogLevel::default(),
        );
        let switch = |s: Setting<Switch>| Setting {
            value: s.value.0,
            source: s.source,
        };
        let settings = ServeSettings {
            addr,
            public_url,
            secure_cookies: switch(secure_cookies),
            smtp,
            mail_from,
            sms_gateway,
            sms_token,
            mllp,
            mllp_idle,
            mllp_facilities,
            limit_rates,
            limits,
            schedule: switch(schedule),
            cleanup_day,
            schedule_every,
            log_format,
            log_level,
            warnings: file.map(Loaded::warnings).unwrap_or_default(),
        };
        settings.checked()
    }

    /// What only makes sense together.
    fn checked(mut self) -> Result<ServeSettings, String> {
        if let Some(addr) = self.mllp.value {
            if self.mllp_facilities.value.is_empty() {
                return Err(format!(
                    "MLLP is to listen on {addr} ({}) but trusts no address by default: bind at \
                     least one facility ([[mllp.facility]] in the configuration file, or \
                     --mllp-bind PIN=USERNAME@ADDR)",
                    self.mllp.source
                ));
            }
        } else if !self.mllp_facilities.value.is_empty() {
            self.warnings.push(
                "MLLP facilities are bound but MLLP is not served (set mllp.addr or --mllp)".into(),
            );
        }
        if self.sms_token.value.is_some() && self.sms_gateway.value.is_none() {
            self.warnings
                .push("an SMS token is set but no gateway (sms.gateway or --sms-gateway)".into());
        }
        if self.secure_cookies.value
            && self
                .public_url
                .value
                .as_ref()
                .is_some_and(|u| u.0.starts_with("http://"))
        {
            self.warnings.push(
                "cookies are Secure but the public URL is http://: browsers will not send them"
                    .into(),
            );
        }
        Ok(self)
    }

    /// The web server's configuration for the database `db`.
    pub fn web_config(&self, db: PathBuf) -> Result<WebConfig, String> {
        let mut cfg = WebConfig::new(self.addr.value, db);
        cfg.secure_cookies = self.secure_cookies.value;
        cfg.public_url = self.public_url.value.as_ref().map(|u| u.0.clone());
        cfg.mllp_addr = self.mllp.value;
        cfg.mllp = MllpConfig {
            bindings: self.mllp_facilities.value.clone(),
            idle_timeout: self.mllp_idle.value.duration(),
        };
        if let Some(relay) = &self.smtp.value {
            cfg.smtp = Some(SmtpConfig::new(
                &relay.to_string(),
                &self.mail_from.value.0,
            )?);
        }
        if let Some(url) = &self.sms_gateway.value {
            let token = self.sms_token.value.as_ref().map(|t| t.0.clone());
            cfg.sms = Some(SmsGateway::new(&url.0, token)?);
        }
        cfg.schedule = self.schedule.value.then(|| ctwiz_web::schedule::Schedule {
            cleanup_day: self.cleanup_day.value.0,
            every: self.schedule_every.value.duration(),
        });
        cfg.limits = self.limits;
        cfg.log_format = self.log_format.value;
        cfg.log_level = self.log_level.value.clone();
        Ok(cfg)
    }

    /// Each setting as `(key, value, source)`, secrets masked.
    pub fn rows(&self) -> Vec<(String, String, Source)> {
        fn row<T>(
            key: &str,
            s: &Setting<T>,
            show: impl Fn(&T) -> String,
        ) -> (String, String, Source) {
            (key.to_string(), show(&s.value), s.source)
        }
        fn or_unset<T: fmt::Display>(v: &Option<T>) -> String {
            v.as_ref()
                .map_or_else(|| "(not set)".into(), ToString::to_string)
        }
        let mut rows = vec![
            row("web.addr", &self.addr, ToString::to_string),
            row("web.public_url", &self.public_url, or_unset),
            row(
                "web.secure_cookies",
                &self.secure_cookies,
                ToString::to_string,
            ),
            row("smtp.relay", &self.smtp, |v| {
                v.as_ref().map_or_else(
                    || "(not set: e-mail stays in the outbox)".into(),
                    ToString::to_string,
                )
            }),
            row("smtp.from", &self.mail_from, ToString::to_string),
            row("sms.gateway", &self.sms_gateway, |v| {
                v.as_ref().map_or_else(
                    || "(not set: texts stay in the outbox)".into(),
                    ToString::to_string,
                )
            }),
            row("sms.token", &self.sms_token, |v| {
                if v.is_some() {
                    "******** (set)"
                } else {
                    "(not set)"
                }
                .into()
            }),
            row("mllp.addr", &self.mllp, |v| {
                v.map_or_else(|| "(not set: no MLLP)".into(), |a| a.to_string())
            }),
            row("mllp.idle_secs", &self.mllp_idle, ToString::to_string),
        ];
        if self.mllp_facilities.value.is_empty() {
            rows.push(row("mllp.facility", &self.mllp_facilities, |_| {
                "(none)".into()
            }));
        }
        for (i, b) in self.mllp_facilities.value.iter().enumerate() {
            rows.push((
                format!("mllp.facility[{}]", i + 1),
                b.to_string(),
                self.mllp_facilities.source,
            ));
        }
        for (key, rate) in &self.limit_rates {
            rows.push(row(key, rate, ToString::to_string));
        }
        rows.extend([
            row("schedule.enabled", &self.schedule, ToString::to_string),
            row(
                "schedule.cleanup_day",
                &self.cleanup_day,
                ToString::to_string,
            ),
            row(
                "schedule.every_secs",
                &self.schedule_every,
                ToString::to_string,
            ),
            row("log.format", &self.log_format, ToString::to_string),
            row("log.level", &self.log_level, ToString::to_string),
        ]);
        rows
    }
}

/// The `[limits]` rates: the file's, else the built-in ones.
fn limits(f: &LimitsFile) -> (Vec<(&'static str, Setting<Rate>)>, LimitRates) {
    let defaults = LimitRates::default();
    let rate = |file: Option<RateFile>, default: Rate| match file {
        Some(r) => Setting {
            value: r.rate(),
            source: Source::File,
        },
        None => Setting::default(default),
    };
    let mut rows = Vec::new();
    let mut throttle = |keys: [&'static str; 2], file: Option<ThrottleFile>, d: ThrottleRates| {
        let file = file.unwrap_or_default();
        let per_address = rate(file.per_address, d.per_address);
        let per_account = rate(file.per_account, d.per_account);
        let rates = ThrottleRates {
            per_address: per_address.value,
            per_account: per_account.value,
        };
        rows.push((keys[0], per_address));
        rows.push((keys[1], per_account));
        rates
    };
    let mut limits = LimitRates {
        sign_in: throttle(
            ["limits.sign_in.per_address", "limits.sign_in.per_account"],
            f.sign_in,
            defaults.sign_in,
        ),
        public_forms: throttle(
            [
                "limits.public_forms.per_address",
                "limits.public_forms.per_account",
            ],
            f.public_forms,
            defaults.public_forms,
        ),
        portal_search: throttle(
            [
                "limits.portal_search.per_address",
                "limits.portal_search.per_account",
            ],
            f.portal_search,
            defaults.portal_search,
        ),
        portal_verify: throttle(
            [
                "limits.portal_verify.per_address",
                "limits.portal_verify.per_account",
            ],
            f.portal_verify,
            defaults.portal_verify,
        ),
        soap_sign_in_failures: defaults.soap_sign_in_failures,
    };
    let soap = rate(f.soap_sign_in_failures, defaults.soap_sign_in_failures);
    limits.soap_sign_in_failures = soap.value;
    rows.push(("limits.soap_sign_in_failures", soap));
    (rows, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn file(text: &str) -> Result<Loaded, String> {
        parse(Path::new("/etc/ctwiz/ctwiz.toml"), text)
    }

    #[test]
    fn the_example_parses_and_resolves() {
        let loaded = file(EXAMPLE).expect("the example parses");
        let s = ServeSettings::resolve(&ServeFlags::default(), &env_of(&[]), Some(&loaded))
            .expect("the example resolves");
        assert_eq!(s.addr.source, Source::File);
        assert!(!s.mllp_facilities.value.is_empty());
        s.web_config(PathBuf::from("x.db"))
            .expect("a web configuration");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key_and_line() {
        let e = file("[web]\naddr = \"127.0.0.1:1\"\nadress = \"x\"\n").unwrap_err();
        assert!(e.contains("line 3, web.adress"), "{e}");
        assert!(e.contains("unknown field `adress`"), "{e}");
        let e = file("database = \"x.db\"\n\n[mllp]\naddr = \"nowhere:25\"\n").unwrap_err();
        assert!(e.contains("line 4, mllp.addr"), "{e}");
        let e = file(
            "[[mllp.facility]]\npin = \"C1\"\nusername = \"ehr-a\"\nsources = [\"10.0.0.1\"]\n\
             [[mllp.facility]]\npin = \"C2\"\nusername = \"ehr-b\"\nsources = [\"10.0.0.300\"]\n",
        )
        .unwrap_err();
        assert!(e.contains("mllp.facility[2]"), "{e}");
        assert!(e.contains("is not an IP address"), "{e}");
        let e = file("[schedule]\ncleanup_day = \"02-30\"\n").unwrap_err();
        assert!(e.contains("line 2, schedule.cleanup_day"), "{e}");
        let e =
            file("[limits.sign_in]\nper_address = { burst = 0, every_secs = 3 }\n").unwrap_err();
        assert!(e.contains("limits.sign_in.per_address"), "{e}");
    }

    #[test]
    fn a_flag_beats_a_variable_which_beats_the_file() {
        let loaded = file("[web]\naddr = \"127.0.0.1:1001\"\n[log]\nformat = \"json\"\n").unwrap();
        let env = env_of(&[
            ("CTWIZ_ADDR", "127.0.0.1:1002"),
            ("CTWIZ_LOG_LEVEL", "warn"),
        ]);
        let s = ServeSettings::resolve(&ServeFlags::default(), &env, Some(&loaded)).unwrap();
        assert_eq!(s.addr.value.port(), 1002);
        assert_eq!(s.addr.source, Source::Env("CTWIZ_ADDR"));
        assert_eq!(s.log_format.source, Source::File);
        assert_eq!(s.log_level.value.as_str(), "warn");
        let flags = ServeFlags {
            addr: Some("127.0.0.1:1003".parse().unwrap()),
            ..Default::default()
        };
        let s = ServeSettings::resolve(&flags, &env, Some(&loaded)).unwrap();
        assert_eq!(s.addr.source, Source::Flag("--addr"));
        let bad = env_of(&[("CTWIZ_MLLP_IDLE_SECS", "0")]);
        let e = ServeSettings::resolve(&ServeFlags::default(), &bad, None).unwrap_err();
        assert!(e.contains("CTWIZ_MLLP_IDLE_SECS"), "{e}");
    }

    #[test]
    fn paths_in_the_file_are_relative_to_it_and_passwords_are_masked() {
        let loaded = file("database = \"data/ctwiz.db\"\n").unwrap();
        let db = database(None, &env_of(&[]), Some(&loaded));
        assert_eq!(db.value, PathBuf::from("/etc/ctwiz/data/ctwiz.db"));
        assert_eq!(
            shown_database(Path::new("postgres://ctwiz:s3cret@db:5432/ctwiz")),
            "postgres://ctwiz:********@db:5432/ctwiz"
        );
        assert_eq!(
            shown_database(Path::new("postgres://db/ctwiz")),
            "postgres://db/ctwiz"
        );
    }
}
