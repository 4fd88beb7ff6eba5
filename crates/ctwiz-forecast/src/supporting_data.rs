//! CDSi supporting data: the parsed, pre-indexed form of the CDC's
//! `AntigenSupportingData- *.xml` and `ScheduleSupportingData.xml` files.
//!
//! Everything the engine needs per forecast is resolved here, once: duration
//! texts become [`CdsiDuration`]s, CVX and observation codes become integers,
//! vaccine groups point at antigen indices, and the CVX → antigen map is a
//! hash map.

use crate::dates::{parse_compact_date, CdsiDuration};
pub use crate::name::{Name, Names, Shared};
use chrono::NaiveDate;
use roxmltree::{Document, Node};
use std::collections::HashMap;

/// A CVX code as an integer (`"03"` and `"3"` are the same vaccine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Cvx(pub u16);

impl Cvx {
    /// Parses a CVX text; `None` for anything that is not a 1–4 digit number.
    pub fn parse(text: &str) -> Option<Cvx> {
        // The usual case, a bare 1–4 digit code, without trimming.
        let b = text.as_bytes();
        if (1..=4).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
            return Some(Cvx(b.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0'))));
        }
        let t = text.trim();
        if t.is_empty() || t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(Cvx)
    }
}

impl std::fmt::Display for Cvx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// A CDSi observation code (`"085"`) as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ObservationCode(pub u16);

impl ObservationCode {
    /// Parses an observation code text such as `"085"`.
    pub fn parse(text: &str) -> Option<ObservationCode> {
        let t = text.trim();
        if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(ObservationCode)
    }
}

impl std::fmt::Display for ObservationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// Index of an antigen in [`SupportingData::antigens`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AntigenId(pub u16);

/// Errors while loading supporting data.
#[derive(Debug, thiserror::Error)]
pub enum SupportingDataError {
    /// The text is not well-formed XML.
    #[error("supporting data file {file} is not valid XML: {source}")]
    Xml {
        /// Which file (root element or series name) failed.
        file: String,
        /// Parser error.
        source: roxmltree::Error,
    },
    /// The XML is well formed but is not the expected CDSi document.
    #[error("supporting data {file}: {problem}")]
    Structure {
        /// Which file failed.
        file: String,
        /// What was wrong.
        problem: String,
    },
}

/// Whether the patient's sex is relevant to a series (`requiredGender`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Unknown / not stated.
    Unknown,
}

/// An age window; both ends optional (`beginAge` inclusive, `endAge` exclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AgeRange {
    /// Inclusive lower bound.
    pub begin: Option<CdsiDuration>,
    /// Exclusive upper bound.
    pub end: Option<CdsiDuration>,
}

impl AgeRange {
    /// Is `date` within this age window for a patient born on `dob`?
    pub fn contains(&self, dob: NaiveDate, date: NaiveDate) -> bool {
        self.begin.is_none_or(|b| date >= b.add_to(dob))
            && self.end.is_none_or(|e| date < e.add_to(dob))
    }
}

/// `seriesType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SeriesType {
    /// Routine series for everyone.
    Standard,
    /// Series for patients with an indication (observation).
    Risk,
    /// Only used to evaluate doses, never forecast.
    EvaluationOnly,
}

/// A risk-series indication.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Indication {
    /// Observation code that makes the series relevant.
    pub code: ObservationCode,
    /// Age window in which it applies.
    pub ages: AgeRange,
}

/// One `<age>` row of a series dose.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AgeRule {
    /// Absolute minimum age (minimum age minus grace period).
    pub abs_min: Option<CdsiDuration>,
    /// Minimum age.
    pub min: Option<CdsiDuration>,
    /// Earliest recommended age.
    pub earliest_rec: Option<CdsiDuration>,
    /// Latest recommended age (past due after this).
    pub latest_rec: Option<CdsiDuration>,
    /// Maximum age.
    pub max: Option<CdsiDuration>,
    /// The row applies to doses on or after this date.
    pub effective: Option<NaiveDate>,
    /// The row applies to doses on or before this date.
    pub cessation: Option<NaiveDate>,
}

/// Where an interval is measured from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum IntervalFrom {
    /// The immediate previous dose administered.
    Previous,
    /// The dose that satisfied target dose N (1-based).
    TargetDose(u8),
    /// The most recent dose of one of these vaccine types.
    MostRecent(Vec<Cvx>),
    /// The date of a relevant observation.
    Observation(ObservationCode),
}

