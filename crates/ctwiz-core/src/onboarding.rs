//! Onboarding a provider onto the registry: the "Application for Electronic Reporting"
//! and the stages a clinic goes through before its data counts.
//!
//! Two paths. An EHR sending HL7: applied → SOAP connectivity seen → QA (messages are
//! validated, answered and logged, not stored) → DQA review by the state (signed off, or
//! sent back to QA with notes) → production → legacy data imported. Direct entry in the
//! web UI: applied → training registered → staff added by the coordinator → live.
//! Each step is one stage forward; only the DQA review can go back (to QA).

use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};

/// How the clinic will report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Its EHR sends HL7 VXU (and queries with QBP) over SOAP or MLLP.
    EhrHl7,
    /// Staff enter doses in the registry's web pages.
    UiDirectEntry,
}

impl Method {
    pub fn key(self) -> &'static str {
        match self {
            Method::EhrHl7 => "ehr-hl7",
            Method::UiDirectEntry => "ui",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Method::EhrHl7 => "EHR – HL7 interface",
            Method::UiDirectEntry => "UI direct entry",
        }
    }

    pub fn parse(s: &str) -> Result<Method> {
        match s.trim().to_lowercase().as_str() {
            "ehr-hl7" | "hl7" | "ehr" => Ok(Method::EhrHl7),
            "ui" | "ui-direct-entry" | "direct" => Ok(Method::UiDirectEntry),
            other => Err(CoreError::Unknown {
                field: "reporting method",
                value: other.into(),
                valid: "ehr-hl7, ui".into(),
            }),
        }
    }

    /// The stages of this path, in order.
    pub fn stages(self) -> &'static [Stage] {
        match self {
            Method::EhrHl7 => &[
                Stage::Applied,
                Stage::ConnectivitySeen,
                Stage::Qa,
                Stage::DqaReview,
                Stage::Production,
                Stage::LegacyImported,
            ],
            Method::UiDirectEntry => &[
                Stage::Applied,
                Stage::TrainingRegistered,
                Stage::StaffAdded,
                Stage::Live,
            ],
        }
    }
}

/// Where a clinic's onboarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    Applied,
    ConnectivitySeen,
    Qa,
    DqaReview,
    Production,
    LegacyImported,
    TrainingRegistered,
    StaffAdded,
    Live,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Applied,
        Stage::ConnectivitySeen,
        Stage::Qa,
        Stage::DqaReview,
        Stage::Production,
        Stage::LegacyImported,
        Stage::TrainingRegistered,
        Stage::StaffAdded,
        Stage::Live,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::ConnectivitySeen => "connectivity",
            Stage::Qa => "qa",
            Stage::DqaReview => "dqa-review",
            Stage::Production => "production",
            Stage::LegacyImported => "legacy-imported",
            Stage::TrainingRegistered => "training",
            Stage::StaffAdded => "staff-added",
            Stage::Live => "live",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Applied => "Application received",
            Stage::ConnectivitySeen => "SOAP connectivity seen",
            Stage::Qa => "Testing in QA",
            Stage::DqaReview => "DQA review by DPH",
            Stage::Production => "Live in production",
            Stage::LegacyImported => "Legacy data imported",
            Stage::TrainingRegistered => "Training registered",
            Stage::StaffAdded => "Staff added by the coordinator",
            Stage::Live => "Live",
        }
    }

    /// What happens next, for the clinic and the state to read.
    pub fn next_step(self) -> &'static str {
        match self {
            Stage::Applied => "DPH reviews the application; the clinic's EHR vendor sends a SOAP connectivityTest signed in with the clinic's credentials (HTTP Basic) or its first message, which moves the clinic on by itself (for direct entry, staff register for training).",
            Stage::ConnectivitySeen => "The EHR sends test VXU messages; the first one processed moves the clinic to QA.",
            Stage::Qa => "The EHR sends real VXU messages in QA; they are answered and logged but not stored. When the error rate is low, the clinic asks DPH for the DQA review.",
            Stage::DqaReview => "DPH reviews the QA messages' errors and signs off (production) or sends the clinic back to QA with notes.",
            Stage::Production => "Messages are stored. Send the legacy (historical) data as a batch import; when it finishes the clinic moves on by itself.",
            Stage::LegacyImported => "Done: the clinic reports in real time.",
            Stage::TrainingRegistered => "The clinic's coordinator adds the staff who will enter doses in Clinic Tools; the first one DPH approves moves the clinic on.",
            Stage::StaffAdded => "DPH confirms training and turns the clinic live.",
            Stage::Live => "Done: staff record doses in the registry.",
        }
    }

    /// Whether messages from a clinic at this stage reach production data.
    pub fn stores_messages(self) -> bool {
        matches!(self, Stage::Production | Stage::LegacyImported)
    }

    /// Whether the Notice to Patients about reporting is handed out (the clinic reports).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Stage::Production | Stage::LegacyImported | Stage::Live
        )
    }

    pub fn parse(s: &str) -> Result<Stage> {
        let t = s.trim().to_lowercase();
        Stage::ALL
            .into_iter()
            .find(|x| x.key() == t || x.label().to_lowercase() == t)
            .ok_or_else(|| CoreError::Unknown {
                field: "onboarding stage",
                value: s.trim().into(),
                valid: Stage::ALL.map(|x| x.key()).join(", "),
            })
    }
}

