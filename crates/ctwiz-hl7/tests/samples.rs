//! Every sample in shared/hl7/samples: parses (as a batch file, since some
//! are FHS/BHS-wrapped), and writes back byte for byte modulo segment
//! terminators (the writer always ends segments with CR).

use std::fs;
use std::path::{Path, PathBuf};

use ctwiz_hl7::batch;

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hl7/samples")
}

fn hl7_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            hl7_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "hl7") {
            out.push(p);
        }
    }
}

pub fn all_samples() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    hl7_files(&samples_dir(), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

fn normalized(text: &str) -> String {
    let lines: Vec<&str> = text.split(['\r', '\n']).filter(|l| !l.is_empty()).collect();
    lines.join("\r") + "\r"
}

#[test]
fn every_sample_parses_and_round_trips() {
    let samples = all_samples();
    if samples.is_empty() {
        eprintln!("shared/hl7/samples not found; skipping");
        return;
    }
    assert_eq!(samples.len(), 150, "sample count changed");
    let mut messages = 0;
    for (path, text) in &samples {
        // The malformed samples are syntactically valid ER7: what is wrong
        // with them (missing RXA, missing QPD, a space in MSH-7, ...) is
        // reported by the typed layer, see tests/typed.rs.
        let file = batch::parse(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut written = String::new();
        for seg in [&file.header].into_iter().flatten() {
            written.push_str(&seg.to_er7());
            written.push('\r');
        }
        for b in &file.batches {
            if let Some(h) = &b.header {
                written.push_str(&h.to_er7());
                written.push('\r');
            }
            for m in &b.messages {
                messages += 1;
                written.push_str(&m.to_er7());
                // The owned, unescaped copy re-escapes to the same text.
                assert_eq!(m.to_buf().to_er7(), m.to_er7(), "{}", path.display());
            }
            if let Some(t) = &b.trailer {
                written.push_str(&t.to_er7());
                written.push('\r');
            }
        }
        for seg in [&file.trailer].into_iter().flatten() {
            written.push_str(&seg.to_er7());
            written.push('\r');
        }
        assert_eq!(written, normalized(text), "{}", path.display());
        // A single-message file also parses with er7::parse.
        if file.header.is_none()
            && file.batches.iter().all(|b| b.header.is_none())
            && file.messages().count() == 1
        {
            ctwiz_hl7::er7::parse(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    assert!(messages >= 150, "{messages}");
}

#[test]
fn batch_sample_counts_match() {
    let path = samples_dir()
        .join("batch/smm_tester/TestTransformer_TEST_NMSIIS_PROBLEM_1_RESULT_batch.hl7");
    let Ok(text) = fs::read_to_string(&path) else {
        return;
    };
    let file = batch::parse(&text).expect("batch parses");
    assert!(file.header.is_some() && file.trailer.is_some());
    assert_eq!(file.batches.len(), 1);
    assert_eq!(file.batches[0].messages.len(), 1);
    assert!(file.batches[0].count_matches());
    let streamed: Vec<String> = batch::MessageReader::new(text.as_bytes())
        .collect::<Result<_, _>>()
        .expect("readable");
    assert_eq!(streamed.len(), 1);
}
