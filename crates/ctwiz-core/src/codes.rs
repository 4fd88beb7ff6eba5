//! Vaccine code sets (CVX, MVX) and their vaccine groups, vendored from CDC tables
//! (see `data/PROVENANCE.md`) and embedded in the binary.
//!
//! Parse once with [`CodeSets::embedded`] and pass the value around; there is no global.

use crate::error::{CoreError, Result};
use crate::ids::{Cvx, Mvx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const CVX_CSV: &str = include_str!("../data/cvx.csv");
const MVX_CSV: &str = include_str!("../data/mvx_hl70227.csv");
const CVX_ANTIGENS_CSV: &str = include_str!("../data/cvx_antigens_cdsi_4.64.csv");
const NDC_CSV: &str = include_str!("../data/ndc_cvx.csv");

/// One vaccine product code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaccineCode {
    pub cvx: Cvx,
    pub short_name: String,
    pub description: String,
    /// Active codes may be used for new administrations; others only for history.
    pub active: bool,
    /// CDSi antigens the vaccine protects against (empty for non-vaccines like 998).
    pub antigens: Vec<String>,
    /// CDSi vaccine groups (e.g. "DTaP/Tdap/Td", "MMR").
    pub vaccine_groups: Vec<String>,
    /// The CDC table's concept type: "vaccine" (a US product), "foreign vaccine",
    /// "unspecified" (formulation unknown: history only), "non vaccine", ...
    #[serde(default)]
    pub concept: String,
    /// The CDC table's "use not after" date: no new administrations after it.
    #[serde(default)]
    pub retired_after: Option<chrono::NaiveDate>,
}

impl VaccineCode {
    /// A US-licensed product a clinic may give on `today`: a vaccine concept (not
    /// foreign, unspecified or a non-vaccine), active, not past its "use not after" date,
    /// and protecting against some CDSi vaccine group.
    pub fn offered_on(&self, today: chrono::NaiveDate) -> bool {
        self.concept == "vaccine"
            && self.active
            && self.retired_after.is_none_or(|d| d >= today)
            && !self.vaccine_groups.is_empty()
    }
}

/// The vaccines a dose form offers, in the order a nurse looks for them: what the
/// Recommender says is due for this patient, what the clinic has in stock, then every
/// other US-licensed product. Foreign, unspecified and retired codes are not listed; they
/// are found by searching (`search`).
#[derive(Debug, Default)]
pub struct DoseChoices<'a> {
    pub due: Vec<&'a VaccineCode>,
    pub in_stock: Vec<&'a VaccineCode>,
    pub licensed: Vec<&'a VaccineCode>,
    pub search: Vec<&'a VaccineCode>,
}

/// One manufacturer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manufacturer {
    pub mvx: Mvx,
    pub name: String,
    pub active: bool,
}

/// The CVX and MVX tables, indexed by code.
#[derive(Debug, Clone)]
pub struct CodeSets {
    cvx: BTreeMap<Cvx, VaccineCode>,
    mvx: BTreeMap<Mvx, Manufacturer>,
    /// NDC digits (hyphens removed) → product.
    ndc: BTreeMap<String, NdcProduct>,
}

/// What an NDC (unit of sale or unit of use) stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NdcProduct {
    pub ndc: String,
    pub cvx: Cvx,
    pub mvx: Option<Mvx>,
    pub trade_name: String,
}

/// NDCs are written with and without hyphens; compare their digits.
fn ndc_key(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn csv_records(text: &str) -> Result<Vec<csv::StringRecord>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| CoreError::Rule(format!("code table is not valid CSV: {e}")))
}

fn is_active(status: &str) -> bool {
    matches!(status.trim(), "Valid" | "Active")
}

impl CodeSets {
    /// The tables shipped with ctwiz.
    pub fn embedded() -> Self {
        let mut c = Self::from_csv(CVX_CSV, MVX_CSV, CVX_ANTIGENS_CSV)
            .expect("embedded code tables are checked by the crate's tests");
        c.load_ndc_csv(NDC_CSV)
            .expect("embedded NDC table is checked by the crate's tests");
        c
    }