/// A preferable (or allowable) interval.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct IntervalRule {
    /// Reference point.
    pub from: IntervalFrom,
    /// Absolute minimum interval.
    pub abs_min: Option<CdsiDuration>,
    /// Minimum interval.
    pub min: Option<CdsiDuration>,
    /// Earliest recommended interval.
    pub earliest_rec: Option<CdsiDuration>,
    /// Latest recommended interval.
    pub latest_rec: Option<CdsiDuration>,
    /// `intervalPriority` = override.
    pub priority_override: bool,
    /// Effective date.
    pub effective: Option<NaiveDate>,
    /// Cessation date.
    pub cessation: Option<NaiveDate>,
}

/// A preferable vaccine of a series dose.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreferableVaccine {
    /// Vaccine type name.
    pub vaccine_type: Name,
    /// CVX.
    pub cvx: Cvx,
    /// Age window.
    pub ages: AgeRange,
    /// Manufacturer, when the preference is product specific.
    pub mvx: Option<String>,
    /// Trade name.
    pub trade_name: Option<String>,
    /// Whether to list it among forecast vaccine types.
    pub forecast: bool,
}

/// An allowable vaccine of a series dose.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AllowableVaccine {
    /// Vaccine type name.
    pub vaccine_type: Name,
    /// CVX.
    pub cvx: Cvx,
    /// Age window.
    pub ages: AgeRange,
}

/// Conditional-skip context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum SkipContext {
    /// Only when evaluating a dose.
    Evaluation,
    /// Only when forecasting.
    Forecast,
    /// Both.
    Both,
}

/// Kind of a conditional-skip condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ConditionKind {
    /// Patient age at the reference date.
    Age,
    /// Another series of the antigen complete.
    CompletedSeries,
    /// Interval since the previous dose.
    Interval,
    /// Count of doses given in an age window.
    VaccineCountByAge,
    /// Count of doses given in a date window.
    VaccineCountByDate,
    /// Count of doses given in a date and an age window.
    VaccineCountByDateAndAge,
}

/// How a dose count is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CountLogic {
    /// count > n
    GreaterThan,
    /// count == n
    EqualTo,
    /// count < n
    LessThan,
}

/// One condition of a conditional-skip set.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SkipCondition {
    /// Condition type.
    pub kind: ConditionKind,
    /// Age window.
    pub ages: AgeRange,
    /// Start date (inclusive).
    pub start_date: Option<NaiveDate>,
    /// End date (inclusive).
    pub end_date: Option<NaiveDate>,
    /// Interval since the previous dose.
    pub interval: Option<CdsiDuration>,
    /// Dose count.
    pub dose_count: u32,
    /// Count only valid doses (else all doses).
    pub valid_only: bool,
    /// Count comparison.
    pub count_logic: CountLogic,
    /// Vaccine types counted (empty = any).
    pub vaccine_types: Vec<Cvx>,
    /// Series groups for `CompletedSeries`.
    pub series_groups: Vec<String>,
}

/// A set of conditions.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SkipSet {
    /// Description.
    pub description: String,
    /// Effective date.
    pub effective: Option<NaiveDate>,
    /// Cessation date.
    pub cessation: Option<NaiveDate>,
    /// Conditions combine with OR (else AND).
    pub any: bool,
    /// Conditions.
    pub conditions: Vec<SkipCondition>,
}

/// A conditional skip of a target dose.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConditionalSkip {
    /// When it applies.
    pub context: SkipContext,
    /// Sets combine with OR (else AND).
    pub any: bool,
    /// The sets.
    pub sets: Vec<SkipSet>,
}

/// A target dose of a series (`seriesDose`).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SeriesDose {
    /// 1-based dose number.
    pub number: u8,
    /// Age rows.
    pub ages: Vec<AgeRule>,
    /// Preferable intervals.
    pub intervals: Vec<IntervalRule>,
    /// Allowable intervals.
    pub allowable_intervals: Vec<IntervalRule>,
    /// Preferable vaccines.
    pub preferable_vaccines: Vec<PreferableVaccine>,
    /// Allowable vaccines.
    pub allowable_vaccines: Vec<AllowableVaccine>,
    /// Inadvertent vaccines.
    pub inadvertent_vaccines: Vec<Cvx>,
    /// Conditional skips.
    pub conditional_skips: Vec<ConditionalSkip>,
    /// Repeats indefinitely once reached.
    pub recurring: bool,
    /// Seasonal recommendation window.
    pub season_start: Option<NaiveDate>,
    /// Seasonal recommendation end.
    pub season_end: Option<NaiveDate>,
    /// Some preferable vaccine is a live virus vaccine (set at load time, so
    /// forecasting can skip the live-virus conflict search otherwise).
    pub live_vaccine: bool,
    /// The preferable vaccines flagged for forecasting, once per CVX, in
    /// order (set at load time): the usual recommendation, shared by every
    /// forecast that keeps them all.
    pub forecast_vaccines: Shared<crate::result::RecommendedVaccine>,
}

