//! VXU^V04 messages for synthetic children (`ctwiz_core::synth`): load
//! tests, benchmarks and demos of the interface. Each child becomes one VXU
//! from its home clinic (the clinic of its first MRN), one order group per dose.

use chrono::NaiveDateTime;
use ctwiz_core::dose::Dose;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::patient::Patient;

use crate::datatype::{format_date, yes_no_code};
use crate::er7::{MessageBuf, SegmentBuf};
use crate::escape::Delimiters;

/// The VXU a clinic's EHR would send for this patient and doses; MRN and
/// facility come from the patient's first MRN (else `fallback`).
pub fn vxu_for(
    patient: &Patient,
    doses: &[Dose],
    fallback: &ClinicPin,
    control_id: &str,
    sent_at: NaiveDateTime,
) -> MessageBuf {
    let d = Delimiters::default();
    let (pin, mrn) = patient
        .mrns
        .first()
        .map(|m| (m.clinic.clone(), m.value.clone()))
        .unwrap_or_else(|| (fallback.clone(), format!("SYN{control_id}")));
    let mut m = MessageBuf::from_segments(d, Vec::new());
    m.push(
        MessageBuf::header("MSH", d)
            .with(3, "SYNTH-EHR")
            .with(4, pin.as_str())
            .with(5, "CTWIZ")
            .with(6, "CTDPH")
            .with(7, &sent_at.format("%Y%m%d%H%M%S").to_string())
            .with_components(9, &["VXU", "V04", "VXU_V04"])
            .with(10, control_id)
            .with(11, "P")
            .with(12, "2.5.1")
            .with(15, "ER")
            .with(16, "AL")
            .with_components(21, &["Z22", "CDCPHINVS"]),
    );
    let n = &patient.name;
    let mut pid = SegmentBuf::new("PID")
        .with(1, "1")
        .with_components(3, &[mrn.as_str(), "", "", pin.as_str(), "MR"])
        .with_components(
            5,
            &[
                n.family.as_str(),
                n.given.as_str(),
                n.middle.as_deref().unwrap_or(""),
                "",
                "",
                "",
                "L",
            ],
        )
        .with(7, &format_date(patient.dob))
        .with(8, patient.sex.code());
    // PID-24/25 as the CDC IG R1.5 has them: the order only beside Y.
    if let Some(multiple) = patient.reported_multiple_birth() {
        pid = pid.with(24, yes_no_code(Some(multiple)));
        if let Some(order) = patient.birth_order {
            pid = pid.with(25, &order.to_string());
        }
    }
    if let Some(a) = patient.addresses.first() {
        pid = pid.with_components(
            11,
            &[
                a.street.as_str(),
                "",
                a.city.as_str(),
                a.state.as_str(),
                a.zip.as_str(),
                "USA",
                "L",
            ],
        );
    }
    m.push(pid);
    for (i, dose) in doses.iter().enumerate() {
        let sender = dose
            .sender_id
            .clone()
            .unwrap_or_else(|| format!("{control_id}.{}", i + 1));
        m.push(
            SegmentBuf::new("ORC")
                .with(1, "RE")
                .with_components(3, &[sender.as_str(), pin.as_str()]),
        );
        let mut rxa = SegmentBuf::new("RXA")
            .with(1, "0")
            .with(2, "1")
            .with(3, &format_date(dose.date))
            .with_components(5, &[dose.cvx.as_str(), "", "CVX"])
            .with(6, "999")
            .with_components(9, &[dose.source.code(), "", "NIP001"])
            .with(20, dose.completion.code())
            .with(21, "A");
        if let Some(lot) = &dose.lot {
            rxa = rxa.with(15, lot.as_str());
        }
        if let Some(mvx) = &dose.mvx {
            rxa = rxa.with_components(17, &[mvx.as_str(), "", "MVX"]);
        }
        m.push(rxa);
    }
    m
}