    /// Builds the tables from CSV texts in the vendored layout (for newer releases).
    pub fn from_csv(cvx_csv: &str, mvx_csv: &str, cvx_antigens_csv: &str) -> Result<Self> {
        let mut cvx = BTreeMap::new();
        for r in csv_records(cvx_csv)? {
            let Ok(code) = Cvx::new(r.get(0).unwrap_or("")) else {
                continue; // non-numeric placeholder rows in the source table
            };
            cvx.insert(
                code.clone(),
                VaccineCode {
                    cvx: code,
                    short_name: r.get(1).unwrap_or("").trim().to_string(),
                    description: r.get(2).unwrap_or("").trim().to_string(),
                    active: is_active(r.get(3).unwrap_or("")),
                    antigens: Vec::new(),
                    vaccine_groups: Vec::new(),
                    concept: r.get(11).unwrap_or("").trim().to_string(),
                    retired_after: chrono::NaiveDate::parse_from_str(
                        r.get(6).unwrap_or("").trim(),
                        "%Y%m%d",
                    )
                    .ok(),
                },
            );
        }
        for r in csv_records(cvx_antigens_csv)? {
            let code = Cvx::new(r.get(0).unwrap_or(""))?;
            let split = |i: usize| -> Vec<String> {
                r.get(i)
                    .unwrap_or("")
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let entry = cvx.entry(code.clone()).or_insert_with(|| VaccineCode {
                cvx: code,
                short_name: r.get(1).unwrap_or("").trim().to_string(),
                description: r.get(1).unwrap_or("").trim().to_string(),
                // Known to CDSi but newer than our CVX snapshot: assume current.
                active: true,
                antigens: Vec::new(),
                vaccine_groups: Vec::new(),
                concept: "vaccine".into(),
                retired_after: None,
            });
            entry.antigens = split(2);
            entry.vaccine_groups = split(3);
        }
        let mut mvx = BTreeMap::new();
        for r in csv_records(mvx_csv)? {
            let Ok(code) = Mvx::new(r.get(0).unwrap_or("")) else {
                continue;
            };
            mvx.insert(
                code.clone(),
                Manufacturer {
                    mvx: code,
                    name: r.get(1).unwrap_or("").trim().to_string(),
                    active: is_active(r.get(3).unwrap_or("")),
                },
            );
        }
        if cvx.is_empty() || mvx.is_empty() {
            return Err(CoreError::Rule("code tables are empty".into()));
        }
        Ok(CodeSets {
            cvx,
            mvx,
            ndc: BTreeMap::new(),
        })
    }

    /// Adds NDC → CVX/MVX links from CSV (`ndc,cvx,mvx,label,status`).
    pub fn load_ndc_csv(&mut self, text: &str) -> Result<()> {
        for r in csv_records(text)? {
            let ndc = r.get(0).unwrap_or("").trim();
            let Ok(cvx) = Cvx::new(r.get(1).unwrap_or("")) else {
                continue;
            };
            self.ndc.insert(
                ndc_key(ndc),
                NdcProduct {
                    ndc: ndc.to_string(),
                    cvx,
                    mvx: Mvx::new(r.get(2).unwrap_or("")).ok(),
                    trade_name: r.get(3).unwrap_or("").trim().to_string(),
                },
            );
        }
        Ok(())
    }

    /// The product an NDC (with or without hyphens) identifies.
    pub fn ndc(&self, ndc: &str) -> Option<&NdcProduct> {
        self.ndc.get(&ndc_key(ndc))
    }

    pub fn vaccine(&self, cvx: &Cvx) -> Option<&VaccineCode> {
        self.cvx.get(cvx)
    }

    /// The vaccine groups a dose of `cvx` is listed under on records and certificates (a
    /// combination vaccine under each of its groups; an unknown or group-less code under
    /// "Other").
    pub fn groups_listed(&self, cvx: &Cvx) -> Vec<String> {
        self.vaccine(cvx)
            .map(|v| v.vaccine_groups.clone())
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| vec!["Other".to_string()])
    }

    /// The name a dose of `cvx` is shown with: the CVX short name, or "CVX nn" if unknown.
    pub fn vaccine_label(&self, cvx: &Cvx) -> String {
        self.vaccine(cvx)
            .map(|v| v.short_name.clone())
            .unwrap_or_else(|| format!("CVX {cvx}"))
    }

    /// Looks a CVX up, with an error naming the code when it is unknown.
    pub fn require_vaccine(&self, cvx: &Cvx) -> Result<&VaccineCode> {
        self.vaccine(cvx).ok_or_else(|| CoreError::Unknown {
            field: "CVX",
            value: cvx.to_string(),
            valid: "a code from the CDC CVX table (see `ctwiz codes cvx`)".into(),
        })
    }

    pub fn manufacturer(&self, mvx: &Mvx) -> Option<&Manufacturer> {
        self.mvx.get(mvx)
    }