/// A series of an antigen.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Series {
    /// Series name.
    pub name: Name,
    /// Antigen.
    pub target_disease: String,
    /// Vaccine group.
    pub vaccine_group: String,
    /// Type.
    pub series_type: SeriesType,
    /// Equivalent series groups.
    pub equivalent_series_groups: Vec<String>,
    /// Required sexes (empty = any).
    pub required_gender: Vec<Sex>,
    /// Default series.
    pub default_series: bool,
    /// Product path.
    pub product_path: bool,
    /// Series group name.
    pub series_group_name: String,
    /// Series group.
    pub series_group: Name,
    /// Priority letter ('A' highest).
    pub priority: char,
    /// Preference (1 best).
    pub preference: u32,
    /// Minimum age to start.
    pub min_age_to_start: Option<CdsiDuration>,
    /// Maximum age to start.
    pub max_age_to_start: Option<CdsiDuration>,
    /// Indications (risk series).
    pub indications: Vec<Indication>,
    /// Target doses.
    pub doses: Vec<SeriesDose>,
}

/// An antigen-level (vaccine-group) contraindication.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AntigenContraindication {
    /// Observation.
    pub code: ObservationCode,
    /// Text.
    pub text: String,
    /// Age window.
    pub ages: AgeRange,
}

/// A vaccine-specific contraindication.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VaccineContraindication {
    /// Observation.
    pub code: ObservationCode,
    /// Text.
    pub text: String,
    /// Contraindicated vaccines and their age windows.
    pub vaccines: Vec<(Cvx, AgeRange)>,
}

/// Birth-date based evidence of immunity.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BirthDateImmunity {
    /// Born before this date → immune.
    pub born_before: NaiveDate,
    /// Birth country condition (ignored when the patient's country is unknown).
    pub birth_country: String,
    /// Observations that exclude this immunity.
    pub exclusions: Vec<ObservationCode>,
}

/// One antigen's supporting data.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Antigen {
    /// Antigen name (target disease), e.g. `"Measles"`.
    pub name: Name,
    /// Observations that are evidence of immunity.
    pub immunity_codes: Vec<ObservationCode>,
    /// Birth-date immunity.
    pub birth_date_immunity: Vec<BirthDateImmunity>,
    /// Antigen-level contraindications.
    pub contraindications: Vec<AntigenContraindication>,
    /// Vaccine-level contraindications.
    pub vaccine_contraindications: Vec<VaccineContraindication>,
    /// Series.
    pub series: Vec<Series>,
}

/// A live virus conflict row.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LiveVirusConflict {
    /// Earlier vaccine.
    pub previous: Cvx,
    /// Later vaccine.
    pub current: Cvx,
    /// Conflict begins this long after the previous dose.
    pub begin: CdsiDuration,
    /// Conflict ends (with grace) this long after.
    pub min_end: CdsiDuration,
    /// Conflict ends this long after.
    pub end: CdsiDuration,
}

/// A vaccine group.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VaccineGroup {
    /// Name, e.g. `"DTaP/Tdap/Td"`.
    pub name: Name,
    /// All antigens must be forecast together.
    pub administer_full_group: bool,
    /// Antigens.
    pub antigens: Vec<AntigenId>,
    /// The antigens' names, in the order of `antigens`.
    pub antigen_names: Names,
}

/// A CVX → antigen association.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CvxAssociation {
    /// Antigen.
    pub antigen: AntigenId,
    /// Age window for the association.
    pub ages: AgeRange,
}

/// A CVX code's entry in the schedule data.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CvxEntry {
    /// Short description.
    pub description: String,
    /// Associations.
    pub antigens: Vec<CvxAssociation>,
}

