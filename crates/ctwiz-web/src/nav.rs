//! The one list of screens: the left-side menu (modules, each expandable to its screens,
//! as CT WiZ shows them), the help icon and "Learn more" link of every screen, and the
//! help pages themselves. A screen is shown in the menu only when the permission matrix
//! lets the user act there; the gate is the same `Action` its handler's use case asks for.

use crate::session::Ctx;
use ctwiz_core::access::Action;

/// Who sees a screen in the menu.
#[derive(Debug, Clone, Copy)]
pub enum Gate {
    /// Every signed-in user.
    Anyone,
    /// Users who may do this where they act.
    Can(Action),
    /// Users who may do any of these where they act.
    CanAny(&'static [Action]),
}

/// One screen of the application.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// The help page's key (`/help/<key>`).
    pub key: &'static str,
    /// The path; `{…}` segments match any one segment.
    pub path: &'static str,
    pub title: &'static str,
    /// The module (menu group) it belongs to; `None`: top-level entries.
    pub group: Group,
    /// Listed in the menu (screens of one record, e.g. a patient's, are reached from it).
    pub in_menu: bool,
    pub gate: Gate,
    /// One line under the title, next to "Learn more".
    pub summary: &'static str,
    /// The help page: paragraphs.
    pub help: &'static [&'static str],
}

/// The menu groups, in menu order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Home,
    Patients,
    Rosters,
    Inventory,
    ClinicTools,
    Reports,
    Tasks,
    Administration,
    Account,
    /// Pages used without signing in.
    Public,
}

impl Group {
    pub const MENU: [Group; 9] = [
        Group::Home,
        Group::Patients,
        Group::Rosters,
        Group::Inventory,
        Group::ClinicTools,
        Group::Reports,
        Group::Tasks,
        Group::Administration,
        Group::Account,
    ];

    /// The module's overview page, where it has one (else its first screen is used).
    pub fn landing(self) -> Option<&'static str> {
        match self {
            Group::Reports => Some("/reports"),
            Group::Administration => Some("/admin"),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Group::Home => "Home",
            Group::Patients => "Patient Management",
            Group::Rosters => "Student Rosters",
            Group::Inventory => "Inventory",
            Group::ClinicTools => "Clinic Tools",
            Group::Reports => "Reports",
            Group::Tasks => "Tasks",
            Group::Administration => "Administration",
            Group::Account => "My Account",
            Group::Public => "Signing in",
        }
    }
}

impl Screen {
    /// Whether `path` is this screen (exact segments; `{…}` matches one segment).
    pub fn matches(&self, path: &str) -> bool {
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
                _ => return false,
            }
        }
    }

    /// Whether the user's menu lists it.
    pub fn visible_to(&self, ctx: &Ctx) -> bool {
        match self.gate {
            Gate::Anyone => true,
            Gate::Can(a) => ctx.can(a),
            Gate::CanAny(xs) => xs.iter().any(|a| ctx.can(*a)),
        }
    }
}

/// The screen a path belongs to.
pub fn screen_for(path: &str) -> Option<&'static Screen> {
    SCREENS.iter().find(|s| s.matches(path))
}

/// The help page of `key`.
pub fn help_for(key: &str) -> Option<&'static Screen> {
    SCREENS.iter().find(|s| s.key == key)
}

/// The user's menu: each group they may use with its screens.
pub fn menu(ctx: &Ctx) -> Vec<(Group, Vec<&'static Screen>)> {
    Group::MENU
        .into_iter()
        .filter_map(|g| {
            let screens: Vec<_> = SCREENS
                .iter()
                .filter(|s| s.group == g && s.in_menu && s.visible_to(ctx))
                .collect();
            (!screens.is_empty()).then_some((g, screens))
        })
        .collect()
}

use Gate::{Anyone, Can, CanAny};

