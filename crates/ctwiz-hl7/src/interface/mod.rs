//! The HL7 interface use cases: an incoming message (VXU^V04 or QBP^Q11) is
//! read, validated against the code sets, matched to a patient, stored and
//! answered (ACK^V04 or RSP^K11), and every message is recorded in the
//! message log behind the DQA – Interface Activity report.
//!
//! Everything here is written against the store traits, so the SOAP
//! endpoint, the MLLP listener and `ctwiz hl7 process/import` share one
//! [`process_message`].
//!
//! Rules this module decides (CDC IG R1.5 and the AIRA/CDC acknowledgement
//! guidance):
//! * **Commit, then acknowledge.** The store work of a VXU (patient, doses,
//!   observations, message-log row) is one atomic unit; the response is built
//!   only after it succeeded. If it fails nothing of the message is kept and
//!   the answer is AR with ERR 207. A caller that wraps several messages in an
//!   outer [`InterfaceStore::atomically`] (the batch import) must not send
//!   the responses before that outer unit commits.
//! * **Facility.** MSH-4 must name a registered clinic (its PIN); otherwise AR.
//! * **Who may.** The door authenticates the sender and hands in an [`Actor`];
//!   the permission matrix decides ([`authorize::authorize_facility`]): a VXU
//!   needs `InterfaceSubmit`, a QBP `InterfaceQuery`, for the MSH-4 clinic,
//!   which must be the clinic the actor acts for (or the actor is statewide).
//!   A refusal is AR with ERR 204 on MSH-4 (HL7 table 0357 has no security
//!   code), a message-log row and a `Denied` audit row; nothing is stored or
//!   disclosed.
//! * **Disclosures are audited.** Every patient a response names (Z32, Z42,
//!   each candidate of a Z31) gets a `Read` audit row under the actor's label,
//!   before the response leaves; if that row cannot be written, nothing is sent.
//! * **Onboarding QA.** A clinic in [`InterfaceStatus::Qa`] is validated and
//!   answered exactly as in production, but nothing but the log row is stored.
//! * **Patient identity.** The clinic's MRN (PID-3 type MR) first; then
//!   demographics: the store's bounded `match_candidates`, scored by the one
//!   matching engine (`ctwiz_core::matching`). The best automatic *link* is
//!   the same patient; *review* matches never merge automatically — a new
//!   record is created and its few best pairs go to the deduplication
//!   review queue.
//! * **Opt-out.** For a patient who opted out of the registry, no
//!   immunization data is kept; the message is accepted (AA) with an
//!   informational ERR saying so.
//! * **Doses.** An erroneous dose is not stored and makes the answer AE; the
//!   rest of the message is stored (AIRA ack guidance). RXA-21 A/U/D act
//!   on the sender's id (ORC-3) per clinic; a resent Add with a known sender
//!   id, or a dose identical in vaccine and date to a stored one, is not
//!   stored twice.
//! * **Late reporting.** An administered dose (RXA-9 = 00) reported more
//!   than 48 hours after its administration date counts as late.

pub mod authorize;
mod decode;
mod forecast;
mod qbp;
pub mod soap;
pub mod synth;
mod vxu;

pub use authorize::{acting_for_message, authorize_facility};
pub use decode::{prepare_bytes, prepare_raw};
pub use forecast::{vaccine_group_cvx, CdsiForecaster};
pub use qbp::{Forecaster, DEFAULT_QUERY_LIMIT};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::{Actor, Denied};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::onboarding::{Seen, Stage};
use ctwiz_store::clinic_info::NotificationStore;
use ctwiz_store::interface::{
    AckResult, InterfaceStatus, InterfaceStore, LoggedError, MessageLogEntry,
};
use ctwiz_store::onboarding::OnboardingStore;
use ctwiz_store::{AuditAction, AuditEntry, Interface, Store};

use crate::datatype::{Hd, Timestamp};
use crate::er7::MessageBuf;
use crate::message::ack::{build_ack, build_parse_error_ack, parse_error_issue, AckCode};
use crate::message::{Hl7Error, Issue, Rejection, Responder, Severity};
use crate::segment::err::ErrorLocation;
use crate::segment::Msh;
use crate::ParseError;