/// The complete, parsed supporting data. Build once, share with `Arc`.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SupportingData {
    /// Antigens (index = [`AntigenId`]).
    pub antigens: Vec<Antigen>,
    /// Vaccine groups.
    pub vaccine_groups: Vec<VaccineGroup>,
    /// Live virus conflicts.
    pub live_virus_conflicts: Vec<LiveVirusConflict>,
    /// CVX map.
    pub cvx: HashMap<Cvx, CvxEntry>,
    /// Observation titles.
    pub observations: HashMap<ObservationCode, String>,
    /// Live-virus CVX codes that appear as `current` in a conflict.
    pub live_virus_current: Vec<Cvx>,
    /// Conflict rows indexed by the earlier (`previous`) vaccine.
    pub conflicts_by_previous: HashMap<Cvx, Vec<usize>>,
}

fn text_of<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| c.has_tag_name(name))
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

struct Ctx<'f> {
    file: &'f str,
}

impl Ctx<'_> {
    fn err(&self, problem: String) -> SupportingDataError {
        SupportingDataError::Structure {
            file: self.file.to_string(),
            problem,
        }
    }

    fn duration(
        &self,
        node: Node<'_, '_>,
        name: &str,
    ) -> Result<Option<CdsiDuration>, SupportingDataError> {
        match text_of(node, name) {
            None => Ok(None),
            Some(t) => CdsiDuration::parse(t)
                .map(Some)
                .map_err(|e| self.err(format!("<{name}>: {e}"))),
        }
    }

    fn date(
        &self,
        node: Node<'_, '_>,
        name: &str,
    ) -> Result<Option<NaiveDate>, SupportingDataError> {
        match text_of(node, name) {
            None => Ok(None),
            Some(t) => parse_compact_date(t)
                .map(Some)
                .ok_or_else(|| self.err(format!("<{name}>: not a date: {t:?}"))),
        }
    }

    fn ages(&self, node: Node<'_, '_>) -> Result<AgeRange, SupportingDataError> {
        Ok(AgeRange {
            begin: self.duration(node, "beginAge")?,
            end: self.duration(node, "endAge")?,
        })
    }

    fn cvx(&self, node: Node<'_, '_>) -> Result<Cvx, SupportingDataError> {
        let t = text_of(node, "cvx").unwrap_or("");
        Cvx::parse(t).ok_or_else(|| self.err(format!("bad <cvx> {t:?}")))
    }
}

fn cvx_list(text: Option<&str>) -> Vec<Cvx> {
    text.map(|t| t.split([';', ',']).filter_map(Cvx::parse).collect())
        .unwrap_or_default()
}

fn yes(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("y"))
}

