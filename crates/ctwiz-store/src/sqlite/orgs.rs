use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension};
use crate::traits::OrgStore;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::{Clinic, ProgramType};

/// The `program` column, kept from before CVFA: `cvp` for a clinic in CVP, else
/// `private`. The clinic's whole enrollment is in its detail (`Clinic::program`).
fn program_key(p: ProgramType) -> &'static str {
    if p.enrolled(ctwiz_core::program::Program::Cvp) {
        "cvp"
    } else {
        "private"
    }
}

fn from_detail(d: &str) -> Result<Clinic> {
    serde_json::from_str(d).map_err(|e| StoreError::Corrupt(format!("clinic: {e}")))
}

impl SqliteStore {
    /// The clinic with its place filled in from the towns table.
    fn placed(places: &ctwiz_core::place::Places, mut c: Clinic) -> Clinic {
        c.at = places
            .locate_address(c.address.as_ref(), c.county)
            .to_locality();
        c
    }
}

impl OrgStore for SqliteStore {
    fn add_clinic(&self, c: &Clinic) -> Result<()> {
        self.held.borrow_mut().clinics.remove(c.pin.as_str());
        self.conn
            .prepare_cached(
                "INSERT INTO clinics (pin, name, county, program, active, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                c.pin.as_str(),
                c.name,
                c.county.name(),
                program_key(c.program),
                c.active,
                serde_json::to_string(c)?
            ])
            .map_err(|e| match e {
                f if f.is_constraint_violation() => {
                    StoreError::Conflict(format!("a clinic with PIN {} already exists", c.pin))
                }
                other => other.into(),
            })?;
        Ok(())
    }

    fn update_clinic(&self, c: &Clinic) -> Result<()> {
        self.held.borrow_mut().clinics.remove(c.pin.as_str());
        let n = self
            .conn
            .prepare_cached("UPDATE clinics SET name=?2, county=?3, program=?4, active=?5, detail=?6 WHERE pin=?1")?
            .execute(params![
                c.pin.as_str(),
                c.name,
                c.county.name(),
                program_key(c.program),
                c.active,
                serde_json::to_string(c)?
            ])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "clinic",
                id: c.pin.to_string(),
            });
        }
        Ok(())
    }

    fn clinic(&self, pin: &ClinicPin) -> Result<Option<Clinic>> {
        // Held parsed and placed: a VXU asks for its clinic several times, and reading
        // the stored detail cost more than the rest of the question.
        self.while_locked(
            |h| h.clinics.get(pin.as_str()).cloned(),
            |h, v| {
                h.clinics.insert(pin.as_str().to_string(), v);
            },
            || {
                let d: Option<String> = self
                    .conn
                    .prepare_cached("SELECT detail FROM clinics WHERE pin = ?1")?
                    .query_row([pin.as_str()], |r| r.get(0))
                    .optional()?;
                d.as_deref()
                    .map(|d| {
                        Ok(Self::placed(
                            &*crate::traits::PlaceStore::places(self)?,
                            from_detail(d)?,
                        ))
                    })
                    .transpose()
            },
        )
    }

    fn clinics(&self) -> Result<Vec<Clinic>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT detail FROM clinics ORDER BY pin")?;
        let rows = st.query_map([], |r| r.get::<String>(0))?;
        let places = crate::traits::PlaceStore::places(self)?;
        rows.map(|r| Ok(Self::placed(&places, from_detail(&r?)?)))
            .collect()
    }
}