/// The Application for Electronic Reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub method: Method,
    /// EHR vendor and product (empty for direct entry).
    pub ehr_vendor: String,
    pub ehr_product: String,
    pub contact_name: String,
    pub contact_email: crate::ids::Email,
    pub contact_phone: Option<crate::ids::Phone>,
}

impl Application {
    /// Checks what the path needs: an EHR path names its vendor and product.
    pub fn new(
        method: Method,
        ehr_vendor: &str,
        ehr_product: &str,
        contact_name: &str,
        contact_email: crate::ids::Email,
        contact_phone: Option<crate::ids::Phone>,
    ) -> Result<Application> {
        let vendor = ehr_vendor.trim();
        let product = ehr_product.trim();
        if method == Method::EhrHl7 && (vendor.is_empty() || product.is_empty()) {
            return Err(CoreError::Rule(
                "an EHR–HL7 application names the EHR vendor and product".into(),
            ));
        }
        let text = |field, s: &str| -> Result<String> {
            if s.is_empty() {
                Ok(String::new())
            } else {
                crate::ids::name_text(field, s, 120)
            }
        };
        Ok(Application {
            method,
            ehr_vendor: text("EHR vendor", vendor)?,
            ehr_product: text("EHR product", product)?,
            contact_name: crate::ids::name_text("technical contact", contact_name, 120)?,
            contact_email,
            contact_phone,
        })
    }
}

/// Whether the state may move a clinic from `from` to `to` on its path: one stage forward,
/// or from the DQA review back to QA. `to == from` and jumps are refused, naming the next
/// stage.
pub fn check_move(method: Method, from: Stage, to: Stage) -> Result<()> {
    let stages = method.stages();
    let at = |s: Stage| stages.iter().position(|x| *x == s);
    let (Some(i), Some(j)) = (at(from), at(to)) else {
        return Err(CoreError::Rule(format!(
            "{} is not a stage of the {} path ({})",
            to.label(),
            method.label(),
            stages
                .iter()
                .map(|s| s.key())
                .collect::<Vec<_>>()
                .join(" → ")
        )));
    };
    let back_to_qa = from == Stage::DqaReview && to == Stage::Qa;
    if j == i + 1 || back_to_qa {
        return Ok(());
    }
    Err(CoreError::Rule(match stages.get(i + 1) {
        Some(next) => format!(
            "the clinic is at \"{}\"; the next stage is \"{}\"{}",
            from.label(),
            next.label(),
            if from == Stage::DqaReview {
                " (or back to QA with notes)"
            } else {
                ""
            }
        ),
        None => format!("the clinic's onboarding is complete (\"{}\")", from.label()),
    }))
}