impl SupportingData {
    /// Parses a supporting-data release from the texts of
    /// `ScheduleSupportingData.xml` and every `AntigenSupportingData- *.xml`.
    pub fn from_xml_texts(
        schedule_xml: &str,
        antigen_xmls: &[&str],
    ) -> Result<Self, SupportingDataError> {
        let mut antigens = Vec::with_capacity(antigen_xmls.len());
        for text in antigen_xmls {
            antigens.push(parse_antigen(text)?);
        }
        antigens.sort_by(|a, b| a.name.cmp(&b.name));
        let by_name: HashMap<String, AntigenId> = antigens
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.to_ascii_lowercase(), AntigenId(i as u16)))
            .collect();
        let file = "ScheduleSupportingData.xml";
        let ctx = Ctx { file };
        let doc = Document::parse(schedule_xml).map_err(|source| SupportingDataError::Xml {
            file: file.to_string(),
            source,
        })?;
        let root = doc.root_element();
        if !root.has_tag_name("scheduleSupportingData") {
            return Err(ctx.err(format!("root element is <{}>", root.tag_name().name())));
        }
        let mut live_virus_conflicts = Vec::new();
        if let Some(lvc) = child(root, "liveVirusConflicts") {
            for c in children(lvc, "liveVirusConflict") {
                let prev = child(c, "previous")
                    .ok_or_else(|| ctx.err("conflict without <previous>".into()))?;
                let cur = child(c, "current")
                    .ok_or_else(|| ctx.err("conflict without <current>".into()))?;
                live_virus_conflicts.push(LiveVirusConflict {
                    previous: ctx.cvx(prev)?,
                    current: ctx.cvx(cur)?,
                    begin: ctx
                        .duration(c, "conflictBeginInterval")?
                        .unwrap_or_default(),
                    min_end: ctx
                        .duration(c, "minConflictEndInterval")?
                        .unwrap_or_default(),
                    end: ctx.duration(c, "conflictEndInterval")?.unwrap_or_default(),
                });
            }
        }
        let mut live_virus_current: Vec<Cvx> =
            live_virus_conflicts.iter().map(|c| c.current).collect();
        live_virus_current.sort();
        live_virus_current.dedup();
        let mut conflicts_by_previous: HashMap<Cvx, Vec<usize>> = HashMap::new();
        for (i, c) in live_virus_conflicts.iter().enumerate() {
            conflicts_by_previous.entry(c.previous).or_default().push(i);
        }
        for dose in antigens
            .iter_mut()
            .flat_map(|a| a.series.iter_mut())
            .flat_map(|s| s.doses.iter_mut())
        {
            dose.live_vaccine = dose
                .preferable_vaccines
                .iter()
                .any(|v| live_virus_current.binary_search(&v.cvx).is_ok());
        }

        let mut full_group: HashMap<String, bool> = HashMap::new();
        if let Some(vgs) = child(root, "vaccineGroups") {
            for g in children(vgs, "vaccineGroup") {
                if let Some(name) = text_of(g, "name") {
                    full_group.insert(
                        name.to_string(),
                        yes(text_of(g, "administerFullVaccineGroup")),
                    );
                }
            }
        }
        let mut vaccine_groups = Vec::new();
        if let Some(map) = child(root, "vaccineGroupToAntigenMap") {
            for g in children(map, "vaccineGroupMap") {
                let Some(name) = text_of(g, "name") else {
                    continue;
                };
                let ids: Vec<AntigenId> = children(g, "antigen")
                    .filter_map(|a| a.text())
                    .filter_map(|a| by_name.get(&a.trim().to_ascii_lowercase()).copied())
                    .collect();
                let antigen_names = ids
                    .iter()
                    .map(|id| antigens[usize::from(id.0)].name.clone())
                    .collect();
                vaccine_groups.push(VaccineGroup {
                    name: Name::interned(name),
                    administer_full_group: full_group.get(name).copied().unwrap_or(false),
                    antigens: ids,
                    antigen_names,
                });
            }
        }
        let mut cvx = HashMap::new();
        if let Some(map) = child(root, "cvxToAntigenMap") {
            for m in children(map, "cvxMap") {
                let code = ctx.cvx(m)?;
                let mut assoc = Vec::new();
                for a in children(m, "association") {
                    let Some(name) = text_of(a, "antigen") else {
                        continue;
                    };
                    let Some(id) = by_name.get(&name.to_ascii_lowercase()) else {
                        continue;
                    };
                    assoc.push(CvxAssociation {
                        antigen: *id,
                        ages: AgeRange {
                            begin: ctx.duration(a, "associationBeginAge")?,
                            end: ctx.duration(a, "associationEndAge")?,
                        },
                    });
                }
                cvx.insert(
                    code,
                    CvxEntry {
                        description: text_of(m, "shortDescription").unwrap_or("").to_string(),
                        antigens: assoc,
                    },
                );
            }
        }
        let mut observations = HashMap::new();
        if let Some(obs) = child(root, "observations") {
            for o in children(obs, "observation") {
                if let Some(code) = text_of(o, "observationCode").and_then(ObservationCode::parse) {
                    observations.insert(
                        code,
                        text_of(o, "observationTitle").unwrap_or("").to_string(),
                    );
                }
            }
        }
        Ok(SupportingData {
            antigens,
            vaccine_groups,
            live_virus_conflicts,
            cvx,
            observations,
            live_virus_current,
            conflicts_by_previous,
        })
    }

    /// Parses the release bundled with this crate (see [`crate::bundled`]).
    pub fn bundled() -> Result<Self, SupportingDataError> {
        Self::from_xml_texts(crate::bundled::SCHEDULE_XML, crate::bundled::ANTIGEN_XMLS)
    }

    /// Looks up an antigen by name (case-insensitive).
    pub fn antigen_id(&self, name: &str) -> Option<AntigenId> {
        self.antigens
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(name))
            .map(|i| AntigenId(i as u16))
    }

    /// The antigen with this id.
    ///
    /// # Panics
    /// If `id` did not come from this supporting data (e.g. from
    /// [`SupportingData::antigen_id`] or a [`VaccineGroup`] of it).
    pub fn antigen(&self, id: AntigenId) -> &Antigen {
        &self.antigens[usize::from(id.0)]
    }

    /// Looks up a vaccine group by its CDSi name (case-insensitive).
    pub fn vaccine_group(&self, name: &str) -> Option<&VaccineGroup> {
        self.vaccine_groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }
}