/// Every screen, in menu order within its group.
pub static SCREENS: &[Screen] = &[
    Screen {
        key: "home",
        path: "/",
        title: "Home",
        group: Group::Home,
        in_menu: true,
        gate: Anyone,
        summary: "Your tasks, notifications, a quick patient search and the patients you opened last.",
        help: &[
            "Home is where each session starts. At the top it counts your open tasks (work waiting for you, such as orders to receive or requests to review) and your unread notifications.",
            "Quick search finds a patient by name or ID without leaving the page. Recently viewed lists the last patients whose record you opened, newest first; a record that you may no longer see (for example one that became confidential) is left out.",
            "The left-side menu lists the modules your access type gives you where you are acting. Select a module's name (+) to open its screens.",
        ],
    },
    Screen {
        key: "patient-search",
        path: "/patients",
        title: "Search patients",
        group: Group::Patients,
        in_menu: true,
        gate: Can(Action::PatientSearch),
        summary: "Find a patient by name, date of birth or ID before adding a record.",
        help: &[
            "Search by last name, first name and date of birth, or by the patient's ID. Names match regardless of accents and case; a partial last name matches the start of the name.",
            "Always search before adding a patient: the registry holds one record per person, and a duplicate splits the child's history.",
            "Records that are confidential or whose family opted out of the registry are not listed unless your clinic has a relationship with the patient.",
            "Every search and every record opened is logged with your name, clinic and time.",
        ],
    },
    Screen {
        key: "patient-add",
        path: "/patients/new",
        title: "Add a patient",
        group: Group::Patients,
        in_menu: true,
        gate: Can(Action::PatientEdit),
        summary: "Create a new patient record after searching.",
        help: &[
            "Enter the legal name, date of birth and sex, then the address and the guardians' contacts used for reminder/recall.",
            "When the new record looks like one already in the registry, nothing is saved yet: the possible matches are shown with the evidence for each. Open the existing record if it is the same person, or confirm to create a new one.",
        ],
    },
    Screen {
        key: "duplicates",
        path: "/patients/duplicates",
        title: "Possible duplicates",
        group: Group::Patients,
        in_menu: true,
        gate: Can(Action::PatientMerge),
        summary: "Records that may be the same person, grouped, strongest first.",
        help: &[
            "Each group joins records that the matching engine scored as possibly the same person. Each pair shows its probability and the evidence of every field (name, date of birth, address, phone, mother's maiden name).",
            "Compare a pair side by side, then merge it or dismiss it. Twins share a date of birth and family name but have different given names: dismiss them.",
            "A merge keeps every dose of both records and can be undone from the surviving record's page; both the merge and the unmerge are logged.",
        ],
    },
    Screen {
        key: "duplicate-compare",
        path: "/patients/duplicates/{review}",
        title: "Compare records",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::PatientMerge),
        summary: "Two records side by side, with the evidence for and against one person.",
        help: &[
            "The left record survives a merge; the right one is retired and points to it. Doses, identifiers and contacts of both are kept.",
            "Dismiss the pair when they are different people; it will not be proposed again.",
        ],
    },
    Screen {
        key: "patient-record",
        path: "/patients/{id}",
        title: "Patient record",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::PatientView),
        summary: "Demographics, immunization history and the Recommender for one patient.",
        help: &[
            "The history lists every dose reported by any provider, grouped by vaccine, with whether CDC's schedule counts it as valid and why not.",
            "The Recommender (CDC CDSi) shows, for each vaccine group, the series status and the next dose with its earliest, recommended, past-due and latest dates.",
            "From here you can add a dose, record a refusal, exemption or evidence of immunity, print the official record or a certificate, and see who viewed the record (disclosures).",
        ],
    },
    Screen {
        key: "patient-edit",
        path: "/patients/{id}/edit",
        title: "Edit patient",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::PatientEdit),
        summary: "Correct demographics, contacts, consent and confidentiality.",
        help: &[
            "Changes are logged with the previous values. Marking a record confidential limits it to providers with a relationship to the patient; opting out removes it from searches and reports.",
        ],
    },
    Screen {
        key: "dose-add",
        path: "/patients/{id}/doses/new",
        title: "Add a dose",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::DoseRecord),
        summary: "Record a dose given here or a historical dose.",
        help: &[
            "The vaccine list shows first what the Recommender says is due for this patient today, then what your clinic has in stock, then other US-licensed vaccines. Retired or foreign vaccines are found by typing their CVX code or name in the search field.",
            "A dose given here from a public lot takes that lot out of your inventory. A historical dose (given elsewhere) does not touch inventory.",
        ],
    },
    Screen {
        key: "official-record",
        path: "/patients/{id}/record",
        title: "Official immunization record",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::CertificatePrint),
        summary: "The printable record and certificates for school, childcare, camp, college and travel.",
        help: &[
            "Certificates are PDF files signed by the registry and carry a SMART Health Card QR code that anyone can verify. Each print is logged as a disclosure.",
        ],
    },
    Screen {
        key: "disclosures",
        path: "/patients/{id}/disclosures",
        title: "Disclosures",
        group: Group::Patients,
        in_menu: false,
        gate: Can(Action::AuditView),
        summary: "Who saw or received this record, when, and through which door.",
        help: &[
            "Every view, print, query answer and release of the record is listed with the user or system, the clinic and the time, as the disclosure accounting a patient may ask for.",
        ],
    },
    Screen {
        key: "outreach",
        path: "/outreach",
        title: "IAP referrals",
        group: Group::Patients,
        in_menu: true,
        gate: CanAny(&[Action::ReferralCreate, Action::ReferralWork]),
        summary: "Refer a child who is behind to IAP outreach; coordinators record attempts and outcomes.",
        help: &[
            "A practice refers a child who is behind (from its clean-up or reminder/recall list) by the child's ctwiz id and what is missing. The referral goes to the Immunization Action Plan (IAP) area of the town the child lives in, and the area's coordinators are notified. A child has at most one open referral.",
            "IAP coordinators see the referrals of their area, record each attempt to reach the family (phone, postcard, letter, text, home visit) and close the referral with its outcome: brought up to date, new primary care provider identified, moved out of state (the record is then marked moved or gone elsewhere), unreachable, or declined.",
        ],
    },
    Screen {
        key: "rosters",
        path: "/rosters",
        title: "Student rosters",
        group: Group::Rosters,
        in_menu: true,
        gate: Can(Action::RosterView),
        summary: "Your school's students whose records you may open.",
        help: &[
            "School nurses see only the students on their school's roster. Add a student with the first name, last name and date of birth exactly as the family gives them: the student is added only when exactly one record matches.",
            "Remove students who have left the school; you then no longer see their record.",
        ],
    },
    Screen {
        key: "inventory",
        path: "/inventory",
        title: "Lots and stock",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Vaccine lots on hand, receipts, wastage and transfers.",
        help: &[
            "Each lot shows its vaccine, funding (public CVP/CVFA or private), expiration and doses on hand. Alerts flag expired and soon-expiring lots and low stock.",
            "Receive a shipment, record wasted or expired doses with the reason, or transfer doses to another clinic. Doses given from a lot are taken out automatically.",
        ],
    },
    Screen {
        key: "reconcile",
        path: "/inventory/reconcile",
        title: "Reconcile inventory",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryEdit),
        summary: "Count every lot and record the differences, monthly.",
        help: &[
            "CVP clinics reconcile their public vaccine every month before ordering. Enter the physical count of each lot; a difference needs a reason. Either every count is saved or none is.",
        ],
    },
    Screen {
        key: "orders",
        path: "/inventory/orders",
        title: "Vaccine orders",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Order public vaccine, follow approval and receive shipments.",
        help: &[
            "The suggested quantities come from your use over the last months and your stock on hand. Add as many vaccines as the order needs.",
            "The state approves (possibly changing quantities, with a note) or rejects each order; you are notified of the decision. Receive an approved order when the shipment arrives, entering each lot.",
            "A CVP clinic needs a current signed program agreement to order.",
        ],
    },
    Screen {
        key: "allocations",
        path: "/inventory/allocations",
        title: "Vaccine allocations",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Doses of a scarce vaccine each clinic may order in a period.",
        help: &[
            "When a vaccine is scarce (a new or pandemic vaccine, a supply shortage), DPH vaccine management allocates how many doses each clinic may order between two dates. Orders placed in the period and not rejected count against it, at the approved quantity once decided.",
            "An order that asks for more than remains is refused, naming the allocation, what was already ordered and what remains. Clinics see their own allocations here.",
        ],
    },
    Screen {
        key: "inventory-exceptions",
        path: "/inventory/exceptions",
        title: "Inventory exceptions",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Doses reported from lots not in your stock, to settle.",
        help: &[
            "A dose reported by your EHR or entered with a lot number that is not in your inventory is listed here. Settle it by choosing the lot it came from, or mark it private stock.",
        ],
    },
    Screen {
        key: "inventory-report",
        path: "/inventory/report",
        title: "Inventory movement report",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Receipts, doses given, wastage and transfers over a period.",
        help: &[
            "Totals per clinic, vaccine, funding and kind of movement between two dates (the last three months unless you choose).",
        ],
    },
    Screen {
        key: "lot-usage",
        path: "/inventory/lot-usage",
        title: "Lot usage",
        group: Group::Inventory,
        in_menu: true,
        gate: Can(Action::InventoryView),
        summary: "Which patients received doses from a lot (for a recall of the lot).",
        help: &[
            "Enter a lot number to list every dose given from it. Use it when a manufacturer recalls a lot or doses were stored out of range.",
        ],
    },
    Screen {
        key: "onboarding",
        path: "/onboarding",
        title: "Onboarding",
        group: Group::ClinicTools,
        in_menu: true,
        gate: CanAny(&[Action::ClinicToolsView, Action::ChangeRequestReview]),
        summary: "The Application for Electronic Reporting and each step to going live.",
        help: &[
            "A clinic's coordinator files the Application for Electronic Reporting: how the clinic will report (its EHR sends HL7, or staff enter doses here), the EHR vendor and product, and a technical contact.",
            "An EHR clinic then shows SOAP connectivity, sends test messages in QA (answered and logged, not stored), and DPH reviews the QA messages' errors: it signs off (production: messages are stored from then on) or sends the clinic back to QA with notes. A direct-entry clinic registers for training and its coordinator adds its staff before DPH turns it live.",
            "Each stage shows when and by whom it was reached. Once live, the Notice to Patients about reporting (English and Spanish) can be downloaded here.",
        ],
    },
    Screen {
        key: "onboarding-clinic",
        path: "/onboarding/{pin}",
        title: "Onboarding",
        group: Group::ClinicTools,
        in_menu: false,
        gate: CanAny(&[Action::ClinicToolsView, Action::ChangeRequestReview]),
        summary: "A clinic's application, stage, history, next step and QA results.",
        help: &[
            "DPH moves the clinic one stage at a time, or from the DQA review back to QA with notes saying what to fix. The clinic's coordinators are notified of every move.",
        ],
    },
    Screen {
        key: "clinic-tools",
        path: "/clinic-tools",
        title: "Clinic information",
        group: Group::ClinicTools,
        in_menu: true,
        gate: Can(Action::ClinicToolsView),
        summary: "Your clinic's details, staff, program agreement and change requests.",
        help: &[
            "Phone, fax and vaccine delivery days and hours change at once. Name, address and staff changes are change requests that the state approves or rejects; the Change Request History shows each with its reviewer and reason.",
            "Staff must be listed here before they can request an account for the clinic.",
            "The physician signing the agreement signs the CVP (children) or CVFA (adults) program agreement here every year; without a current agreement the clinic cannot order public vaccine.",
        ],
    },
    Screen {
        key: "reports",
        path: "/reports",
        title: "Reports",
        group: Group::Reports,
        in_menu: false,
        gate: Anyone,
        summary: "The reports your access type runs for where you act.",
        help: &[
            "Each report covers the clinic, school or area you act for. Patient-level lists are logged as disclosures.",
        ],
    },
    Screen {
        key: "distributed",
        path: "/reports/distributed",
        title: "Distributed reports",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "Lists DPH sends to your practice each month and each year.",
        help: &[
            "On the first of each month DPH sends every practice its compliancy list: the children who turn 8 or 20 months that month, whether they will be up to date on that day, and the vaccines missing or invalid. Once a year the two-year-old clean-up lists the practice's children 24–35 months old who are not up to date.",
            "Each list arrives as a task, a notification and an e-mail notice. Open it to see the children (each links to the record) or download it as CSV; the task is done once someone at the practice has opened it.",
        ],
    },
    Screen {
        key: "distributed-report",
        path: "/reports/distributed/{id}",
        title: "Distributed report",
        group: Group::Reports,
        in_menu: false,
        gate: Can(Action::ReportCoverage),
        summary: "One distributed list: each child with what is missing.",
        help: &[
            "Bring each child up to date, or correct the record: add historical doses given elsewhere, or mark a child who moved or goes elsewhere.",
        ],
    },
    Screen {
        key: "realtime",
        path: "/reports/realtime",
        title: "Real-time reporting",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "How quickly each practice's doses reach the registry.",
        help: &[
            "For the doses each practice administered in the period: how many were recorded within 48 hours, the median lag, and whether they came from the practice's EHR (HL7) or were entered here (UI). A practice reports in real time when at least 90% of its doses arrive within 48 hours.",
            "Doses carry their day of administration, not the hour, so administration is counted from noon of that day. Historical doses (given elsewhere) are not counted.",
        ],
    },
    Screen {
        key: "coverage",
        path: "/reports/coverage",
        title: "Coverage (AFIX)",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "Share of children up to date by the 2nd birthday, by antigen and series.",
        help: &[
            "The 4:3:1:3:3:1:4 series (DTaP, polio, MMR, Hib, hepatitis B, varicella, PCV) is counted at the second birthday using only valid doses. Also adolescent and flu coverage, missed opportunities and the children behind.",
        ],
    },
    Screen {
        key: "compliancy",
        path: "/reports/compliancy",
        title: "Compliancy at 8 and 20 months",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "Children up to date at 8 and 20 months, per clinic.",
        help: &[
            "Counts the children reaching 8 or 20 months in the period and how many were up to date for their age.",
        ],
    },
    Screen {
        key: "cleanup",
        path: "/reports/cleanup",
        title: "Two-year-old clean-up",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "Children 24–35 months not up to date, with what is missing.",
        help: &[
            "Use it to bring records and children up to date before the yearly assessment: each child with the missing or invalid doses.",
        ],
    },
    Screen {
        key: "trend",
        path: "/reports/trend",
        title: "Coverage trend",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportCoverage),
        summary: "Childhood coverage month by month over the last two years.",
        help: &[
            "Each point is the 4:3:1:3:3:1:4 coverage (and each antigen's) of the children aged 24–35 months on that day, counting the doses recorded by then, for the clinic, health department, IAP area or state you report for. A falling line answers \"have rates declined?\"; the table and the CSV give the figures behind the chart.",
        ],
    },
    Screen {
        key: "recall",
        path: "/reports/recall",
        title: "Reminder/recall",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportReminderRecall),
        summary: "Patients due or overdue, with contacts; record the notices sent.",
        help: &[
            "Choose the window and age range. The list shows each patient's due vaccines and contacts. After sending letters, calls or texts, record them so the next list shows when each patient was last reminded.",
        ],
    },
    Screen {
        key: "dqa",
        path: "/reports/dqa",
        title: "DQA – Interface activity",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportDqa),
        summary: "HL7 messages received, accepted and rejected, by error code.",
        help: &[
            "For each facility and day: messages received, accepted, rejected, and warnings and errors by code, with examples. Fix the top errors in your EHR's interface first.",
        ],
    },
    Screen {
        key: "students",
        path: "/reports/students",
        title: "Students not up to date",
        group: Group::Reports,
        in_menu: true,
        gate: Can(Action::ReportRosterStatus),
        summary: "Rostered students with a vaccine past due, and what each is missing.",
        help: &[
            "Uses the same rule as reminder/recall: a vaccine is missing when its next dose is past due today.",
        ],
    },
    Screen {
        key: "tasks",
        path: "/tasks",
        title: "Tasks",
        group: Group::Tasks,
        in_menu: true,
        gate: Can(Action::TaskView),
        summary: "Your pending work; each task links to where it is done.",
        help: &[
            "A task disappears when its work is done: requests reviewed, orders received, the month's inventory reconciled, interface errors corrected, due patients reminded.",
        ],
    },
    Screen {
        key: "notifications",
        path: "/notifications",
        title: "Notifications",
        group: Group::Tasks,
        in_menu: true,
        gate: Anyone,
        summary: "Decisions on your requests and orders, alerts and reports sent to you.",
        help: &[
            "The bell at the top right counts unread notifications and your clinic's stock and order alerts. Opening a notification marks it read and takes you to its screen. Notifications are kept 90 days.",
        ],
    },
    Screen {
        key: "administration",
        path: "/admin",
        title: "Administration",
        group: Group::Administration,
        in_menu: false,
        gate: Anyone,
        summary: "The state's account, clinic and agreement work.",
        help: &[
            "DPH administrators review account requests and clinic change requests, follow program agreements and manage users. What appears depends on your DPH access type.",
        ],
    },
    Screen {
        key: "account-requests",
        path: "/admin/requests",
        title: "Account requests",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::AccountApprove),
        summary: "Approve or deny requests for access.",
        help: &[
            "Approving creates the account and e-mails the username and, separately, a temporary password. Denying needs a reason, which is e-mailed to the requester.",
        ],
    },
    Screen {
        key: "change-requests",
        path: "/admin/change-requests",
        title: "Clinic change requests",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::ChangeRequestReview),
        summary: "Clinics' name, address and staff changes to approve or reject.",
        help: &[
            "Approving applies the change to the clinic; rejecting needs a reason. The requester is notified either way.",
        ],
    },
    Screen {
        key: "enrollment",
        path: "/admin/clinics",
        title: "Clinics and program enrollment",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::ClinicManage),
        summary: "Enroll clinics in CVP, CVFA or both, or mark them private only.",
        help: &[
            "A clinic orders and gives a program's vaccine only while enrolled in it. Leaving a program is refused while the clinic still holds that program's vaccine or has open orders of it: use, transfer or return the stock and settle the orders first.",
            "Each change is recorded in the audit log; the same change can be made with the command ctwiz clinic enroll.",
        ],
    },
    Screen {
        key: "agreements",
        path: "/admin/agreements",
        title: "Program agreements",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::ClinicManage),
        summary: "CVP clinics without a current signed agreement.",
        help: &[
            "A clinic's signature lasts twelve months. Clinics listed here cannot order public vaccine until their physician signs.",
        ],
    },
    Screen {
        key: "users",
        path: "/admin/users",
        title: "Users",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::UserManage),
        summary: "Unlock, deactivate or correct accounts and change access.",
        help: &[
            "Every help-desk action is logged and e-mailed to the user, so a change they did not ask for is noticed.",
        ],
    },
    Screen {
        key: "outbox",
        path: "/admin/outbox",
        title: "E-mail and text outbox",
        group: Group::Administration,
        in_menu: true,
        gate: Can(Action::UserManage),
        summary: "Messages the system sent or is sending.",
        help: &[
            "Messages wait here until the mail relay accepts them; failures are retried.",
        ],
    },
    Screen {
        key: "password",
        path: "/account/password",
        title: "Change password",
        group: Group::Account,
        in_menu: true,
        gate: Anyone,
        summary: "Choose a new password and your security questions.",
        help: &[
            "Passwords need at least 12 characters and may not be common or contain your username. The two security questions let you reset a forgotten password yourself.",
        ],
    },
    Screen {
        key: "help",
        path: "/help",
        title: "Help",
        group: Group::Account,
        in_menu: true,
        gate: Anyone,
        summary: "Every screen's help page.",
        help: &["Each screen's help icon (?) and Learn more link open its page here."],
    },
    Screen {
        key: "sign-in",
        path: "/sign-in",
        title: "Sign in",
        group: Group::Public,
        in_menu: false,
        gate: Anyone,
        summary: "Sign in with your username and password.",
        help: &[
            "After several wrong passwords signing in is locked for a while. See Trouble Logging In? for forgotten usernames and passwords.",
        ],
    },
    Screen {
        key: "request-account",
        path: "/request-account",
        title: "Request an account",
        group: Group::Public,
        in_menu: false,
        gate: Anyone,
        summary: "Ask the DPH state team for access.",
        help: &[
            "Name each clinic by its PIN with the access type you need there (several PINs may share a row, separated by commas). For a clinic enrolled in CVP your e-mail must be on the clinic's staff list. Health department staff name their health department or district; DPH staff ask for a DPH access type. School nurses confirm that they are the school's registered nurse.",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_has_a_unique_key_and_path_and_help() {
        for (i, s) in SCREENS.iter().enumerate() {
            assert!(!s.help.is_empty() && !s.summary.is_empty(), "{}", s.key);
            for t in &SCREENS[i + 1..] {
                assert_ne!(s.key, t.key);
                assert_ne!(s.path, t.path);
            }
        }
    }

    #[test]
    fn paths_find_their_screen() {
        assert_eq!(screen_for("/").unwrap().key, "home");
        assert_eq!(screen_for("/patients").unwrap().key, "patient-search");
        assert_eq!(screen_for("/patients/new").unwrap().key, "patient-add");
        assert_eq!(screen_for("/patients/42").unwrap().key, "patient-record");
        assert_eq!(
            screen_for("/patients/duplicates").unwrap().key,
            "duplicates"
        );
        assert_eq!(
            screen_for("/patients/duplicates/7").unwrap().key,
            "duplicate-compare"
        );
        assert_eq!(
            screen_for("/patients/42/doses/new").unwrap().key,
            "dose-add"
        );
        assert!(screen_for("/patients/").is_none());
        assert!(screen_for("/nowhere").is_none());
    }

    #[test]
    fn the_password_help_states_the_policy_in_force() {
        let min = ctwiz_store::accounts::MIN_PASSWORD_CHARS;
        assert!(
            help_for("password").unwrap().help[0].contains(&format!("at least {min} characters"))
        );
    }
}