/// What the interfaces see of a clinic that moves its onboarding on by itself, without
/// waiting for DPH: the connection proven, a message in QA, the legacy data imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// An authenticated SOAP exchange with the clinic's credentials (a connectivityTest
    /// signed in, or any message).
    Connection,
    /// A VXU or QBP the interface processed for the clinic in QA mode.
    QaMessage,
    /// A batch import of the clinic's messages finished, with records stored.
    LegacyImport,
    /// The state approved a staff member the clinic's coordinator added (direct entry).
    StaffAdded,
}

impl Seen {
    pub fn label(self) -> &'static str {
        match self {
            Seen::Connection => "SOAP connection with the clinic's credentials",
            Seen::QaMessage => "first message in QA",
            Seen::LegacyImport => "legacy data batch import",
            Seen::StaffAdded => "staff added by the clinic's coordinator",
        }
    }
}

/// The stages `seen` moves an onboarding at `stage` through, in order (none when it
/// waits for something else). A message proves the connection too, so a clinic's first
/// message moves it from "applied" through "connectivity seen" to "QA". A direct-entry
/// clinic registered for training moves on when its first staff member is added. DPH's
/// steps (the DQA review, production, training, going live) are never automatic.
pub fn moved_by(method: Method, stage: Stage, seen: Seen) -> Vec<Stage> {
    let mut out = Vec::new();
    let mut at = stage;
    loop {
        let next = match (method, at, seen) {
            (Method::EhrHl7, Stage::Applied, Seen::Connection | Seen::QaMessage) => {
                Stage::ConnectivitySeen
            }
            (Method::EhrHl7, Stage::ConnectivitySeen, Seen::QaMessage) => Stage::Qa,
            (Method::EhrHl7, Stage::Production, Seen::LegacyImport) => Stage::LegacyImported,
            (Method::UiDirectEntry, Stage::TrainingRegistered, Seen::StaffAdded) => {
                Stage::StaffAdded
            }
            _ => return out,
        };
        debug_assert!(check_move(method, at, next).is_ok());
        out.push(next);
        at = next;
    }
}

/// Sending a clinic back to QA needs notes saying what to fix.
pub fn check_notes(from: Stage, to: Stage, notes: &str) -> Result<()> {
    if from == Stage::DqaReview && to == Stage::Qa && notes.trim().is_empty() {
        return Err(CoreError::Rule(
            "say what the clinic must fix when sending it back to QA".into(),
        ));
    }
    Ok(())
}