fn parse_antigen(text: &str) -> Result<Antigen, SupportingDataError> {
    let doc = Document::parse(text).map_err(|source| SupportingDataError::Xml {
        file: "AntigenSupportingData".to_string(),
        source,
    })?;
    let root = doc.root_element();
    let first_series = child(root, "series");
    let name = Name::interned(
        first_series
            .and_then(|s| text_of(s, "targetDisease"))
            .unwrap_or(""),
    );
    let file = format!("AntigenSupportingData- {name}");
    let ctx = Ctx { file: &file };
    if !root.has_tag_name("antigenSupportingData") || name.is_empty() {
        return Err(ctx.err("not an antigenSupportingData document with a series".into()));
    }
    let mut immunity_codes = Vec::new();
    let mut birth_date_immunity = Vec::new();
    if let Some(imm) = child(root, "immunity") {
        for ch in children(imm, "clinicalHistory") {
            if let Some(c) = text_of(ch, "guidelineCode").and_then(ObservationCode::parse) {
                immunity_codes.push(c);
            }
        }
        for b in children(imm, "dateOfBirth") {
            if let Some(date) = ctx.date(b, "immunityBirthDate")? {
                birth_date_immunity.push(BirthDateImmunity {
                    born_before: date,
                    birth_country: text_of(b, "birthCountry").unwrap_or("").to_string(),
                    exclusions: children(b, "exclusion")
                        .filter_map(|e| {
                            text_of(e, "exclusionCode").and_then(ObservationCode::parse)
                        })
                        .collect(),
                });
            }
        }
    }
    let mut contraindications = Vec::new();
    let mut vaccine_contraindications = Vec::new();
    if let Some(ci) = child(root, "contraindications") {
        if let Some(g) = child(ci, "vaccineGroup") {
            for c in children(g, "contraindication") {
                if let Some(code) = text_of(c, "observationCode").and_then(ObservationCode::parse) {
                    contraindications.push(AntigenContraindication {
                        code,
                        text: text_of(c, "contraindicationText").unwrap_or("").to_string(),
                        ages: ctx.ages(c)?,
                    });
                }
            }
        }
        if let Some(v) = child(ci, "vaccine") {
            for c in children(v, "contraindication") {
                if let Some(code) = text_of(c, "observationCode").and_then(ObservationCode::parse) {
                    let mut vaccines = Vec::new();
                    for cv in children(c, "contraindicatedVaccine") {
                        if let Some(cvx) = text_of(cv, "cvx").and_then(Cvx::parse) {
                            vaccines.push((cvx, ctx.ages(cv)?));
                        }
                    }
                    vaccine_contraindications.push(VaccineContraindication {
                        code,
                        text: text_of(c, "contraindicationText").unwrap_or("").to_string(),
                        vaccines,
                    });
                }
            }
        }
    }
    let mut series = Vec::new();
    for s in children(root, "series") {
        series.push(parse_series(&ctx, s)?);
    }
    Ok(Antigen {
        name,
        immunity_codes,
        birth_date_immunity,
        contraindications,
        vaccine_contraindications,
        series,
    })
}

