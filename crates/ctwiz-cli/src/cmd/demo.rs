use super::seed::{self, SeedArgs};
use super::{db, CliResult};
use crate::config;
use crate::output;
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::agreement::Signature;
use ctwiz_core::ids::{Email, Username};
use ctwiz_core::synth;
use ctwiz_store::agreements::AgreementStore;
use ctwiz_store::{accounts, OrgStore, PatientStore, UserStore};
use std::path::Path;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Children in the demo population.
    #[arg(long, default_value_t = 2_000)]
    pub children: u64,
    /// Only prepare the database; don't start the web server.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the web server listens [env CTWIZ_ADDR; file web.addr; default 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<std::net::SocketAddr>,
}

pub fn run(path: &Path, a: DemoArgs, file: Option<&config::Loaded>) -> CliResult {
    // The demo sends this month's compliancy and this year's clean-up at once, so each
    // practice finds them among its tasks; the rest is as `serve` would have it.
    let flags = config::ServeFlags {
        addr: a.addr,
        cleanup_day: Some("01-01".parse()?),
        ..Default::default()
    };
    // Checked before the work of seeding, so a bad setting fails at once.
    let settings = if a.no_serve {
        None
    } else {
        Some(config::ServeSettings::resolve(
            &flags,
            &config::process_env,
            file,
        )?)
    };
    let store = db::open(path)?;
    if store.patient_count()? == 0 {
        let args = SeedArgs {
            children: a.children,
            clinics: 12,
            seed: 2026,
            as_of: None,
            duplicates: seed::DEFAULT_DUPLICATE_RATE,
            twins: seed::DEFAULT_TWIN_RATE,
            truth: None,
        };
        let r = seed::seed(&store, &args, true)?;
        println!(
            "seeded {} patient records with {} doses in {:.1} s",
            r.patients, r.doses, r.seconds
        );
        // Every public-program clinic but the demo users' own has this year's agreement;
        // the demo physician signs that one in Clinic Tools before it can order.
        let home = synth::clinic_pin(0);
        let now = chrono::Local::now().naive_local();
        for c in store.clinics()? {
            if c.pin == home {
                continue;
            }
            for p in c.program.programs() {
                let s = Signature::new(&c, p, "Demo Physician", true, "demo", now)?;
                store.add_signature(&s)?;
            }
        }
        println!(
            "clinic {home} has no program agreement yet: sign in as demo-physician-signing and sign it in Clinic Tools before ordering public vaccine"
        );
    } else {
        println!(
            "database {} already has patients; keeping them",
            ctwiz_store::db_for_display(path)
        );
    }
    let home = synth::clinic_pin(0);
    let home_clinic = store.clinic(&home)?.ok_or("the demo clinic is missing")?;
    let mut t = output::table(&["Username", "Access type", "Where", "Temporary password"]);
    for role in Role::ALL {
        let username = Username::new(&format!("demo-{}", role.key()))?;
        if store.account(&username)?.is_some() {
            t.add_row(vec![
                username.to_string(),
                role.label().into(),
                "(exists)".into(),
                "(unchanged)".into(),
            ]);
            continue;
        }
        let scope = match role.scope_kind() {
            ctwiz_core::access::ScopeKind::Clinic => Scope::Clinic(home.clone()),
            ctwiz_core::access::ScopeKind::Jurisdiction => {
                // The IAP area, or the health department or district, of the clinic's
                // town.
                use ctwiz_core::place::Jurisdiction as J;
                let at = &home_clinic.at;
                Scope::Jurisdiction(match (role, &at.iap_area, &at.health_department) {
                    (Role::IapCoordinator, Some(a), _) => J::IapArea(a.clone()),
                    (Role::IapCoordinator, None, _) => J::IapArea(
                        ctwiz_store::PlaceStore::places(&store)?
                            .iap_areas()
                            .first()
                            .ok_or("the towns table has no IAP area")?
                            .to_string(),
                    ),
                    (_, _, Some(h)) => J::HealthDepartment(h.clone()),
                    _ => J::County(home_clinic.county),
                })
            }
            ctwiz_core::access::ScopeKind::State => Scope::State,
        };
        let mut u = User::new(
            username.clone(),
            role.label(),
            Email::new(&format!("{}@demo.ctwiz.example.org", role.key()))?,
        )?;
        let where_ = match &scope {
            Scope::Clinic(p) => format!("clinic {p}"),
            Scope::Jurisdiction(c) => c.label(),
            Scope::State => "statewide".into(),
        };
        u.grant(Grant::new(role, scope)?);
        let (_, temp) = accounts::create_with_temporary_password(&store, &u)?;
        t.add_row(vec![
            username.to_string(),
            role.label().into(),
            where_,
            temp,
        ]);
    }
    println!("{t}");
    println!("Demo database: {}", ctwiz_store::db_for_display(path));
    println!("Next: `ctwiz patient search --name Smith`, `ctwiz patient show 1`, `ctwiz report coverage`.");
    if let Some(settings) = settings {
        drop(store);
        let addr = settings.addr.value;
        println!("Sign in at http://{addr} with a username above and its temporary password.");
        println!(
            "Public portal (no account): http://{addr}/portal; its codes wait in the outbox (state admin: /admin/outbox)."
        );
        super::serve::start(path, &settings)?;
    }
    Ok(())
}