/// Everything a store must offer the interface.
pub trait IisStore: Store + InterfaceStore + OnboardingStore + NotificationStore {}
impl<T: Store + InterfaceStore + OnboardingStore + NotificationStore> IisStore for T {}

/// Who we are and the circumstances of one message.
pub struct Context<'a> {
    pub codes: &'a CodeSets,
    /// Who sent the message, as authenticated by the door; its channel is the
    /// interface named in the message log and the audit log.
    pub actor: &'a Actor,
    /// Our MSH-3 / MSH-4 in responses.
    pub application: Hd,
    pub facility: Hd,
    /// MSH-10 of our response (unique per response; tests fix it).
    pub response_id: String,
    /// When the message arrived; also the response's MSH-7.
    pub received_at: NaiveDateTime,
    /// Z44 answers need an evaluator; without one a Z44 is answered AE.
    pub forecaster: Option<&'a dyn Forecaster>,
    /// The most candidates returned in a Z31 when RCP-2 does not say.
    pub query_limit: u32,
    /// The offset from UTC of `received_at` (MSH-7 of responses carries it).
    pub utc_offset: FixedOffset,
    /// MSH-22 of responses: our organization's name and identifier.
    pub organization: (String, String),
}

impl<'a> Context<'a> {
    /// A context with ctwiz's own identity (`CTWIZ` / `CTDPH`).
    pub fn new(
        codes: &'a CodeSets,
        actor: &'a Actor,
        received_at: NaiveDateTime,
        response_id: impl Into<String>,
    ) -> Self {
        Context {
            codes,
            actor,
            application: Hd::new("CTWIZ"),
            facility: Hd::new("CTDPH"),
            response_id: response_id.into(),
            received_at,
            forecaster: None,
            query_limit: DEFAULT_QUERY_LIMIT,
            utc_offset: local_offset(received_at),
            organization: (
                "Connecticut Department of Public Health".into(),
                "CTDPH".into(),
            ),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.received_at.date()
    }

    /// Which door the message came through (message log, audit log).
    pub fn interface(&self) -> Interface {
        Interface::of(self.actor.channel)
    }

    fn responder(&self) -> Responder {
        Responder {
            application: self.application.clone(),
            facility: self.facility.clone(),
            control_id: self.response_id.clone(),
            timestamp: Timestamp {
                local: self.received_at,
                offset: Some(self.utc_offset),
            },
            organization: self.organization.clone(),
        }
    }
}

/// The offset from UTC this machine's time zone has at the local time `at` (the
/// earlier one when a clock change makes it ambiguous; UTC for a time skipped).
pub fn local_offset(at: NaiveDateTime) -> FixedOffset {
    use chrono::{Local, Offset, TimeZone};
    Local
        .offset_from_local_datetime(&at)
        .earliest()
        .map(|o| o.fix())
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// The answer to one message and what was recorded about it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub response: MessageBuf,
    pub result: AckResult,
    /// The message-log row (already stored).
    pub log: MessageLogEntry,
    /// Whether production data was written (false for QA, queries, rejects).
    pub stored: bool,
}

/// Processes one message in ER7 text from the facility in its MSH-4, as the
/// interface does for every transport. Never fails: problems, including
/// store failures, become the response's MSA/ERR (and the log row).
pub fn process_message<S: IisStore>(store: &S, ctx: &Context<'_>, text: &str) -> Outcome {
    process_prepared(store, ctx, prepare(ctx.codes, ctx.received_at, text))
}

/// A message read, mapped and validated without the store: the part of
/// [`process_message`] that can run in parallel (batch import).
#[derive(Debug, Clone)]
pub struct Prepared(Kind);

#[derive(Debug, Clone)]
enum Kind {
    /// Not readable as HL7, with its MSH as far as it could be read.
    NotHl7(ParseError, Box<Msh>),
    Rejected(Rejection),
    /// Answered AR with this issue before reading further (unsupported type,
    /// not UTF-8, submitter not authorized).
    Refused(Box<Msh>, Issue),
    Vxu(Box<vxu::PreparedVxu>),
    Qbp(Box<crate::message::qbp::Qbp>),
    /// A query with a QPD that cannot be answered as asked (query name unknown or
    /// missing): answered RSP^K11 Z33 with QAK AE, not as a VXU would be.
    InvalidQuery(Box<Msh>, Box<crate::segment::Qpd>, Vec<Issue>),
}

/// Reads and checks one message (no store access): parse, message type,
/// VXU mapping and validation as of `received_at` (dates in the future).
pub fn prepare(codes: &CodeSets, received_at: NaiveDateTime, text: &str) -> Prepared {
    let msg = match crate::er7::parse(text) {
        Ok(m) => m,
        Err(e) => {
            let msh = decode::readable_header(text.as_bytes());
            return Prepared(Kind::NotHl7(e, Box::new(msh)));
        }
    };
    let msh = Msh::from_segment(msg.msh());
    let kind = match msh.message_type.code.to_ascii_uppercase().as_str() {
        "VXU" => match vxu::prepare(codes, received_at, &msg) {
            Ok(v) => Kind::Vxu(Box::new(v)),
            Err(r) => Kind::Rejected(r),
        },
        "QBP" => match crate::message::qbp::Qbp::from_message(&msg) {
            Ok(q) => Kind::Qbp(Box::new(q)),
            // Readable as a query (it has a QPD and a usable header): a Z33 says what
            // was wrong; otherwise ACK^Q11 (see `build_ack`).
            Err(r) if !r.issues.iter().any(|i| i.code.rejects_message()) => {
                match msg.segment("QPD") {
                    Some(qpd) => Kind::InvalidQuery(
                        r.msh,
                        Box::new(crate::segment::Qpd::from_segment(qpd)),
                        r.issues,
                    ),
                    None => Kind::Rejected(r),
                }
            }
            Err(r) => Kind::Rejected(r),
        },
        other => {
            let issue = Issue::error(
                ErrorLocation::new("MSH", 1, 9).component(1),
                Hl7Error::UnsupportedMessageType,
                format!("message type {other:?} is not accepted here; send VXU^V04 or QBP^Q11"),
            );
            Kind::Refused(Box::new(msh), issue)
        }
    };
    Prepared(kind)
}

/// What is left of a processed message: the caller chooses the thread that frees it (an
/// import frees a batch's parsed messages on a decoding thread, off the store thread).
pub struct Spent(#[allow(dead_code)] Option<Box<vxu::PreparedVxu>>);

/// [`process_prepared`], handing back the parsed message instead of freeing it.
pub fn process_prepared_keeping<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    p: Prepared,
) -> (Outcome, Spent) {
    match p.0 {
        Kind::Vxu(v) => (vxu::process(store, ctx, &v), Spent(Some(v))),
        other => (process_prepared(store, ctx, Prepared(other)), Spent(None)),
    }
}

/// The store part of [`process_message`] for a [`prepare`]d message.
pub fn process_prepared<S: IisStore>(store: &S, ctx: &Context<'_>, p: Prepared) -> Outcome {
    match p.0 {
        Kind::NotHl7(e, mut msh) => {
            // Who sent bytes with no readable MSH-4: the clinic the door authenticated.
            if msh.sending_facility.namespace.trim().is_empty() {
                if let Some(pin) = ctx.actor.clinic() {
                    msh.sending_facility = Hd::new(pin.as_str());
                }
            }
            let response = build_parse_error_ack(&e, &msh, &ctx.responder());
            let issue = parse_error_issue(&e);
            finish(
                store,
                ctx,
                &msh,
                None,
                response,
                AckResult::Rejected,
                &[issue],
                Stats::default(),
                InterfaceStatus::Production,
            )
        }
        Kind::Rejected(r) => rejection(store, ctx, r),
        Kind::Refused(msh, issue) => reject(store, ctx, &msh, None, vec![issue]),
        Kind::Vxu(v) => vxu::process(store, ctx, &v),
        Kind::Qbp(q) => qbp::process(store, ctx, *q),
        Kind::InvalidQuery(msh, qpd, issues) => qbp::invalid(store, ctx, &msh, &qpd, issues),
    }
}

/// The registered clinic that MSH-4 names, or the issue to reject with.
fn resolve_facility<S: IisStore>(
    store: &S,
    msh: &Msh,
) -> Result<(ClinicPin, InterfaceStatus), Issue> {
    let loc = || ErrorLocation::new("MSH", 1, 4);
    let name = msh.sending_facility.namespace.trim();
    if name.is_empty() {
        return Err(Issue::error(
            loc(),
            Hl7Error::RequiredFieldMissing,
            "MSH-4 sending facility is missing; it must be the clinic's PIN",
        ));
    }
    let unknown = || {
        Issue::error(
            loc(),
            Hl7Error::UnknownKeyIdentifier,
            format!("MSH-4 sending facility {name:?} is not a clinic registered with this IIS"),
        )
    };
    let pin = ClinicPin::new(name).map_err(|_| unknown())?;
    let internal = |e: ctwiz_store::StoreError| internal_error(&e);
    match store.clinic(&pin).map_err(internal)? {
        Some(c) if c.active => {}
        _ => return Err(unknown()),
    }
    let status = store.interface_status(&pin).map_err(internal)?;
    Ok((pin, status))
}

/// Whether the actor may do `action` for the clinic `pin` (already resolved):
/// `Err` carries the ERR to answer AR with, after the refusal was audited.
fn authorize_sender<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    msh: &Msh,
    pin: &ClinicPin,
    action: Action,
) -> Result<(), Issue> {
    let denied: Denied = match authorize::authorize_facility(ctx.actor, store, pin, action) {
        Ok(()) => return Ok(()),
        Err(d) => d,
    };
    // The same words through every door (the actor is in the audit row).
    let text = format!("not authorized for facility {pin}: {denied}");
    // The refusal is answered whether or not its audit row could be written: it
    // discloses and stores nothing.
    let _ = audit(
        store,
        ctx,
        ctx.actor.clinic().cloned(),
        None,
        AuditAction::Denied,
        format!("{} {}: {text}", message_type(msh), msh.control_id),
    );
    // Table 0357 has no "not authorized" code: the sending facility is not one
    // this sender holds a key for (204), as the batch door answers too.
    Err(Issue::error(
        ErrorLocation::new("MSH", 1, 4),
        Hl7Error::UnknownKeyIdentifier,
        text,
    ))
}