/// The Notice to Patients about reporting, in English and Spanish (ctwiz's own wording),
/// handed out by live clinics.
pub fn patient_notice(clinic: &str) -> String {
    format!(
        "NOTICE TO PATIENTS: IMMUNIZATION REPORTING\n\n\
         {clinic} reports the vaccines given here to the Connecticut immunization registry \
         (CT WiZ), as state law requires of health care providers. The registry keeps one \
         record of each person's vaccines from every provider, so that doctors, nurses and \
         schools can see which vaccines a person has had and which are due, and so that \
         families can get an official record. The record holds the person's name, date of \
         birth, address, parent or guardian and the vaccines given. It is confidential and \
         shared only with those the law allows. Ask us how to see your record or your \
         child's, or how to ask that it not be shared.\n\n\
         AVISO A LOS PACIENTES: REPORTE DE VACUNAS\n\n\
         {clinic} informa las vacunas que se aplican aquí al registro de vacunas de \
         Connecticut (CT WiZ), como lo exige la ley estatal a los proveedores de salud. El \
         registro guarda un solo historial de las vacunas de cada persona de todos sus \
         proveedores, para que médicos, enfermeras y escuelas sepan qué vacunas ha recibido \
         y cuáles le tocan, y para que las familias puedan obtener un certificado oficial. El \
         historial contiene el nombre, la fecha de nacimiento, la dirección, el padre, la \
         madre o el tutor y las vacunas aplicadas. Es confidencial y solo se comparte con \
         quienes la ley autoriza. Pregúntenos cómo ver su historial o el de su hijo, o cómo \
         pedir que no se comparta.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_interfaces_see_moves_only_the_interface_stages() {
        use Stage::*;
        let hl7 = Method::EhrHl7;
        assert_eq!(
            moved_by(hl7, Applied, Seen::Connection),
            vec![ConnectivitySeen]
        );
        assert_eq!(
            moved_by(hl7, Applied, Seen::QaMessage),
            vec![ConnectivitySeen, Qa],
            "a first message proves the connection and is a QA message"
        );
        assert_eq!(moved_by(hl7, ConnectivitySeen, Seen::QaMessage), vec![Qa]);
        assert!(moved_by(hl7, ConnectivitySeen, Seen::Connection).is_empty());
        assert!(moved_by(hl7, Qa, Seen::QaMessage).is_empty());
        assert!(
            moved_by(hl7, DqaReview, Seen::QaMessage).is_empty(),
            "DPH reviews"
        );
        assert!(moved_by(hl7, Qa, Seen::LegacyImport).is_empty());
        assert_eq!(
            moved_by(hl7, Production, Seen::LegacyImport),
            vec![LegacyImported]
        );
        assert!(moved_by(hl7, LegacyImported, Seen::LegacyImport).is_empty());
        for seen in [Seen::Connection, Seen::QaMessage, Seen::LegacyImport] {
            assert!(moved_by(Method::UiDirectEntry, Applied, seen).is_empty());
        }
        let ui = Method::UiDirectEntry;
        assert_eq!(
            moved_by(ui, TrainingRegistered, Seen::StaffAdded),
            vec![StaffAdded]
        );
        assert!(
            moved_by(ui, Applied, Seen::StaffAdded).is_empty(),
            "training first"
        );
        assert!(
            moved_by(ui, StaffAdded, Seen::StaffAdded).is_empty(),
            "DPH turns it live"
        );
        assert!(moved_by(hl7, Qa, Seen::StaffAdded).is_empty());
    }

    #[test]
    fn stages_move_one_forward_and_review_may_send_back() {
        use Stage::*;
        let hl7 = Method::EhrHl7;
        for w in hl7.stages().windows(2) {
            assert!(check_move(hl7, w[0], w[1]).is_ok(), "{w:?}");
            assert!(check_move(hl7, w[1], w[0]).is_err() || (w[0] == Qa && w[1] == DqaReview));
        }
        assert!(check_move(hl7, DqaReview, Qa).is_ok());
        let e = check_move(hl7, Applied, Production)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SOAP connectivity seen"), "{e}");
        let e = check_move(hl7, LegacyImported, Production)
            .unwrap_err()
            .to_string();
        assert!(e.contains("complete"), "{e}");
        let e = check_move(Method::UiDirectEntry, Applied, Qa)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a stage") && e.contains("training"), "{e}");
        assert!(check_notes(DqaReview, Qa, " ").is_err());
        assert!(check_notes(DqaReview, Qa, "RXA-5 codes").is_ok());
        assert!(Production.stores_messages() && !DqaReview.stores_messages());
        assert!(Live.is_live() && !StaffAdded.is_live());
    }

    #[test]
    fn an_ehr_application_names_its_ehr_and_the_notice_is_bilingual() {
        let email = crate::ids::Email::new("it@clinic.example").unwrap();
        let e = Application::new(Method::EhrHl7, "", "", "Pat Lee", email.clone(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("vendor and product"), "{e}");
        assert!(Application::new(Method::UiDirectEntry, "", "", "Pat Lee", email, None).is_ok());
        let n = patient_notice("Elm St Pediatrics");
        assert!(n.contains("NOTICE TO PATIENTS") && n.contains("AVISO A LOS PACIENTES"));
        assert_eq!(n.matches("Elm St Pediatrics").count(), 2);
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.key()).unwrap(), s);
        }
    }
}
