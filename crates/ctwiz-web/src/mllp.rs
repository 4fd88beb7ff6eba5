//! MLLP (minimal lower layer protocol, HL7 v2.5.1 Appendix C.4) listener for HL7 v2
//! messages from EHR interface engines: each message is framed `0x0B … 0x1C 0x0D`,
//! processed by the same interface use case as the SOAP service, and answered with
//! the ACK/RSP in the same framing on the same connection.
//!
//! MLLP carries no credentials, so nothing is trusted by default, loopback included:
//! configuration binds each facility to a ctwiz account and the source addresses its
//! interface engine connects from ([`MllpBinding`], `--mllp-bind
//! CT00001=ehr-ct00001@10.1.2.3,10.9.0.0/16`). A connection from an address no binding
//! names is closed unread (and logged). Each message is processed as the bound account
//! acting for the bound facility; the interface use case then decides, through the
//! permission matrix, whether that account may submit (VXU) or query (QBP) and refuses
//! an MSH-4 other than the bound facility. A connection that completes no frame for
//! [`MllpConfig::idle_timeout`] (idle, half-open, or trickling bytes) is closed.
//! A stopping server ([`serve_until`]) answers the messages it has read and closes each
//! connection between messages.

use crate::soap::{
    actor_for, message_span, msh4, InterfaceService, ServiceError, DEFAULT_MAX_MESSAGE_BYTES,
};
use ctwiz_core::actor::Channel;
use ctwiz_core::ids::{ClinicPin, Username};
use ctwiz_store::{OrgStore, UserStore};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};
use tracing::Instrument;

const START: u8 = 0x0B;
const END: u8 = 0x1C;
const CR: u8 = 0x0D;

/// Who may connect and as whom their messages are processed.
#[derive(Debug, Clone)]
pub struct MllpConfig {
    pub bindings: Vec<MllpBinding>,
    /// A connection that completes no frame for this long is closed.
    pub idle_timeout: Duration,
}

impl MllpConfig {
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

    pub fn new(bindings: Vec<MllpBinding>) -> MllpConfig {
        MllpConfig {
            bindings,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// The bindings whose allowlist contains `peer` (in configuration order).
    pub fn bindings_for(&self, peer: IpAddr) -> Vec<MllpBinding> {
        let peer = peer.to_canonical();
        self.bindings
            .iter()
            .filter(|b| b.sources.iter().any(|n| n.contains(peer)))
            .cloned()
            .collect()
    }
}

/// One facility's interface: the account whose grants its messages are processed with,
/// and the addresses it may connect from. Written `PIN=USERNAME@ADDR[,ADDR...]`, each
/// address an IP or a CIDR network (`10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MllpBinding {
    pub facility: ClinicPin,
    pub username: Username,
    pub sources: Vec<SourceNet>,
}

/// Why an `--mllp-bind` value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MLLP binding {value:?}: {reason} (expected PIN=USERNAME@ADDR[,ADDR...], e.g. CT00001=ehr-ct00001@10.0.0.5,10.1.0.0/16)")]
pub struct BindingError {
    value: String,
    reason: String,
}

impl MllpBinding {
    /// A binding from its parts (a configuration file's table): the same rules as
    /// `PIN=USERNAME@ADDR[,ADDR...]`.
    pub fn new(
        facility: &str,
        username: &str,
        sources: &[impl AsRef<str>],
    ) -> Result<MllpBinding, BindingError> {
        let err = |reason: String| BindingError {
            value: format!(
                "{facility}={username}@{}",
                sources
                    .iter()
                    .map(|s| s.as_ref())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            reason,
        };
        let pin = ClinicPin::new(facility.trim()).map_err(|e| err(e.to_string()))?;
        let username = Username::new(username.trim()).map_err(|e| err(e.to_string()))?;
        if sources.is_empty() {
            return Err(err("no address to accept connections from".into()));
        }
        let sources = sources
            .iter()
            .map(|a| a.as_ref().trim().parse::<SourceNet>().map_err(&err))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MllpBinding {
            facility: pin,
            username,
            sources,
        })
    }
}

impl std::fmt::Display for MllpBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sources: Vec<String> = self.sources.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}={}@{}",
            self.facility,
            self.username,
            sources.join(",")
        )
    }
}