/// The clinic a refused message is logged under: the facility only when the
/// actor acts for it (a message claiming another clinic is not that clinic's).
fn refused_clinic(ctx: &Context<'_>, pin: &ClinicPin) -> Option<ClinicPin> {
    ctx.actor.clinic().filter(|own| *own == pin).cloned()
}

/// One audit row under the actor's label, for the clinic acted for.
fn audit<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    clinic: Option<ClinicPin>,
    patient: Option<PatientId>,
    action: AuditAction,
    detail: String,
) -> ctwiz_store::Result<()> {
    store.audit(&AuditEntry {
        at: ctx.received_at,
        actor: ctx.actor.label(),
        patient,
        action,
        interface: ctx.interface(),
        clinic,
        detail,
    })
}

/// MSH-9 as `VXU^V04`.
fn message_type(msh: &Msh) -> String {
    let mt = &msh.message_type;
    if mt.trigger.is_empty() {
        mt.code.clone()
    } else {
        format!("{}^{}", mt.code, mt.trigger)
    }
}

fn internal_error(e: &ctwiz_store::StoreError) -> Issue {
    Issue::error(
        ErrorLocation::new("MSH", 1, 0),
        Hl7Error::ApplicationInternalError,
        format!("the registry could not store or read this message ({e}); nothing was kept, please resend"),
    )
}

