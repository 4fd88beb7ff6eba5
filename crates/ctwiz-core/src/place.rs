//! Where people and clinics are: Connecticut's towns, each with its county, the local
//! health department or district that serves it and its Immunization Action Plan (IAP)
//! area, and how an address resolves to a town.
//!
//! Connecticut has no county government: public health is local, by town, and the 169
//! towns are served by municipal health departments and multi-town health districts.
//! So a health department's jurisdiction is a set of towns, and reports group children
//! by town, health department, IAP area or county. The table is data ([`Places`]):
//! ctwiz embeds one built from public sources (`data/ct-towns.csv`, provenance in
//! `data/TOWNS-PROVENANCE.md`), and the state replaces it with `ctwiz jurisdictions import`.

use crate::error::{CoreError, Result};
use crate::org::County;
use crate::patient::{Address, Patient};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The embedded table (see `data/TOWNS-PROVENANCE.md`).
pub const BUNDLED_CSV: &str = include_str!("../data/ct-towns.csv");

/// The header a towns CSV must start with (import and export use the same columns).
pub const CSV_HEADER: &str = "town,county,health_department,iap_area,zip_codes,other_names";

/// One town.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Town {
    pub name: String,
    pub county: County,
    /// The local health department or district serving the town.
    pub health_department: String,
    /// The IAP area doing outreach in the town, if any.
    pub iap_area: Option<String>,
    /// ZIP codes whose post office is in the town.
    pub zip_codes: Vec<String>,
    /// Villages, boroughs and post-office names people write as their city.
    pub other_names: Vec<String>,
}

/// A health-department jurisdiction, as a grant or a report filter names it: a county
/// (ctwiz's unit before towns were loaded; grants made then keep working) or a local
/// health department or district by its name in the towns table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Jurisdiction {
    County(County),
    HealthDepartment(String),
    /// An Immunization Action Plan area (its towns): an IAP coordinator's scope.
    IapArea(String),
}

impl Jurisdiction {
    /// Whether a place lies inside the jurisdiction.
    pub fn contains(&self, at: Location<'_>) -> bool {
        match self {
            Jurisdiction::County(c) => at.county == Some(*c),
            Jurisdiction::HealthDepartment(h) => at.health_department == Some(h.as_str()),
            Jurisdiction::IapArea(a) => at.iap_area == Some(a.as_str()),
        }
    }

    /// Its bare name ("Hartford", "Ledge Light Health District"): what forms send back and
    /// recall notices record, and what [`Places::jurisdiction`] reads.
    pub fn name(&self) -> &str {
        match self {
            Jurisdiction::County(c) => c.name(),
            Jurisdiction::HealthDepartment(h) | Jurisdiction::IapArea(h) => h,
        }
    }

    /// Its name on pages and in the CLI ("Hartford County", "Ledge Light Health District").
    pub fn label(&self) -> String {
        match self {
            Jurisdiction::County(c) => format!("{c} County"),
            _ => self.name().to_string(),
        }
    }

    /// How it is stored in a grant: `county:Hartford`, `hd:<name>` or `iap:<name>`.
    pub fn key(&self) -> String {
        match self {
            Jurisdiction::County(c) => format!("county:{}", c.name()),
            Jurisdiction::HealthDepartment(h) => format!("hd:{h}"),
            Jurisdiction::IapArea(a) => format!("iap:{a}"),
        }
    }

    /// Reads [`Jurisdiction::key`] back; a bare county name (grants stored before towns
    /// existed) is a county.
    pub fn from_key(s: &str) -> Result<Jurisdiction> {
        if let Some(a) = s.strip_prefix("iap:") {
            let a = a.trim();
            if a.is_empty() {
                return Err(CoreError::Empty { field: "IAP area" });
            }
            return Ok(Jurisdiction::IapArea(a.to_string()));
        }
        if let Some(h) = s.strip_prefix("hd:") {
            let h = h.trim();
            if h.is_empty() {
                return Err(CoreError::Empty {
                    field: "health department",
                });
            }
            return Ok(Jurisdiction::HealthDepartment(h.to_string()));
        }
        Ok(Jurisdiction::County(County::parse(
            s.strip_prefix("county:").unwrap_or(s),
        )?))
    }
}

