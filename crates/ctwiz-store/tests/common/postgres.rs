//! A fresh PostgreSQL database per test, on the server named by `CTWIZ_TEST_POSTGRES`
//! (`scripts/postgres-temp.sh` starts one; `.ci/run` always does). Without the variable
//! the PostgreSQL tests are skipped, except under CI, where that is a failure.

use ctwiz_store::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);
static CLEANED: std::sync::Once = std::sync::Once::new();

/// Drops the databases of earlier test processes that have ended (each test makes one, a
/// few megabytes each, and a process cannot drop its own while its stores are open).
fn drop_leftovers(admin: &mut postgres::Client) {
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'ctwiz_t%'",
            &[],
        )
        .expect("list test databases");
    for row in rows {
        let name: String = row.get(0);
        let pid = name
            .trim_start_matches("ctwiz_t")
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The server's URL, or `None` (test skipped) outside CI.
pub fn server() -> Option<String> {
    match std::env::var("CTWIZ_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CTWIZ_TEST_POSTGRES is not set under CI: start scripts/postgres-temp.sh")
        }
        _ => {
            eprintln!("skipped: set CTWIZ_TEST_POSTGRES (scripts/postgres-temp.sh) to run");
            None
        }
    }
}

/// The URL of a new database with the C collation, migrated to this build's schema.
pub fn fresh_database(server: &str) -> String {
    new_database(server, true)
}

/// The URL of a new, empty database with the C collation (nothing migrated).
pub fn empty_database(server: &str) -> String {
    new_database(server, false)
}

fn new_database(server: &str, migrated: bool) -> String {
    let name = format!(
        "ctwiz_t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut admin =
        postgres::Client::connect(server, postgres::NoTls).expect("connect to the test server");
    CLEANED.call_once(|| drop_leftovers(&mut admin));
    let sql = if migrated {
        let template = migrated_template(server, &mut admin);
        format!("CREATE DATABASE {name} TEMPLATE {template}")
    } else {
        format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    };
    admin.batch_execute(&sql).expect("create a test database");
    let (base, _) = server.rsplit_once('/').expect("a URL ending in /database");
    format!("{base}/{name}")
}

/// A database migrated to this build's schema, copied for each test: copying takes a few
/// milliseconds, migrating a new database most of a second, and a suite makes hundreds.
/// (Stores opened on a copy find nothing to migrate, so they still open as in production.)
/// Made once per server and schema version, by whichever test process comes first.
fn migrated_template(server: &str, admin: &mut postgres::Client) -> String {
    static MADE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let name = format!("ctwiz_schema_{}", ctwiz_store::SCHEMA_VERSION);
        // One maker at a time across test processes (a session-level advisory lock).
        admin
            .batch_execute("SELECT pg_advisory_lock(7467311)")
            .expect("lock the template");
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .expect("look for the template")
            .is_some();
        if !exists {
            // Built under another name and renamed when complete, so a maker that dies
            // half-way leaves no template that looks finished.
            let building = format!("{name}_building");
            // (Two calls: one batch would be one transaction, which these refuse.)
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .expect("drop a half-made template");
            admin
                .batch_execute(&format!(
                    "CREATE DATABASE {building} TEMPLATE template0 ENCODING 'UTF8' \
                     LC_COLLATE 'C' LC_CTYPE 'C'"
                ))
                .expect("create the template");
            let (base, _) = server.rsplit_once('/').expect("a URL ending in /database");
            drop(SqliteStore::open(format!("{base}/{building}")).expect("migrate the template"));
            // The store's connection closes on a thread of its own: wait until it has.
            let mut renamed = false;
            for _ in 0..200 {
                let sql = format!("ALTER DATABASE {building} RENAME TO {name}");
                if admin.batch_execute(&sql).is_ok() {
                    renamed = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            assert!(renamed, "the template {building} is still in use");
        }
        admin
            .batch_execute("SELECT pg_advisory_unlock(7467311)")
            .expect("unlock the template");
        name
    })
    .clone()
}

/// A migrated store on a new PostgreSQL database, if a server is configured.
///
/// The database lives as long as the store: the databases of this process's stores that
/// have been dropped are dropped here (a `DROP DATABASE` fails while a store is still
/// connected, and is tried again next time), so a suite of thousands of stores holds only
/// the few alive at once.
pub fn store() -> Option<SqliteStore> {
    static OWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let server = server()?;
    {
        let mut own = OWN.lock().unwrap_or_else(|e| e.into_inner());
        if !own.is_empty() {
            let mut admin = postgres::Client::connect(&server, postgres::NoTls)
                .expect("connect to the test server");
            own.retain(|name| {
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                    .is_err()
            });
        }
    }
    let url = fresh_database(&server);
    let name = url.rsplit('/').next().expect("a database name").to_string();
    let store = SqliteStore::open(&url).expect("open the PostgreSQL store");
    OWN.lock().unwrap_or_else(|e| e.into_inner()).push(name);
    Some(store)
}
