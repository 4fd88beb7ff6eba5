//! Organizations: clinics (providers that report and order vaccine) and the
//! health-department jurisdictions they belong to.

use crate::error::{CoreError, Result};
use crate::ids::{name_text, ClinicPin, Email, Phone};
use crate::patient::Address;
use serde::{Deserialize, Serialize};

/// Connecticut's eight counties: the unit of health-department jurisdiction in ctwiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum County {
    Fairfield,
    Hartford,
    Litchfield,
    Middlesex,
    NewHaven,
    NewLondon,
    Tolland,
    Windham,
}

impl County {
    pub const ALL: [County; 8] = [
        County::Fairfield,
        County::Hartford,
        County::Litchfield,
        County::Middlesex,
        County::NewHaven,
        County::NewLondon,
        County::Tolland,
        County::Windham,
    ];

    pub fn name(self) -> &'static str {
        match self {
            County::Fairfield => "Fairfield",
            County::Hartford => "Hartford",
            County::Litchfield => "Litchfield",
            County::Middlesex => "Middlesex",
            County::NewHaven => "New Haven",
            County::NewLondon => "New London",
            County::Tolland => "Tolland",
            County::Windham => "Windham",
        }
    }

    /// FIPS county code (state 09), as used in HL7 XAD-9.
    pub fn fips(self) -> &'static str {
        match self {
            County::Fairfield => "09001",
            County::Hartford => "09003",
            County::Litchfield => "09005",
            County::Middlesex => "09007",
            County::NewHaven => "09009",
            County::NewLondon => "09011",
            County::Tolland => "09013",
            County::Windham => "09015",
        }
    }

    /// Parses a county by name (any case, spaces optional) or FIPS code.
    pub fn parse(s: &str) -> Result<County> {
        let norm: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
            .collect::<String>()
            .to_lowercase();
        County::ALL
            .into_iter()
            .find(|c| {
                c.name().replace(' ', "").to_lowercase() == norm
                    || c.fips() == norm
                    || c.fips()[2..] == norm
            })
            .ok_or_else(|| CoreError::Unknown {
                field: "county",
                value: s.into(),
                valid: County::ALL.map(|c| c.name()).join(", "),
            })
    }
}

impl std::fmt::Display for County {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub use crate::program::ProgramType;

/// A provider site registered in the IIS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clinic {
    pub pin: ClinicPin,
    pub name: String,
    pub address: Option<Address>,
    pub phone: Option<Phone>,
    pub fax: Option<Phone>,
    pub email: Option<Email>,
    /// Free text such as "Mon–Fri 9:00–16:00", used by vaccine shipments.
    pub delivery_hours: Option<String>,
    pub program: ProgramType,
    pub county: County,
    pub active: bool,
    /// The clinic's staff list, kept by its coordinators through change requests
    /// (`clinic_info`); a CVP clinic's staff must be listed before they request access.
    #[serde(default)]
    pub staff: Vec<crate::clinic_info::StaffMember>,
    /// Where the clinic is (town, health department, IAP area), derived from its address
    /// by the towns table when the store reads it; never stored.
    #[serde(skip)]
    pub at: crate::place::Locality,
}

impl Clinic {
    pub fn new(pin: ClinicPin, name: &str, county: County, program: ProgramType) -> Result<Self> {
        Ok(Clinic {
            pin,
            name: name_text("clinic name", name, 120)?,
            address: None,
            phone: None,
            fax: None,
            email: None,
            delivery_hours: None,
            program,
            county,
            active: true,
            staff: Vec::new(),
            at: crate::place::Locality::county(county),
        })
    }

    /// The permission target for acting on this clinic's data.
    pub fn target(&self) -> crate::access::Target<'_> {
        crate::access::Target::Clinic {
            pin: &self.pin,
            at: self.at.location(),
        }
    }

    /// Whether the clinic is enrolled in any public program (CVP, CVFA).
    pub fn orders_public_vaccine(&self) -> bool {
        self.program.is_public()
    }
}

/// A local health department or district and the counties it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jurisdiction {
    pub code: String,
    pub name: String,
    pub counties: Vec<County>,
}

impl Jurisdiction {
    /// One jurisdiction per county: ctwiz's default when no finer districts are configured.
    pub fn for_county(c: County) -> Jurisdiction {
        Jurisdiction {
            code: c.fips().to_string(),
            name: format!("{} County", c.name()),
            counties: vec![c],
        }
    }

    pub fn covers(&self, c: County) -> bool {
        self.counties.contains(&c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_parse_by_name_or_fips() {
        assert_eq!(County::parse("new haven").unwrap(), County::NewHaven);
        assert_eq!(County::parse("NewLondon").unwrap(), County::NewLondon);
        assert_eq!(County::parse("09003").unwrap(), County::Hartford);
        let e = County::parse("Kings").unwrap_err().to_string();
        assert!(e.contains("Kings") && e.contains("Windham"), "{e}");
    }

    #[test]
    fn private_clinics_do_not_order_public_vaccine() {
        let c = Clinic::new(
            ClinicPin::new("P100").unwrap(),
            "Shoreline Peds",
            County::Middlesex,
            ProgramType::PrivateOnly,
        )
        .unwrap();
        assert!(!c.orders_public_vaccine());
        assert!(Jurisdiction::for_county(County::Middlesex).covers(c.county));
    }
}