impl FromStr for MllpBinding {
    type Err = BindingError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| BindingError {
            value: value.into(),
            reason: reason.into(),
        };
        let (facility, rest) = value.split_once('=').ok_or_else(|| err("no '='"))?;
        let (username, sources) = rest
            .rsplit_once('@')
            .ok_or_else(|| err("no '@' before the addresses"))?;
        let sources: Vec<&str> = sources.split(',').collect();
        MllpBinding::new(facility, username, &sources).map_err(|e| BindingError {
            value: value.into(),
            reason: e.reason,
        })
    }
}

/// An address or network that a facility connects from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceNet {
    addr: IpAddr,
    prefix: u8,
}

impl SourceNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(addr: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        addr >> (width - prefix)
    }
}

impl FromStr for SourceNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address"))?;
        let addr = addr.to_canonical();
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("/{p} is not a prefix length up to {width}"))?,
        };
        Ok(SourceNet { addr, prefix })
    }
}

impl std::fmt::Display for SourceNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Checks at start-up that every binding names an existing account and a registered
/// clinic, so a typo fails loudly instead of refusing that facility's messages later.
pub fn check_bindings<S: UserStore + OrgStore>(
    store: &S,
    config: &MllpConfig,
) -> Result<(), String> {
    for b in &config.bindings {
        if store
            .account(&b.username)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!(
                "MLLP binding for {}: there is no account {:?}",
                b.facility,
                b.username.as_str()
            ));
        }
        if store
            .clinic(&b.facility)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!(
                "MLLP binding for {}: no such clinic is registered",
                b.facility
            ));
        }
    }
    Ok(())
}

/// How long a stopping listener lets its connections finish the messages they hold.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` forever, one task per bound connection.
pub async fn serve(
    listener: TcpListener,
    service: InterfaceService,
    config: MllpConfig,
) -> io::Result<()> {
    serve_until(listener, service, config, std::future::pending()).await
}

/// Accepts connections on `listener` until `stop` completes, then drains: no new
/// connection is accepted, each connection answers the messages it has already read
/// whole and is closed (one waiting for its next message at once), and this returns
/// when all are closed or after [`DRAIN_TIMEOUT`]. A message whose answer was never
/// sent is resent by its sender, and the interface stores a resent message once.
pub async fn serve_until(
    listener: TcpListener,
    service: InterfaceService,
    config: MllpConfig,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let config = Arc::new(config);
    let (stopping_tx, stopping) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = crate::accept(&listener, "MLLP") => accepted,
            // Reap finished connections so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = &mut stop => break,
        };
        let bound = config.bindings_for(peer.ip());
        if bound.is_empty() {
            tracing::warn!(
                "MLLP connection from {peer} closed: no facility is bound to this address"
            );
            drop(stream);
            continue;
        }
        let service = service.clone();
        let idle = config.idle_timeout;
        let stopping = stopping.clone();
        connections.spawn(
            async move {
                if let Err(e) = connection(stream, peer, service, bound, idle, stopping).await {
                    tracing::warn!("MLLP connection from {peer}: {e}");
                }
            }
            .instrument(tracing::info_span!("mllp", peer = %peer)),
        );
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let open = connections.len();
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => tracing::info!("MLLP stopped: {open} connection(s) drained"),
        Err(_) => tracing::warn!(
            "MLLP stopped: {} of {open} connection(s) still busy after {DRAIN_TIMEOUT:?} were dropped",
            connections.len()
        ),
    }
    Ok(())
}

/// Completes once the listener is stopping.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    // An error means the listener is gone: stopping too.
    let _ = stopping.wait_for(|s| *s).await;
}