impl std::fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// Where a patient or clinic is, as far as jurisdictions go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location<'a> {
    pub county: Option<County>,
    pub town: Option<&'a str>,
    pub health_department: Option<&'a str>,
    pub iap_area: Option<&'a str>,
}

impl Location<'_> {
    /// In a county, town unknown.
    pub fn in_county(c: County) -> Location<'static> {
        Location {
            county: Some(c),
            ..Location::default()
        }
    }

    pub fn to_locality(&self) -> Locality {
        Locality {
            county: self.county,
            town: self.town.map(str::to_string),
            health_department: self.health_department.map(str::to_string),
            iap_area: self.iap_area.map(str::to_string),
        }
    }
}

/// An owned [`Location`], for values that outlive the towns table they came from (the
/// clinic an actor acts for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Locality {
    pub county: Option<County>,
    pub town: Option<String>,
    pub health_department: Option<String>,
    pub iap_area: Option<String>,
}

impl Locality {
    pub fn location(&self) -> Location<'_> {
        Location {
            county: self.county,
            town: self.town.as_deref(),
            health_department: self.health_department.as_deref(),
            iap_area: self.iap_area.as_deref(),
        }
    }

    /// In a county, town unknown.
    pub fn county(c: County) -> Locality {
        Locality {
            county: Some(c),
            ..Locality::default()
        }
    }
}

/// How a report groups children or practices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GroupBy {
    Clinic,
    Town,
    HealthDepartment,
    Iap,
    County,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Clinic,
        GroupBy::Town,
        GroupBy::HealthDepartment,
        GroupBy::Iap,
        GroupBy::County,
    ];

    /// The word the CLI's `--by` and the web's filter take.
    pub fn key(self) -> &'static str {
        match self {
            GroupBy::Clinic => "clinic",
            GroupBy::Town => "town",
            GroupBy::HealthDepartment => "health-district",
            GroupBy::Iap => "iap",
            GroupBy::County => "county",
        }
    }

    pub fn heading(self) -> &'static str {
        match self {
            GroupBy::Clinic => "Clinic",
            GroupBy::Town => "Town",
            GroupBy::HealthDepartment => "Health department or district",
            GroupBy::Iap => "IAP area",
            GroupBy::County => "County",
        }
    }

    pub fn parse(s: &str) -> Result<GroupBy> {
        let s = s.trim().to_ascii_lowercase();
        GroupBy::ALL
            .into_iter()
            .find(|g| g.key() == s || (s == "health-department" && *g == GroupBy::HealthDepartment))
            .ok_or_else(|| CoreError::Unknown {
                field: "group by",
                value: s.clone(),
                valid: GroupBy::ALL.map(|g| g.key()).join(", "),
            })
    }

    /// The group a place falls in ("unknown" when its address did not resolve).
    pub fn group_of(self, at: Location<'_>, clinic: Option<&str>) -> String {
        let name = match self {
            GroupBy::Clinic => clinic.map(str::to_string),
            GroupBy::Town => at.town.map(str::to_string),
            GroupBy::HealthDepartment => at.health_department.map(str::to_string),
            GroupBy::Iap => at.iap_area.map(str::to_string),
            GroupBy::County => at.county.map(|c| c.name().to_string()),
        };
        name.unwrap_or_else(|| "unknown".into())
    }
}

/// The towns table with its look-ups.
#[derive(Debug, Clone)]
pub struct Places {
    towns: Vec<Town>,
    by_name: HashMap<String, usize>,
    by_zip: HashMap<String, usize>,
}

