//! The towns table as the state keeps it: which jurisdictions exist, where the table came
//! from, and replacing it (`ctwiz jurisdictions import`).

use super::{audit_entry, UseCaseError};
use crate::traits::{Atomic, AuditAction, AuditStore, PlaceStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::org::County;
use ctwiz_core::place::{Jurisdiction, Places};

/// Every jurisdiction a grant or a report may name: the counties, the health departments
/// and districts, then the IAP areas, by name. Public (no person's data).
pub fn jurisdictions<S: PlaceStore + ?Sized>(store: &S) -> Result<Vec<Jurisdiction>, UseCaseError> {
    Ok(every(&*store.places()?))
}

/// [`jurisdictions`] of a towns table.
pub fn every(places: &ctwiz_core::place::Places) -> Vec<Jurisdiction> {
    County::ALL
        .into_iter()
        .map(Jurisdiction::County)
        .chain(
            places
                .health_departments()
                .into_iter()
                .map(|h| Jurisdiction::HealthDepartment(h.to_string())),
        )
        .chain(
            places
                .iap_areas()
                .into_iter()
                .map(|a| Jurisdiction::IapArea(a.to_string())),
        )
        .collect()
}

/// Reads a jurisdiction as typed (a county, or a health department's name), refusing
/// unknown names with the valid ones listed.
pub fn jurisdiction<S: PlaceStore + ?Sized>(
    store: &S,
    typed: &str,
) -> Result<Jurisdiction, UseCaseError> {
    Ok(store.places()?.jurisdiction(typed)?)
}

/// What the loaded table holds.
#[derive(Debug, Clone)]
pub struct Summary {
    pub source: String,
    pub loaded_at: String,
    pub towns: usize,
    pub health_departments: usize,
    pub iap_areas: usize,
    /// Patients whose address resolved to no Connecticut town.
    pub patients_unplaced: u64,
    pub patients_placed: u64,
}

pub fn summary<S: PlaceStore + ?Sized>(store: &S) -> Result<Summary, UseCaseError> {
    let places = store.places()?;
    let (source, loaded_at) = store.places_source()?;
    let by_town = store.patients_by_town()?;
    Ok(Summary {
        source,
        loaded_at,
        towns: places.towns().len(),
        health_departments: places.health_departments().len(),
        iap_areas: places.iap_areas().len(),
        patients_unplaced: by_town
            .iter()
            .filter(|(t, _)| t.is_none())
            .map(|(_, n)| n)
            .sum(),
        patients_placed: by_town
            .iter()
            .filter(|(t, _)| t.is_some())
            .map(|(_, n)| n)
            .sum(),
    })
}

/// Replaces the towns table with `csv` (the columns of `ctwiz_core::place::CSV_HEADER`),
/// places every patient again and audits the change, all in one transaction. State
/// administrators only (`ClinicManage`: the registry's organisations and places). A bad
/// file is refused whole, naming the line, and the table in use stays.
pub fn import<S: PlaceStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    csv: &str,
    source: &str,
    now: NaiveDateTime,
) -> Result<(Summary, u64), UseCaseError> {
    super::actors::permit(
        store,
        actor,
        Action::ClinicManage,
        now,
        "jurisdictions import",
    )?;
    let places = Places::from_csv(csv)?;
    let moved = store.atomically(|s| {
        let moved = s.replace_places(&places, source, now)?;
        s.audit(&audit_entry(
            actor,
            None,
            AuditAction::Update,
            now,
            format!(
                "jurisdictions import from {source}: {} towns, {} patients changed town",
                places.towns().len(),
                moved
            ),
        ))?;
        Ok(moved)
    })?;
    Ok((summary(store)?, moved))
}
