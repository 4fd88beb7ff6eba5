//! The batch door on arbitrary bytes: framing never panics, the import never
//! stops on content, and every message chunk (a line starting with MSH, or
//! lines before any MSH) gets exactly one answer and one message-log row.

use std::collections::HashSet;

use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Email, Username};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_hl7::batch::RawMessageReader;
use ctwiz_hl7::import::{self, AckSink, Input, Options};
use ctwiz_hl7::interface::{self, Context};
use ctwiz_store::interface::{AckResult, InterfaceStore};
use ctwiz_store::{OrgStore, SqliteStore};
use proptest::prelude::*;

/// ACKs kept in memory.
#[derive(Default)]
struct Acks(Vec<String>);

impl AckSink for Acks {
    fn append(&mut self, acks: &[&str]) -> std::io::Result<()> {
        self.0.extend(acks.iter().map(|a| a.to_string()));
        Ok(())
    }

    fn written(&mut self) -> std::io::Result<HashSet<String>> {
        Ok(HashSet::new())
    }
}

/// How many chunks the framing should find: every line starting with MSH, and
/// each run of other lines not inside a message (at the start, after an
/// envelope segment). Lines end at CR or LF; empty lines do not count; a
/// leading byte order mark is dropped.
fn expected_chunks(bytes: &[u8]) -> usize {
    let (mut n, mut in_message, mut first) = (0, false, true);
    for line in bytes.split(|&b| b == b'\r' || b == b'\n') {
        let line = match line.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) if first => rest,
            _ => line,
        };
        if line.is_empty() {
            continue;
        }
        first = false;
        match line.get(..3).unwrap_or(b"") {
            b"FHS" | b"BHS" | b"BTS" | b"FTS" => in_message = false,
            b"MSH" => {
                n += 1;
                in_message = true;
            }
            _ if !in_message => {
                n += 1;
                in_message = true;
            }
            _ => {}
        }
    }
    n
}

fn now() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid date")
}

fn operator() -> Actor {
    let mut u = User::new(
        Username::new("operator").expect("name"),
        "Operator",
        Email::new("op@example.org").expect("email"),
    )
    .expect("user");
    u.grant(Grant::new(Role::StateAdmin, Scope::State).expect("grant"));
    Actor::new(u, Acting::State, Channel::Batch)
}

/// Pieces that make line starts, envelopes, valid messages and bad bytes likely.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            &b"MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|M1|P|2.5.1"[..],
            b"MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301||QBP^Q11^QBP_Q11|Q1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS",
            b"MSH|",
            b"MSH",
            b"PID|1||MRN1^^^C1^MR||Doe^Ann||20250101|F",
            b"ORC|RE||D1^C1",
            b"RXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001",
            b"FHS|^~\\&",
            b"BHS|^~\\&",
            b"BTS|1",
            b"FTS|1",
            b"\r",
            b"\n",
            b"\r\n",
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\xC3",
            b"\xE2\x82",
            "é".as_bytes(),
        ])
        .prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(piece(), 0..40).prop_map(|p| p.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..400),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_chunk_gets_one_answer(bytes in input(), batch_size in 1usize..5, limit in 0usize..120) {
        let chunks = RawMessageReader::new(&bytes[..])
            .collect::<Result<Vec<_>, _>>()
            .expect("reading memory does not fail");
        prop_assert_eq!(chunks.len(), expected_chunks(&bytes));
        for c in &chunks {
            let starts = c.bytes.starts_with(b"MSH");
            let lines = c.bytes.split(|&b| b == b'\r').filter(|l| l.starts_with(b"MSH")).count();
            prop_assert!(lines <= 1, "one MSH per chunk");
            prop_assert!(lines == 0 || starts, "an MSH line starts its chunk");
        }

        let store = SqliteStore::open_in_memory().expect("store");
        let pin = ClinicPin::new("C1").expect("pin");
        store
            .add_clinic(&Clinic::new(pin, "One", County::Hartford, ProgramType::Cvp).expect("clinic"))
            .expect("add clinic");
        let codes = CodeSets::embedded();
        let actor = operator();
        let opts = Options { codes: &codes, actor: &actor, batch_size };
        let mut acks = Acks::default();
        let input = Input {
            identity: import::identify(&bytes[..]).expect("identify"),
            name: "props".into(),
            reader: &bytes[..],
        };
        let report = import::import_file(&store, &opts, input, Some(&mut acks), &mut |_| {})
            .expect("content never stops an import");
        prop_assert_eq!(report.tally.messages as usize, chunks.len());
        prop_assert_eq!(acks.0.len(), chunks.len());
        for a in &acks.0 {
            prop_assert!(a.starts_with("MSH|") && a.contains("\rMSA|"), "{}", a);
        }
        prop_assert_eq!(store.message_log(None, u32::MAX).expect("log").len(), chunks.len());

        // With a small limit the framing is the same; a message over it is answered AR.
        let small = RawMessageReader::new(&bytes[..])
            .with_limit(limit)
            .collect::<Result<Vec<_>, _>>()
            .expect("reading memory does not fail");
        prop_assert_eq!(small.len(), chunks.len());
        let ctx = Context::new(&codes, &actor, now(), "R1");
        for (whole, cut) in chunks.iter().zip(&small) {
            prop_assert_eq!(whole.len, cut.len);
            prop_assert!(cut.bytes.len() <= limit.max(16));
            prop_assert!(whole.bytes.starts_with(&cut.bytes));
            let o = interface::process_prepared(&store, &ctx, interface::prepare_raw(&codes, now(), cut));
            if !cut.is_whole() {
                prop_assert_eq!(o.result, AckResult::Rejected);
            }
        }
    }
}