    /// The dose form's choices on `today` for a patient due for `due_groups` (CDSi
    /// vaccine group names) at a clinic holding `stock`, each part sorted by name.
    pub fn dose_choices(
        &self,
        due_groups: &[String],
        stock: &[Cvx],
        today: chrono::NaiveDate,
    ) -> DoseChoices<'_> {
        let mut c = DoseChoices::default();
        for v in self.cvx.values().filter(|v| !v.vaccine_groups.is_empty()) {
            let offered = v.offered_on(today);
            if offered && v.vaccine_groups.iter().any(|g| due_groups.contains(g)) {
                c.due.push(v);
            } else if stock.contains(&v.cvx) {
                c.in_stock.push(v);
            } else if offered {
                c.licensed.push(v);
            } else {
                c.search.push(v);
            }
        }
        for part in [&mut c.due, &mut c.in_stock, &mut c.licensed, &mut c.search] {
            part.sort_by_key(|v| v.short_name.to_lowercase());
        }
        c
    }

    pub fn vaccines(&self) -> impl Iterator<Item = &VaccineCode> {
        self.cvx.values()
    }

    pub fn manufacturers(&self) -> impl Iterator<Item = &Manufacturer> {
        self.mvx.values()
    }

    /// All CDSi vaccine groups that some CVX belongs to, sorted.
    pub fn vaccine_groups(&self) -> Vec<&str> {
        let mut g: Vec<&str> = self
            .cvx
            .values()
            .flat_map(|v| v.vaccine_groups.iter().map(String::as_str))
            .collect();
        g.sort_unstable();
        g.dedup();
        g
    }
}

#[cfg(test)]
mod tests {

    /// The dose form lists what is due first, then stock, then US products; retired,
    /// unspecified and foreign codes only by search.
    #[test]
    fn dose_choices_put_due_then_stock_then_licensed() {
        let c = CodeSets::embedded();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let dtp = Cvx::new("01").unwrap();
        let choices = c.dose_choices(
            &["MMR".to_string()],
            &[Cvx::new("20").unwrap(), dtp.clone()],
            today,
        );
        let codes =
            |part: &[&VaccineCode]| part.iter().map(|v| v.cvx.to_string()).collect::<Vec<_>>();
        assert_eq!(codes(&choices.due), ["03", "94"], "MMR and MMRV");
        assert!(codes(&choices.in_stock).contains(&"20".to_string()));
        // A retired code in stock (a data error) is still listed with the stock.
        assert!(codes(&choices.in_stock).contains(&"01".to_string()));
        assert!(codes(&choices.licensed).contains(&"08".to_string()));
        assert!(!codes(&choices.licensed).contains(&"20".to_string()));
        for only_by_search in ["45", "107", "502"] {
            let v = c.vaccine(&Cvx::new(only_by_search).unwrap()).unwrap();
            assert!(!v.offered_on(today), "{only_by_search}");
            if !v.vaccine_groups.is_empty() {
                assert!(codes(&choices.search).contains(&only_by_search.to_string()));
            }
        }
        assert!(
            !c.vaccine(&dtp).unwrap().offered_on(today),
            "DTP retired in 1997"
        );
        let total = choices.due.len()
            + choices.in_stock.len()
            + choices.licensed.len()
            + choices.search.len();
        assert_eq!(
            total,
            c.vaccines()
                .filter(|v| !v.vaccine_groups.is_empty())
                .count()
        );
    }

    use super::*;

    #[test]
    fn embedded_tables_load_with_groups() {
        let c = CodeSets::embedded();
        let dtap = c.vaccine(&Cvx::new("20").unwrap()).unwrap();
        assert!(dtap.short_name.contains("DTaP"), "{dtap:?}");
        assert_eq!(dtap.vaccine_groups, vec!["DTaP/Tdap/Td"]);
        assert_eq!(dtap.antigens, vec!["Diphtheria", "Tetanus", "Pertussis"]);
        let mmrv = c.vaccine(&Cvx::new("94").unwrap()).unwrap();
        assert!(mmrv.vaccine_groups.contains(&"Varicella".to_string()));
        assert!(c.manufacturer(&Mvx::new("MSD").unwrap()).is_some());
        assert!(c.vaccine_groups().contains(&"Polio"));
        assert!(c.require_vaccine(&Cvx::new("1").unwrap()).is_ok());
    }

    #[test]
    fn ndc_maps_to_cvx_with_or_without_hyphens() {
        let c = CodeSets::embedded();
        let p = c.ndc("00005-0100-01").unwrap();
        assert_eq!(p.cvx.as_str(), "162");
        assert_eq!(c.ndc("00005010001").unwrap().trade_name, "Trumenba");
        assert!(c.ndc("12345").is_none());
    }

    #[test]
    fn unknown_cvx_error_names_the_code() {
        let c = CodeSets::embedded();
        let e = c
            .require_vaccine(&Cvx::new("777").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("777"), "{e}");
    }
}
