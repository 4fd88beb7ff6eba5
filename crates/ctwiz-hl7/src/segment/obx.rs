//! OBX, observation (CDC IG R1.5 §6.19). In VXU/RSP the observation
//! identifier (OBX-3, LOINC) says what the value is: 64994-7 VFC
//! eligibility, 30963-3 funding source, 69764-9/29768-9/29769-7 VIS,
//! 59784-9 disease with presumed immunity, 30945-0 contraindication, and
//! in Z42 the evaluation/forecast observations (30956-7, 59779-9, 59781-5,
//! 30980-7, 30981-5, ...).

use crate::datatype::Cwe;
use crate::er7::{FieldBuf, Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Obx {
    pub set_id: String,
    /// OBX-2: CE, CWE, DT, TS, ST, NM, ID.
    pub value_type: String,
    pub observation: Cwe,
    /// OBX-4: groups the OBX that belong together (e.g. one VIS).
    pub sub_id: String,
    /// OBX-5 components, unescaped (a CE value has code, text, system, ...).
    pub value: Vec<String>,
    pub result_status: String,
    pub observation_date: String,
    /// OBX-17: observation method (e.g. VXC40 "per immunization").
    pub method: Cwe,
}

impl Obx {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Obx {
            set_id: s.text(1).into_owned(),
            value_type: s.text(2).into_owned(),
            observation: Cwe::from_field(s.field(3)),
            sub_id: s.text(4).into_owned(),
            value: s
                .field(5)
                .repetition(1)
                .components()
                .map(|c| c.text().into_owned())
                .collect(),
            result_status: s.text(11).into_owned(),
            observation_date: s.text(14).into_owned(),
            method: Cwe::from_field(s.field(17)),
        }
    }

    /// A coded observation (value type CE).
    pub fn coded(set_id: usize, observation: Cwe, sub_id: &str, value: Cwe) -> Self {
        Obx {
            set_id: set_id.to_string(),
            value_type: "CE".into(),
            observation,
            sub_id: sub_id.into(),
            value: vec![
                value.code,
                value.text,
                value.system,
                value.alt_code,
                value.alt_text,
                value.alt_system,
            ],
            result_status: "F".into(),
            ..Obx::default()
        }
    }

    /// A primitive observation (DT, TS, ST, NM, ID).
    pub fn simple(
        set_id: usize,
        value_type: &str,
        observation: Cwe,
        sub_id: &str,
        value: &str,
    ) -> Self {
        Obx {
            set_id: set_id.to_string(),
            value_type: value_type.into(),
            observation,
            sub_id: sub_id.into(),
            value: vec![value.to_string()],
            result_status: "F".into(),
            ..Obx::default()
        }
    }

    /// LOINC (or other) code in OBX-3.
    pub fn code(&self) -> &str {
        &self.observation.code
    }

    /// OBX-5.1: the code of a coded value, or a primitive value.
    pub fn value_text(&self) -> &str {
        self.value.first().map(String::as_str).unwrap_or("")
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("OBX");
        s.set(1, &self.set_id).set(2, &self.value_type);
        s.set_field(3, self.observation.to_field());
        s.set(4, &self.sub_id);
        s.set_field(5, FieldBuf::components(&self.value));
        s.set(11, &self.result_status)
            .set(14, &self.observation_date);
        if !self.method.is_empty() {
            s.set_field(17, self.method.to_field());
        }
        s
    }
}
