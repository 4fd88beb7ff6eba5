//! The official immunization certificate as an HTML page for the browser's print, and the
//! downloads (PDF, `.smart-health-card`). The document, its card and its PDF come from
//! `ctwiz_store::usecase::certificates`, the one generator every door uses.

use ctwiz_core::certificate::{Certificate, CertificateKind};
use maud::{html, Markup};

fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// The `?kind=` of the certificate pages (default: school).
#[derive(Debug, serde::Deserialize, Default)]
pub struct KindQuery {
    pub kind: Option<String>,
}

impl KindQuery {
    pub fn kind(&self) -> Result<CertificateKind, crate::error::AppError> {
        match self.kind.as_deref().filter(|k| !k.is_empty()) {
            None => Ok(CertificateKind::School),
            Some(k) => CertificateKind::parse(k)
                .map_err(|e| crate::error::AppError::BadRequest(e.to_string())),
        }
    }
}

/// Links to each kind of certificate for record `base` (e.g. `/patients/7/record`).
pub fn kind_links(base: &str, current: CertificateKind) -> Markup {
    html! {
        nav.tabs.no-print aria-label="Certificate kind" {
            @for k in CertificateKind::ALL {
                @if k == current {
                    strong { (k.title()) }
                } @else {
                    a href={ (base) "?kind=" (k.code()) } { (k.title()) }
                }
                " "
            }
        }
    }
}

pub fn html(c: &Certificate) -> Markup {
    html! {
        article.record {
            h2 { (c.kind.title()) }
            p.muted { "Official record from the " (c.registry) }
            dl.facts {
                dt { "Name" } dd { (c.name) }
                dt { "Date of birth" } dd { (us_date(c.dob)) }
                dt { "Sex" } dd { (c.sex) }
                dt { "Registry ID" } dd { (c.patient) }
            }
            (history(c))
            p.muted { "Issued by " (c.issuer) " on " (us_date(c.issued)) " from the " (c.registry) "." }
            div.signature {
                div { "Authorized signature" }
                div { "Date" }
            }
        }
    }
}

/// The record's doses by vaccine group, evidence of immunity and exemptions: the body of
/// the certificate, and the history the portal shows.
pub fn history(c: &Certificate) -> Markup {
    html! {
        h3 { "Immunizations" }
        @if c.groups.is_empty() { p { "No immunizations on record." } } @else {
            table {
                thead { tr { th { "Vaccine group" } th { "Vaccine" } th { "Date given" } } }
                tbody {
                    @for g in &c.groups {
                        @for (i, d) in g.doses.iter().enumerate() {
                            tr {
                                td { @if i == 0 { strong { (g.group) } } }
                                td { (d.vaccine) }
                                td { (us_date(d.date)) }
                            }
                        }
                    }
                }
            }
        }
        @if !c.immunity.is_empty() {
            h3 { "Evidence of immunity" }
            table {
                thead { tr { th { "Evidence" } th { "Date recorded" } } }
                tbody { @for i in &c.immunity { tr { td { (i.evidence) } td { (us_date(i.date)) } } } }
            }
        }
        @if !c.exemptions.is_empty() {
            h3 { @if c.kind == CertificateKind::Travel { "Medical exemptions" } @else { "Exemptions and refusals" } }
            table {
                thead { tr { th { "Kind" } th { "Vaccine or condition" } th { "Date" } } }
                tbody {
                    @for e in &c.exemptions {
                        tr { td { strong { (e.kind.label()) } } td { (e.subject) " (" (e.detail) ")" } td { (us_date(e.date)) } }
                    }
                }
            }
        }
    }
}
