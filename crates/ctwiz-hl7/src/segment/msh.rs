//! MSH, message header (CDC IG R1.5 §6.1 / HL7 v2.5.1 §2.14.9).

use crate::datatype::{Ei, Hd};
use crate::er7::{MessageBuf, Segment, SegmentBuf};
use crate::escape::Delimiters;

/// MSH-9: message code ^ trigger event ^ message structure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageType {
    pub code: String,
    pub trigger: String,
    pub structure: String,
}

impl MessageType {
    pub fn new(code: &str, trigger: &str, structure: &str) -> Self {
        MessageType {
            code: code.into(),
            trigger: trigger.into(),
            structure: structure.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msh {
    pub sending_application: Hd,
    pub sending_facility: Hd,
    pub receiving_application: Hd,
    pub receiving_facility: Hd,
    /// MSH-7 as sent; see [`crate::datatype::parse_timestamp`].
    pub timestamp: String,
    pub message_type: MessageType,
    pub control_id: String,
    /// MSH-11: P production, T training, D debugging (table 0103).
    pub processing_id: String,
    pub version: String,
    /// MSH-15/16: AL, ER, NE, SU (table 0155).
    pub accept_ack_type: String,
    pub application_ack_type: String,
    /// MSH-21: the CDC profile, e.g. `Z22^CDCPHINVS` (VXU), `Z34` (QBP).
    pub profiles: Vec<Ei>,
    /// MSH-22/23: responsible sending/receiving organization (XON-1 name,
    /// XON-10 organization identifier), kept as name and id.
    pub sending_organization: (String, String),
    pub receiving_organization: (String, String),
}

impl Msh {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        let mt = s.field(9).repetition(1);
        let xon = |n| {
            let r = s.field(n).repetition(1);
            (r.text_at(1).into_owned(), r.text_at(10).into_owned())
        };
        Msh {
            sending_application: Hd::from_rep(s.field(3).repetition(1)),
            sending_facility: Hd::from_rep(s.field(4).repetition(1)),
            receiving_application: Hd::from_rep(s.field(5).repetition(1)),
            receiving_facility: Hd::from_rep(s.field(6).repetition(1)),
            timestamp: s.text(7).into_owned(),
            message_type: MessageType {
                code: mt.text_at(1).into_owned(),
                trigger: mt.text_at(2).into_owned(),
                structure: mt.text_at(3).into_owned(),
            },
            control_id: s.text(10).into_owned(),
            processing_id: s.text(11).into_owned(),
            version: s.field(12).component(1).text().into_owned(),
            accept_ack_type: s.text(15).into_owned(),
            application_ack_type: s.text(16).into_owned(),
            profiles: super::reps(s.field(21), Ei::from_rep),
            sending_organization: xon(22),
            receiving_organization: xon(23),
        }
    }

    /// The first profile identifier in MSH-21 (`Z22`, `Z34`, `Z44`, ...).
    pub fn profile(&self) -> &str {
        self.profiles.first().map(|p| p.id.as_str()).unwrap_or("")
    }

    pub fn to_segment(&self, d: Delimiters) -> SegmentBuf {
        let mut s = MessageBuf::header("MSH", d);
        s.set_field(3, self.sending_application.to_field())
            .set_field(4, self.sending_facility.to_field())
            .set_field(5, self.receiving_application.to_field())
            .set_field(6, self.receiving_facility.to_field());
        s.set(7, &self.timestamp);
        let mt = &self.message_type;
        s.set_components(9, &[&mt.code, &mt.trigger, &mt.structure]);
        s.set(10, &self.control_id)
            .set(11, &self.processing_id)
            .set(12, &self.version)
            .set(15, &self.accept_ack_type)
            .set(16, &self.application_ack_type);
        if !self.profiles.is_empty() {
            s.set_field(21, super::rep_field(&self.profiles, Ei::to_field));
        }
        for (n, (name, id)) in [
            (22, &self.sending_organization),
            (23, &self.receiving_organization),
        ] {
            let mut comps = vec![name.as_str(); 10];
            comps[1..9].fill("");
            comps[9] = id;
            s.set_components(n, &comps);
        }
        s
    }
}