/// An informational ERR (severity I, code 0): the message is accepted.
fn information(location: ErrorLocation, message: impl Into<String>) -> Issue {
    Issue {
        severity: Severity::Information,
        ..Issue::error(location, Hl7Error::Accepted, message)
    }
}

/// Counters for the log row.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    patient: Option<PatientId>,
    doses: u32,
    late_doses: u32,
    stored: bool,
}

/// Answers AR with an ACK (no data kept) and logs it.
fn reject<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    msh: &Msh,
    clinic: Option<ClinicPin>,
    issues: Vec<Issue>,
) -> Outcome {
    let response = build_ack(msh, &ctx.responder(), &issues, Some(AckCode::Reject));
    finish(
        store,
        ctx,
        msh,
        clinic,
        response,
        AckResult::Rejected,
        &issues,
        Stats::default(),
        InterfaceStatus::Production,
    )
}

fn rejection<S: IisStore>(store: &S, ctx: &Context<'_>, r: Rejection) -> Outcome {
    reject(store, ctx, &r.msh.clone(), None, r.issues)
}

pub(crate) fn ack_result(code: AckCode) -> AckResult {
    match code {
        AckCode::Accept => AckResult::Accepted,
        AckCode::Error => AckResult::Error,
        AckCode::Reject => AckResult::Rejected,
    }
}