fn parse_series(ctx: &Ctx<'_>, s: Node<'_, '_>) -> Result<Series, SupportingDataError> {
    let sel = child(s, "selectSeries");
    let sel_text = |name| sel.and_then(|n| text_of(n, name));
    let series_type = match text_of(s, "seriesType").unwrap_or("Standard") {
        t if t.eq_ignore_ascii_case("risk") => SeriesType::Risk,
        t if t.to_ascii_lowercase().starts_with("evaluation") => SeriesType::EvaluationOnly,
        _ => SeriesType::Standard,
    };
    let required_gender = children(s, "requiredGender")
        .filter_map(|g| g.text())
        .filter_map(|g| match g.trim().to_ascii_lowercase().as_str() {
            "female" => Some(Sex::Female),
            "male" => Some(Sex::Male),
            "unknown" => Some(Sex::Unknown),
            _ => None,
        })
        .collect();
    let mut indications = Vec::new();
    for i in children(s, "indication") {
        let code = child(i, "observationCode")
            .and_then(|o| text_of(o, "code"))
            .and_then(ObservationCode::parse);
        if let Some(code) = code {
            indications.push(Indication {
                code,
                ages: ctx.ages(i)?,
            });
        }
    }
    let mut doses = Vec::new();
    for (i, d) in children(s, "seriesDose").enumerate() {
        doses.push(parse_series_dose(ctx, d, i)?);
    }
    let (min_age_to_start, max_age_to_start) = match sel {
        Some(n) => (
            ctx.duration(n, "minAgeToStart")?,
            ctx.duration(n, "maxAgeToStart")?,
        ),
        None => (None, None),
    };
    Ok(Series {
        name: Name::interned(text_of(s, "seriesName").unwrap_or("")),
        target_disease: text_of(s, "targetDisease").unwrap_or("").to_string(),
        vaccine_group: text_of(s, "vaccineGroup").unwrap_or("").to_string(),
        series_type,
        equivalent_series_groups: text_of(s, "equivalentSeriesGroups")
            .map(|t| {
                t.split([';', ','])
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        required_gender,
        default_series: yes(sel_text("defaultSeries")),
        product_path: yes(sel_text("productPath")),
        series_group_name: sel_text("seriesGroupName").unwrap_or("").to_string(),
        series_group: Name::interned(sel_text("seriesGroup").unwrap_or("1")),
        priority: sel_text("seriesPriority")
            .and_then(|p| p.chars().next())
            .unwrap_or('A'),
        preference: sel_text("seriesPreference")
            .and_then(|p| p.parse().ok())
            .unwrap_or(u32::MAX),
        min_age_to_start,
        max_age_to_start,
        indications,
        doses,
    })
}

fn parse_interval(
    ctx: &Ctx<'_>,
    n: Node<'_, '_>,
) -> Result<Option<IntervalRule>, SupportingDataError> {
    let from = if yes(text_of(n, "fromPrevious")) {
        Some(IntervalFrom::Previous)
    } else if let Some(t) = text_of(n, "fromTargetDose") {
        t.parse::<u8>().ok().map(IntervalFrom::TargetDose)
    } else if let Some(t) = text_of(n, "fromMostRecent") {
        Some(IntervalFrom::MostRecent(cvx_list(Some(t))))
    } else {
        child(n, "fromRelevantObs")
            .and_then(|o| text_of(o, "code"))
            .and_then(ObservationCode::parse)
            .map(IntervalFrom::Observation)
    };
    let Some(from) = from else { return Ok(None) };
    Ok(Some(IntervalRule {
        from,
        abs_min: ctx.duration(n, "absMinInt")?,
        min: ctx.duration(n, "minInt")?,
        earliest_rec: ctx.duration(n, "earliestRecInt")?,
        latest_rec: ctx.duration(n, "latestRecInt")?,
        priority_override: text_of(n, "intervalPriority")
            .is_some_and(|p| p.eq_ignore_ascii_case("override")),
        effective: ctx.date(n, "effectiveDate")?,
        cessation: ctx.date(n, "cessationDate")?,
    }))
}

fn parse_series_dose(
    ctx: &Ctx<'_>,
    d: Node<'_, '_>,
    index: usize,
) -> Result<SeriesDose, SupportingDataError> {
    let number = text_of(d, "doseNumber")
        .and_then(|t| t.trim_start_matches("Dose").trim().parse().ok())
        .unwrap_or((index + 1).min(255) as u8);
    let mut ages = Vec::new();
    for a in children(d, "age") {
        ages.push(AgeRule {
            abs_min: ctx.duration(a, "absMinAge")?,
            min: ctx.duration(a, "minAge")?,
            earliest_rec: ctx.duration(a, "earliestRecAge")?,
            latest_rec: ctx.duration(a, "latestRecAge")?,
            max: ctx.duration(a, "maxAge")?,
            effective: ctx.date(a, "effectiveDate")?,
            cessation: ctx.date(a, "cessationDate")?,
        });
    }
    let mut intervals = Vec::new();
    for i in children(d, "interval") {
        if let Some(rule) = parse_interval(ctx, i)? {
            intervals.push(rule);
        }
    }
    let mut allowable_intervals = Vec::new();
    for i in children(d, "allowableInterval") {
        if let Some(rule) = parse_interval(ctx, i)? {
            allowable_intervals.push(rule);
        }
    }
    let mut preferable_vaccines = Vec::new();
    for v in children(d, "preferableVaccine") {
        // Rows without a CVX (placeholders in some releases) name no vaccine.
        let Some(cvx) = text_of(v, "cvx").and_then(Cvx::parse) else {
            continue;
        };
        preferable_vaccines.push(PreferableVaccine {
            vaccine_type: Name::interned(text_of(v, "vaccineType").unwrap_or("")),
            cvx,
            ages: ctx.ages(v)?,
            mvx: text_of(v, "mvx").map(str::to_string),
            trade_name: text_of(v, "tradeName").map(str::to_string),
            forecast: yes(text_of(v, "forecastVaccineType")),
        });
    }
    let mut allowable_vaccines = Vec::new();
    for v in children(d, "allowableVaccine") {
        let Some(cvx) = text_of(v, "cvx").and_then(Cvx::parse) else {
            continue;
        };
        allowable_vaccines.push(AllowableVaccine {
            vaccine_type: Name::interned(text_of(v, "vaccineType").unwrap_or("")),
            cvx,
            ages: ctx.ages(v)?,
        });
    }
    let inadvertent_vaccines = children(d, "inadvertentVaccine")
        .filter_map(|v| text_of(v, "cvx").and_then(Cvx::parse))
        .collect();
    let mut conditional_skips = Vec::new();
    for c in children(d, "conditionalSkip") {
        conditional_skips.push(parse_skip(ctx, c)?);
    }
    let season = child(d, "seasonalRecommendation");
    let mut forecast_vaccines: Vec<crate::result::RecommendedVaccine> = Vec::new();
    for v in preferable_vaccines.iter().filter(|v| v.forecast) {
        if !forecast_vaccines.iter().any(|x| x.cvx == v.cvx) {
            forecast_vaccines.push(crate::result::RecommendedVaccine {
                cvx: v.cvx,
                vaccine_type: v.vaccine_type.clone(),
            });
        }
    }
    Ok(SeriesDose {
        forecast_vaccines: Shared::from(forecast_vaccines),
        number,
        ages,
        intervals,
        allowable_intervals,
        preferable_vaccines,
        allowable_vaccines,
        inadvertent_vaccines,
        conditional_skips,
        recurring: yes(text_of(d, "recurringDose")),
        live_vaccine: false,
        season_start: match season {
            Some(s) => ctx.date(s, "startDate")?,
            None => None,
        },
        season_end: match season {
            Some(s) => ctx.date(s, "endDate")?,
            None => None,
        },
    })
}

fn parse_skip(ctx: &Ctx<'_>, c: Node<'_, '_>) -> Result<ConditionalSkip, SupportingDataError> {
    let context = match text_of(c, "context")
        .unwrap_or("Both")
        .to_ascii_lowercase()
        .as_str()
    {
        "evaluation" => SkipContext::Evaluation,
        "forecast" => SkipContext::Forecast,
        _ => SkipContext::Both,
    };
    let mut sets = Vec::new();
    for s in children(c, "set") {
        let mut conditions = Vec::new();
        for k in children(s, "condition") {
            let kind_text = text_of(k, "conditionType")
                .unwrap_or("")
                .to_ascii_lowercase();
            let kind = match kind_text.as_str() {
                "age" => ConditionKind::Age,
                "completed series" => ConditionKind::CompletedSeries,
                "interval" => ConditionKind::Interval,
                "vaccine count by age" => ConditionKind::VaccineCountByAge,
                "vaccine count by date" => ConditionKind::VaccineCountByDate,
                "vaccine count by date and age" => ConditionKind::VaccineCountByDateAndAge,
                other => return Err(ctx.err(format!("unknown conditionType {other:?}"))),
            };
            let count_logic = match text_of(k, "doseCountLogic")
                .unwrap_or("")
                .to_ascii_lowercase()
                .as_str()
            {
                "equal to" => CountLogic::EqualTo,
                "less than" => CountLogic::LessThan,
                _ => CountLogic::GreaterThan,
            };
            conditions.push(SkipCondition {
                kind,
                ages: ctx.ages(k)?,
                start_date: ctx.date(k, "startDate")?,
                end_date: ctx.date(k, "endDate")?,
                interval: ctx.duration(k, "interval")?,
                dose_count: text_of(k, "doseCount")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0),
                valid_only: text_of(k, "doseType").is_some_and(|t| t.eq_ignore_ascii_case("valid")),
                count_logic,
                vaccine_types: cvx_list(text_of(k, "vaccineTypes")),
                series_groups: text_of(k, "seriesGroups")
                    .map(|t| {
                        t.split([';', ','])
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        sets.push(SkipSet {
            description: text_of(s, "setDescription").unwrap_or("").to_string(),
            effective: ctx.date(s, "effectiveDate")?,
            cessation: ctx.date(s, "cessationDate")?,
            any: text_of(s, "conditionLogic").is_some_and(|t| t.eq_ignore_ascii_case("or")),
            conditions,
        });
    }
    Ok(ConditionalSkip {
        context,
        any: !text_of(c, "setLogic").is_some_and(|t| t.eq_ignore_ascii_case("and")),
        sets,
    })
}
