//! Codec invariants: structured round trip, and no panic on any input.

use ctwiz_hl7::batch;
use ctwiz_hl7::er7::{self, FieldBuf, MessageBuf, SegmentBuf};
use ctwiz_hl7::escape::{escape, unescape};
use ctwiz_hl7::Delimiters;
use proptest::prelude::*;

/// Text that mixes plain characters with every delimiter, CR, LF and
/// pieces of escape sequences.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[A-Za-z0-9 .-]{1,4}",
            1 => prop::sample::select(vec!["|", "^", "~", "\\", "&", "\r", "\n", "\\F\\", "\\X41\\", "\\H\\", "é", "\"\""])
                .prop_map(str::to_string),
        ],
        0..5,
    )
    .prop_map(|parts| parts.concat())
}

fn field() -> impl Strategy<Value = FieldBuf> {
    let sub = prop::collection::vec(text(), 1..3);
    let comp = prop::collection::vec(sub, 1..4);
    prop::collection::vec(comp, 1..3).prop_map(FieldBuf::from_tree)
}

fn segment() -> impl Strategy<Value = SegmentBuf> {
    (
        prop::sample::select(vec!["PID", "ORC", "RXA", "OBX", "NK1", "ZXY", "Z01"]),
        prop::collection::vec(field(), 0..8),
    )
        .prop_map(|(id, fields)| {
            let mut s = SegmentBuf::new(id);
            for (i, f) in fields.into_iter().enumerate() {
                s.set_field(i + 1, f);
            }
            s
        })
}

fn delimiters() -> impl Strategy<Value = Delimiters> {
    prop_oneof![
        3 => Just(Delimiters::default()),
        1 => Just(Delimiters { field: '#', component: '!', repetition: '*', escape: '$', subcomponent: '%' }),
    ]
}

fn message() -> impl Strategy<Value = MessageBuf> {
    (
        delimiters(),
        prop::collection::vec(field(), 0..12),
        prop::collection::vec(segment(), 0..8),
    )
        .prop_map(|(d, msh_fields, segments)| {
            let mut m = MessageBuf::new(d);
            let msh = &mut m.segments_mut()[0];
            for (i, f) in msh_fields.into_iter().enumerate() {
                msh.set_field(i + 3, f);
            }
            for s in segments {
                m.push(s);
            }
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_encode_round_trip(m in message()) {
        let encoded = m.to_er7();
        let parsed = er7::parse(&encoded).map_err(|e| TestCaseError::fail(format!("{e}: {encoded:?}")))?;
        prop_assert_eq!(&parsed.to_buf(), &m);
        prop_assert_eq!(parsed.to_er7(), encoded);
    }

    #[test]
    fn escape_unescape_round_trip(s in "\\PC*", d in delimiters()) {
        let escaped = escape(&s, &d);
        prop_assert_eq!(unescape(&escaped, &d), s.as_str());
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "(MSH|FHS|BHS)?\\PC{0,200}") {
        let _ = er7::parse(&s);
        let _ = batch::parse(&s);
    }
}

/// A small, fast PRNG so the fuzz loop does not depend on proptest's
/// shrinking machinery (splitmix64).
pub struct SplitMix(u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Bytes biased towards HL7 structure: a header most of the time, then
/// lines that usually start with a segment ID and hold delimiters, escape
/// pieces and random bytes; now and then stray line breaks and envelopes.
fn random_input(rng: &mut SplitMix, buf: &mut Vec<u8>) {
    const PIECES: &[&[u8]] = &[
        b"|",
        b"^",
        b"~",
        b"\\",
        b"&",
        b"\\X",
        b"\\F\\",
        b"\\X0D\\",
        b"\"\"",
        b"A",
        b"1",
        b"\xc3\xa9",
        b"MSH",
    ];
    const RARE: &[&[u8]] = &[
        b"\r",
        b"\n",
        b"\r\n",
        b"MSH|^~\\&|",
        b"FHS|^~\\&|",
        b"BHS|^~\\&|",
        b"BTS|1",
        b"FTS|1",
    ];
    const IDS: &[&[u8]] = &[
        b"PID|",
        b"RXA|",
        b"OBX|",
        b"Z01|",
        b"MSH|^~\\&|",
        b"BTS|",
        b"pid|",
        b"PI",
    ];
    buf.clear();
    match rng.next_u64() % 8 {
        0 => {}
        1 => buf.extend_from_slice(b"MSH"),
        2 => buf.extend_from_slice(b"FHS|^~\\&|\rBHS|^~\\&|\r"),
        _ => buf.extend_from_slice(b"MSH|^~\\&|"),
    }
    let lines = rng.next_u64() % 6;
    for line in 0..lines {
        if line > 0 || rng.next_u64() & 1 == 0 {
            buf.extend_from_slice(
                [b"\r".as_slice(), b"\n", b"\r\n"][(rng.next_u64() % 3) as usize],
            );
            buf.extend_from_slice(IDS[(rng.next_u64() % 16) as usize % IDS.len()]);
        }
        for _ in 0..rng.next_u64() % 24 {
            let r = rng.next_u64();
            match r % 40 {
                0 => buf.push((r >> 8) as u8),
                1 => buf.extend_from_slice(RARE[(r >> 8) as usize % RARE.len()]),
                _ => buf.extend_from_slice(PIECES[(r >> 8) as usize % PIECES.len()]),
            }
        }
    }
}

fn fuzz(inputs: u64, seed: u64) -> (u64, u64) {
    let mut rng = SplitMix(seed);
    let mut buf = Vec::with_capacity(256);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..inputs {
        random_input(&mut rng, &mut buf);
        match er7::parse_bytes(&buf) {
            Ok(m) => {
                ok += 1;
                // Whatever parses must write back and re-parse identically.
                let again = m.to_er7();
                let reparsed = er7::parse(&again).expect("writer output parses");
                assert_eq!(reparsed.to_er7(), again);
                let _ = m.to_buf().to_er7();
            }
            Err(_) => err += 1,
        }
        if let Ok(s) = std::str::from_utf8(&buf) {
            let _ = batch::parse(s);
        }
        for m in batch::MessageReader::new(&buf[..]).flatten() {
            let _ = er7::parse(&m);
        }
    }
    (ok, err)
}

/// Always on: 250,000 seeded inputs through every parser (a few seconds
/// in a debug build).
#[test]
fn no_panic_on_random_inputs() {
    let (ok, err) = fuzz(250_000, 0x5eed);
    assert!(
        ok > 25_000 && err > 25_000,
        "generator should hit both paths: {ok} ok, {err} err"
    );
}

/// The full run, one million inputs:
/// `cargo test -p ctwiz-hl7 --release --test codec_props -- --ignored --nocapture`.
#[test]
#[ignore = "1,000,000 inputs; run explicitly (see doc comment)"]
fn no_panic_on_a_million_random_inputs() {
    let start = std::time::Instant::now();
    let (ok, err) = fuzz(1_000_000, 0xC7_812);
    eprintln!(
        "1,000,000 inputs: {ok} parsed, {err} rejected in {:?}",
        start.elapsed()
    );
    assert!(
        ok > 100_000 && err > 100_000,
        "generator should hit both paths: {ok} ok, {err} err"
    );
}
