//! `ctwiz match pairs`: for analysts cleaning a legacy extract before import. Reads the
//! CSV, calls the matching engine (`ctwiz_core::matching::batch`) and writes the pairs it
//! judges the same person. No database, no rules here.

use super::CliResult;
use ctwiz_core::matching::batch::{find_pairs, read_csv, CsvLayout};
use ctwiz_core::matching::{Blocking, Decision};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum MatchCommand {
    /// Find the pairs of records in a CSV file that are the same person; writes
    /// `a,b,score` (ids of the two records, match probability) with a header line.
    Pairs(PairsArgs),
}

#[derive(clap::Args, Debug)]
pub struct PairsArgs {
    /// CSV file with a header line, one person per row.
    pub file: PathBuf,
    /// The column naming each record in the output (never used for matching).
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// Which column holds which field, e.g. given=first_name,family=surname,dob=birth.
    /// Fields: given, middle, family, dob, sex, street, street2, number, city, zip,
    /// phone, ssn, mother_maiden. A field not mapped is read from a column of its name.
    #[arg(long, default_value = "")]
    pub map: String,
    /// strftime format of the birth-date column.
    #[arg(long, default_value = "%Y-%m-%d")]
    pub dob_format: String,
    /// Also write the pairs that only deserve a human look (review threshold).
    #[arg(long)]
    pub include_review: bool,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(c: MatchCommand) -> CliResult {
    match c {
        MatchCommand::Pairs(a) => pairs(a),
    }
}

fn pairs(a: PairsArgs) -> CliResult {
    let layout = CsvLayout {
        id_column: a.id_column,
        map: CsvLayout::parse_map(&a.map)?,
        dob_format: a.dob_format,
    };
    let file = std::fs::File::open(&a.file)
        .map_err(|e| format!("cannot read {}: {e}", a.file.display()))?;
    let set = read_csv(std::io::BufReader::new(file), &layout)?;
    let at_least = if a.include_review {
        Decision::Review
    } else {
        Decision::Link
    };
    let (_, found) = find_pairs(&set.records, Blocking::default(), at_least, 1);
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("cannot write {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut w = csv_line_writer(out.as_mut());
    w("a", "b", "score")?;
    for p in &found {
        w(
            &set.ids[p.a as usize],
            &set.ids[p.b as usize],
            &format!("{:.6}", p.score.probability),
        )?;
    }
    drop(w);
    out.flush()?;
    eprintln!(
        "{} records, {} pairs written",
        set.records.len(),
        found.len()
    );
    Ok(())
}

/// Writes one CSV line of three cells, quoting where needed.
fn csv_line_writer<'a>(
    out: &'a mut dyn Write,
) -> impl FnMut(&str, &str, &str) -> std::io::Result<()> + 'a {
    move |a, b, c| write_csv_row(out, &[a, b, c])
}

/// Writes one CSV line, quoting the cells that need it (RFC 4180).
pub fn write_csv_row(out: &mut dyn Write, cells: &[&str]) -> std::io::Result<()> {
    for (i, s) in cells.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if s.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", s.replace('"', "\"\""))?;
        } else {
            out.write_all(s.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}