fn log_entry(
    ctx: &Context<'_>,
    msh: &Msh,
    clinic: Option<ClinicPin>,
    result: AckResult,
    issues: &[Issue],
    stats: Stats,
    mode: InterfaceStatus,
) -> MessageLogEntry {
    MessageLogEntry {
        facility: msh.sending_facility.namespace.clone(),
        clinic,
        message_type: message_type(msh),
        control_id: msh.control_id.clone(),
        result,
        mode,
        interface: ctx.interface(),
        received_at: ctx.received_at,
        processed_at: chrono::Local::now().naive_local().max(ctx.received_at),
        patient: stats.patient,
        doses: stats.doses,
        late_doses: stats.late_doses,
        errors: issues.iter().map(logged).collect(),
    }
}

fn logged(i: &Issue) -> LoggedError {
    let l = &i.location;
    let mut location = l.segment.clone();
    if l.field > 0 {
        location.push_str(&format!("-{}", l.field));
        if l.component > 0 {
            location.push_str(&format!(".{}", l.component));
        }
    }
    LoggedError {
        severity: i.severity.code().into(),
        hl7_code: i.code.code().into(),
        app_code: i.application.map(|a| a.code().to_string()),
        location,
        text: i.message.clone(),
    }
}

/// Logs a message whose data (if any) is already settled (rejected, QA,
/// query, or a store failure that kept nothing). The answer does not depend
/// on this row, so a failure to write it leaves the row missing rather than
/// turning a correct answer into an error.
#[allow(clippy::too_many_arguments)]
fn finish<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    msh: &Msh,
    clinic: Option<ClinicPin>,
    response: MessageBuf,
    result: AckResult,
    issues: &[Issue],
    stats: Stats,
    mode: InterfaceStatus,
) -> Outcome {
    let log = log_entry(ctx, msh, clinic, result, issues, stats, mode);
    let _ = store.log_message(&log);
    // An EHR's message processed in QA over the network proves its connection and
    // starts its QA (onboarding moves on by itself).
    if let (InterfaceStatus::Qa, Some(pin), Interface::Soap | Interface::Mllp) =
        (mode, &log.clinic, ctx.interface())
    {
        if result != AckResult::Rejected {
            onboarding_seen(store, ctx.actor, pin, Seen::QaMessage, ctx.received_at);
        }
    }
    Outcome {
        response,
        result,
        log,
        stored: stats.stored,
    }
}

/// Records the onboarding moves an exchange proves (`usecase::onboarding::seen`). The
/// exchange is already answered and committed: a failure here changes neither, and the
/// next exchange tries again.
fn onboarding_seen<S: IisStore>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    seen: Seen,
    at: NaiveDateTime,
) -> Vec<Stage> {
    ctwiz_store::usecase::onboarding::seen(store, actor, pin, seen, at).unwrap_or_default()
}

/// A signed-in SOAP `connectivityTest` from `actor`: the connection of the clinic it
/// acts for is proven (its onboarding moves on from "applied"). Returns the stages moved
/// to.
pub fn connectivity_test<S: IisStore>(store: &S, actor: &Actor, at: NaiveDateTime) -> Vec<Stage> {
    match actor.clinic() {
        Some(pin) => onboarding_seen(store, actor, pin, Seen::Connection, at),
        None => Vec::new(),
    }
}

/// A batch import by `actor` stored records of `clinics`: their legacy data is in
/// (their onboarding moves on from production). Returns the clinics moved.
pub fn legacy_imported<'a, S: IisStore>(
    store: &S,
    actor: &Actor,
    clinics: impl IntoIterator<Item = &'a ClinicPin>,
    at: NaiveDateTime,
) -> Vec<ClinicPin> {
    clinics
        .into_iter()
        .filter(|pin| !onboarding_seen(store, actor, pin, Seen::LegacyImport, at).is_empty())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod twins_tests;