/// Splits MLLP frames out of a byte stream.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame's payload, if one has arrived. Bytes before a start
    /// block are line noise and dropped.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        let start = self.buf.iter().position(|&b| b == START)?;
        let end = self.buf[start..]
            .windows(2)
            .position(|w| w == [END, CR])
            .map(|p| start + p)?;
        let payload = self.buf[start + 1..end].to_vec();
        self.buf.drain(..end + 2);
        Some(payload)
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// Frames a payload for sending.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    out.push(START);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[END, CR]);
    out
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: InterfaceService,
    bound: Vec<MllpBinding>,
    idle: Duration,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut frames = Deframer::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut deadline = Instant::now() + idle;
    loop {
        // The deadline moves only when a frame completes, so a peer that vanished
        // (half-open) or trickles bytes is dropped as surely as an idle one. A stopping
        // server closes here, between messages: every message read whole was answered.
        tokio::select! {
            biased;
            _ = stopped(&mut stopping) => {
                tracing::info!("MLLP connection from {peer} closed: the server is stopping");
                return Ok(());
            }
            readable = timeout_at(deadline, stream.readable()) => if readable.is_err() {
                tracing::info!("MLLP connection from {peer} closed: no complete message for {idle:?}");
                return Ok(());
            }
        }
        let n = match stream.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        frames.push(&buf[..n]);
        if frames.buffered() > 2 * DEFAULT_MAX_MESSAGE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "MLLP frame larger than the message limit",
            ));
        }
        while let Some(payload) = frames.next_frame() {
            let text = String::from_utf8_lossy(&payload).into_owned();
            let answer = process(&service, &bound, text)
                .await
                .map_err(io::Error::other)?;
            if timeout_at(
                deadline.max(Instant::now() + idle),
                write_all(&stream, &frame(answer.as_bytes())),
            )
            .await
            .is_err()
            {
                tracing::info!("MLLP connection from {peer} closed: the answer was not read");
                return Ok(());
            }
            deadline = Instant::now() + idle;
        }
    }
}

/// Processes one message as the binding for its MSH-4 among those of the connection (or
/// the first one, whose facility the interface then finds does not match MSH-4).
async fn process(
    service: &InterfaceService,
    bound: &[MllpBinding],
    text: String,
) -> Result<String, ServiceError> {
    let claimed = msh4(&text);
    let binding = bound
        .iter()
        .find(|b| b.facility.as_str().eq_ignore_ascii_case(&claimed))
        .unwrap_or(&bound[0])
        .clone();
    let span = message_span("mllp", binding.facility.as_str(), &text);
    let answer = service
        .with_store(move |store, inner| {
            // Re-read on every message: a locked account or changed grant applies at once.
            let Some(account) = store.account(&binding.username)? else {
                return Err(ServiceError::Unbound(binding.username.to_string()));
            };
            let actor = actor_for(
                store,
                account.user,
                binding.facility.as_str(),
                Channel::Mllp,
            )?;
            Ok(inner.process(store, &actor, &text))
        })
        .instrument(span.clone())
        .await
        .and_then(|r| r);
    if let Err(e) = &answer {
        // The connection closes without an answer: the sender will resend.
        span.in_scope(|| tracing::error!(error = %e, "MLLP message not processed"));
    }
    answer
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_parse_and_match_addresses_and_networks() {
        let b: MllpBinding = "C1=ehr-c1@127.0.0.1, 10.0.0.0/8,::1"
            .parse()
            .expect("binding");
        assert_eq!(b.facility.as_str(), "C1");
        assert_eq!(b.username.as_str(), "ehr-c1");
        let cfg = MllpConfig::new(vec![b]);
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        for ok in ["127.0.0.1", "10.200.3.4", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(cfg.bindings_for(ip(ok)).len(), 1, "{ok}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "::2", "192.168.1.1"] {
            assert!(cfg.bindings_for(ip(no)).is_empty(), "{no}");
        }
        assert!("0.0.0.0/0"
            .parse::<SourceNet>()
            .expect("any")
            .contains(ip("8.8.8.8")));
        for bad in [
            "C1",
            "C1=ehr",
            "C1=ehr@",
            "C1=ehr@10.0.0.0/33",
            "=ehr@1.2.3.4",
        ] {
            assert!(bad.parse::<MllpBinding>().is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_split_across_reads_and_noise_is_dropped() {
        let mut d = Deframer::default();
        let two = [frame(b"MSH|a\r"), frame(b"MSH|b\r")].concat();
        d.push(b"noise");
        d.push(&two[..4]);
        assert_eq!(d.next_frame(), None);
        d.push(&two[4..]);
        assert_eq!(d.next_frame().as_deref(), Some(&b"MSH|a\r"[..]));
        assert_eq!(d.next_frame().as_deref(), Some(&b"MSH|b\r"[..]));
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.buffered(), 0);
    }
}
