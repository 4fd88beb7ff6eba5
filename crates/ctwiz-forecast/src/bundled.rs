//! The CDC CDSi supporting data release 4.64, embedded in the binary.
//! See `data/supporting-data-4.64/PROVENANCE.md`.

/// Supporting data release bundled with this crate.
pub const BUNDLED_RELEASE: &str = "4.64";

/// `ScheduleSupportingData.xml` of the bundled release.
pub const SCHEDULE_XML: &str =
    include_str!("../data/supporting-data-4.64/ScheduleSupportingData.xml");

/// Every `AntigenSupportingData- *.xml` of the bundled release.
pub const ANTIGEN_XMLS: &[&str] = &[
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- COVID-19-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Chikungunya-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Cholera-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Dengue-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Diphtheria-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Ebola-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- HPV-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- HepA-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- HepB-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Hib-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Influenza-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- JE-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Measles-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Meningococcal B-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Meningococcal-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Mumps-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Orthopoxvirus-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Pertussis-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Pneumococcal-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Polio-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- RSV-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Rabies-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Rotavirus-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Rubella-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- TBE-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Tetanus-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Typhoid-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Varicella-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- YF-508.xml"),
    include_str!("../data/supporting-data-4.64/AntigenSupportingData- Zoster-508.xml"),
];