/// A place name as compared: lower case, letters and digits only ("East  Haddam" and
/// "east-haddam" are one name), without a trailing state ("Storrs, CT").
fn normal(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_suffix(", CT")
        .or_else(|| s.strip_suffix(" CT"))
        .unwrap_or(s);
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Places {
    /// The embedded table.
    pub fn bundled() -> Places {
        Places::from_csv(BUNDLED_CSV).expect("the embedded towns table is valid")
    }

    /// Builds the table from towns, refusing what would make a look-up ambiguous: a town
    /// or other name twice, a ZIP under two towns, a town without a health department.
    pub fn new(towns: Vec<Town>) -> Result<Places> {
        if towns.is_empty() {
            return Err(CoreError::Empty { field: "towns" });
        }
        let mut by_name = HashMap::new();
        let mut by_zip = HashMap::new();
        for (i, t) in towns.iter().enumerate() {
            if t.health_department.trim().is_empty() {
                return Err(CoreError::Rule(format!(
                    "town {}: no health department",
                    t.name
                )));
            }
            for n in std::iter::once(&t.name).chain(&t.other_names) {
                let k = normal(n);
                if k.is_empty() {
                    return Err(CoreError::Rule(format!("town {}: an empty name", t.name)));
                }
                if let Some(j) = by_name.insert(k, i) {
                    return Err(CoreError::Rule(format!(
                        "the name {n:?} belongs to both {} and {}",
                        towns[j].name, t.name
                    )));
                }
            }
            for z in &t.zip_codes {
                if z.len() != 5 || !z.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CoreError::Rule(format!(
                        "town {}: ZIP code {z:?} is not five digits",
                        t.name
                    )));
                }
                if let Some(j) = by_zip.insert(z.clone(), i) {
                    return Err(CoreError::Rule(format!(
                        "ZIP {z} is listed under both {} and {}",
                        towns[j].name, t.name
                    )));
                }
            }
        }
        Ok(Places {
            towns,
            by_name,
            by_zip,
        })
    }

    /// Reads a towns CSV ([`CSV_HEADER`]; ZIPs separated by spaces, other names by `;`).
    /// Errors name the line.
    pub fn from_csv(text: &str) -> Result<Places> {
        let mut rows = Vec::new();
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for (i, r) in rd.records().enumerate() {
            let r = r.map_err(|e| CoreError::Rule(format!("towns CSV line {}: {e}", i + 1)))?;
            rows.push(r.iter().map(str::to_string).collect::<Vec<String>>());
        }
        if rows.is_empty() {
            return Err(CoreError::Empty { field: "towns CSV" });
        }
        let header: Vec<String> = rows
            .remove(0)
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.join(",") != CSV_HEADER {
            return Err(CoreError::Rule(format!(
                "towns CSV header is {:?}; expected {CSV_HEADER}",
                header.join(",")
            )));
        }
        let mut towns = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let line = i + 2;
            if r.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if r.len() != 6 {
                return Err(CoreError::Rule(format!(
                    "line {line}: 6 columns expected, found {}",
                    r.len()
                )));
            }
            let at = |e: CoreError| CoreError::Rule(format!("line {line}: {e}"));
            let name = crate::ids::name_text("town", &r[0], 80).map_err(at)?;
            let county = County::parse(r[1].trim().trim_end_matches(" County")).map_err(at)?;
            let words = |s: &str, sep: char| -> Vec<String> {
                s.split(sep)
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            towns.push(Town {
                name,
                county,
                health_department: r[2].trim().to_string(),
                iap_area: Some(r[3].trim().to_string()).filter(|s| !s.is_empty()),
                zip_codes: words(&r[4], ' '),
                other_names: words(&r[5], ';'),
            });
        }
        Places::new(towns).map_err(|e| match e {
            CoreError::Rule(m) => CoreError::Rule(format!("towns CSV: {m}")),
            e => e,
        })
    }

    /// The table as CSV, in the form [`Places::from_csv`] reads.
    pub fn to_csv(&self) -> String {
        let header: Vec<&str> = CSV_HEADER.split(',').collect();
        crate::export::csv::to_csv(
            &header,
            self.towns.iter().map(|t| {
                [
                    t.name.clone(),
                    t.county.name().to_string(),
                    t.health_department.clone(),
                    t.iap_area.clone().unwrap_or_default(),
                    t.zip_codes.join(" "),
                    t.other_names.join(";"),
                ]
            }),
        )
    }

    pub fn towns(&self) -> &[Town] {
        &self.towns
    }

    /// A town by its name or one of its other names (any case or spacing).
    pub fn town(&self, name: &str) -> Option<&Town> {
        self.by_name.get(&normal(name)).map(|&i| &self.towns[i])
    }

    /// The town an address is in: by its city (a town or another name of one), else by
    /// its ZIP, unless the sender gave a county the ZIP's town is not in (a ZIP is only a
    /// guess; the stated county is not). Addresses outside Connecticut resolve to none.
    pub fn resolve(&self, a: &Address) -> Option<&Town> {
        if !a.state.is_empty() && a.state != "CT" {
            return None;
        }
        self.town(&a.city).or_else(|| {
            let zip5 = a.zip.as_str().get(..5)?;
            self.by_zip
                .get(zip5)
                .map(|&i| &self.towns[i])
                .filter(|t| a.county.is_none_or(|c| c == t.county))
        })
    }

    /// Where a patient lives: the first address that resolves to a town; else the county
    /// the sender gave (HL7 XAD-9) with no town.
    pub fn locate<'a>(&'a self, p: &Patient) -> Location<'a> {
        match p.addresses.iter().find_map(|a| self.resolve(a)) {
            Some(t) => self.location(t),
            None => Location {
                county: p.county(),
                ..Location::default()
            },
        }
    }

    /// Where an address is (a clinic's), falling back to `county`.
    pub fn locate_address<'a>(&'a self, a: Option<&Address>, county: County) -> Location<'a> {
        match a.and_then(|a| self.resolve(a)) {
            Some(t) => self.location(t),
            None => Location {
                county: Some(county),
                ..Location::default()
            },
        }
    }

    pub fn location<'a>(&'a self, t: &'a Town) -> Location<'a> {
        Location {
            county: Some(t.county),
            town: Some(&t.name),
            health_department: Some(&t.health_department),
            iap_area: t.iap_area.as_deref(),
        }
    }

    /// The health departments and districts, sorted by name.
    pub fn health_departments(&self) -> Vec<&str> {
        self.distinct(|t| Some(&t.health_department))
    }

    /// The IAP areas, sorted by name.
    pub fn iap_areas(&self) -> Vec<&str> {
        self.distinct(|t| t.iap_area.as_ref())
    }

    fn distinct<'a>(&'a self, f: impl Fn(&'a Town) -> Option<&'a String>) -> Vec<&'a str> {
        let set: BTreeSet<&str> = self
            .towns
            .iter()
            .filter_map(f)
            .map(String::as_str)
            .collect();
        set.into_iter().collect()
    }

    /// The towns a jurisdiction covers, sorted.
    pub fn towns_of(&self, j: &Jurisdiction) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .towns
            .iter()
            .filter(|t| j.contains(self.location(t)))
            .map(|t| t.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// Reads a jurisdiction as a person types it: a county ("Hartford", "Hartford
    /// County", FIPS) or a health department's name in any case. Unknown names are
    /// refused with the valid ones listed.
    pub fn jurisdiction(&self, s: &str) -> Result<Jurisdiction> {
        // A stored key (`county:`, `hd:`, `iap:`) reads as the name after it.
        let typed = ["county:", "hd:", "iap:"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s);
        let want = normal(typed);
        if let Ok(c) = County::parse(typed.trim().trim_end_matches(" County")) {
            return Ok(Jurisdiction::County(c));
        }
        let hd = self
            .health_departments()
            .into_iter()
            .find(|h| normal(h) == want)
            .map(|h| Jurisdiction::HealthDepartment(h.to_string()));
        let iap = || {
            self.iap_areas()
                .into_iter()
                .find(|a| normal(a) == want)
                .map(|a| Jurisdiction::IapArea(a.to_string()))
        };
        hd.or_else(iap).ok_or_else(|| CoreError::Unknown {
            field: "jurisdiction",
            value: s.trim().to_string(),
            valid: format!(
                "a county, an IAP area ({}) or a health department: {}",
                self.iap_areas().join(", "),
                self.health_departments().join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Zip;

    const SMALL: &str = "town,county,health_department,iap_area,zip_codes,other_names\n\
        Mansfield,Tolland,Eastern Highlands Health District,Windham IAP,06268 06250,Storrs;Storrs Mansfield;Mansfield Center\n\
        Windham,Windham,Windham Health Department,Windham IAP,06226 06280,Willimantic\n\
        Hartford,Hartford,Hartford Health and Human Services,Hartford IAP,06106 06105,\n\
        \"East Haddam\",Middlesex,Chatham Health District,,06423,Moodus\n";

    fn addr(city: &str, zip: &str) -> Address {
        Address::new("1 Main St", city, "CT", Zip::new(zip).unwrap()).unwrap()
    }

    #[test]
    fn addresses_resolve_by_town_other_name_or_zip() {
        let p = Places::from_csv(SMALL).unwrap();
        assert_eq!(
            p.resolve(&addr("STORRS", "06268")).unwrap().name,
            "Mansfield"
        );
        assert_eq!(
            p.resolve(&addr("east-haddam", "06423")).unwrap().name,
            "East Haddam"
        );
        // A misspelt city still resolves by ZIP, unless the stated county disagrees.
        let mut other = addr("Wilimantic", "06226");
        other.county = Some(County::Hartford);
        assert!(p.resolve(&other).is_none());
        assert_eq!(
            p.resolve(&addr("Wilimantic", "06226")).unwrap().name,
            "Windham"
        );
        assert!(p.resolve(&addr("Springfield", "01103")).is_none());
        let mut out = addr("Hartford", "06106");
        out.state = "NY".into();
        assert!(p.resolve(&out).is_none());
    }

    #[test]
    fn jurisdictions_contain_their_towns() {
        let p = Places::from_csv(SMALL).unwrap();
        let ehhd = p.jurisdiction("eastern highlands health district").unwrap();
        assert_eq!(p.towns_of(&ehhd), ["Mansfield"]);
        assert_eq!(
            p.jurisdiction("Tolland County").unwrap(),
            Jurisdiction::County(County::Tolland)
        );
        assert_eq!(
            p.towns_of(&Jurisdiction::County(County::Windham)),
            ["Windham"]
        );
        let e = p.jurisdiction("Ledge Light").unwrap_err().to_string();
        assert!(e.contains("Chatham Health District"), "{e}");
        for j in [ehhd, Jurisdiction::County(County::Hartford)] {
            assert_eq!(Jurisdiction::from_key(&j.key()).unwrap(), j);
        }
        assert_eq!(
            Jurisdiction::from_key("New Haven").unwrap(),
            Jurisdiction::County(County::NewHaven)
        );
        assert_eq!(p.iap_areas(), ["Hartford IAP", "Windham IAP"]);
    }

    #[test]
    fn ambiguous_or_malformed_tables_are_refused() {
        let twice =
            format!("{SMALL}Coventry,Tolland,Eastern Highlands Health District,,06238,Storrs\n");
        let e = Places::from_csv(&twice).unwrap_err().to_string();
        assert!(e.contains("Storrs") && e.contains("Mansfield"), "{e}");
        let zip = format!("{SMALL}Coventry,Tolland,Eastern Highlands Health District,,06268,\n");
        assert!(Places::from_csv(&zip)
            .unwrap_err()
            .to_string()
            .contains("06268"));
        let county = format!("{SMALL}Coventry,Kings,Eastern Highlands Health District,,06238,\n");
        assert!(Places::from_csv(&county)
            .unwrap_err()
            .to_string()
            .contains("line 6"));
        assert!(Places::from_csv("town,county\nA,B\n").is_err());
    }

    #[test]
    fn csv_round_trips() {
        let p = Places::from_csv(SMALL).unwrap();
        let again = Places::from_csv(&p.to_csv()).unwrap();
        assert_eq!(p.towns(), again.towns());
    }

    #[test]
    fn the_bundled_table_has_connecticuts_169_towns() {
        let p = Places::bundled();
        assert_eq!(p.towns().len(), 169);
        let per = |c: County| p.towns().iter().filter(|t| t.county == c).count();
        assert_eq!(
            County::ALL.map(per),
            [23, 29, 26, 15, 27, 21, 13, 15],
            "towns per county, Fairfield..Windham"
        );
    }
}
