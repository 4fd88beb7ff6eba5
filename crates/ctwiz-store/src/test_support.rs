//! Test support (feature `test-support`, enabled only by the workspace's dev-dependencies,
//! never by a product build): which backend a test suite runs on, and a fresh database per
//! test on it. The store's, the web's and the CLI's tests share it.
//!
//! `CTWIZ_TEST_BACKEND=postgres` runs a suite on PostgreSQL: each test database is a new
//! database on the server `CTWIZ_TEST_POSTGRES` names (`scripts/postgres-temp.sh` starts
//! one; `.ci/run` always does), copied from a migrated template; otherwise on SQLite.
//! Without the variable the PostgreSQL tests are skipped, except under CI, where that is a
//! failure.

use crate::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The suite runs on PostgreSQL (`CTWIZ_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("CTWIZ_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A new, empty, migrated store on the backend under test (in-memory on SQLite).
pub fn store() -> SqliteStore {
    if on_postgres() {
        postgres_store().expect("CTWIZ_TEST_BACKEND=postgres needs CTWIZ_TEST_POSTGRES")
    } else {
        SqliteStore::open_in_memory().expect("an in-memory database")
    }
}

/// PostgreSQL's planner's row count for `table` (`pg_class.reltuples`: -1 until the table
/// is first analyzed); `None` on SQLite.
pub fn planner_row_estimate(store: &SqliteStore, table: &str) -> Option<f64> {
    if store.dialect() != crate::sql::Dialect::Postgres {
        return None;
    }
    let n: f64 = store
        .conn()
        .query_row(
            "SELECT reltuples::float8 FROM pg_class
             WHERE relname = ?1 AND relnamespace = to_regnamespace(current_schema())",
            [table],
            |r| r.get(0),
        )
        .expect("the planner's row count");
    Some(n)
}

/// Runs an async test's body so that it may call the store directly on either backend.
///
/// The PostgreSQL client blocks its thread on a runtime of its own for each statement,
/// which a thread that is driving a tokio runtime may not do (SQLite has no such limit;
/// the servers call the store on blocking threads). So the body is polled here, on the
/// test's plain thread, while a multi-threaded runtime, entered but not driven here, runs
/// what the body spawns, its sockets and its timers: `#[test] fn t() { run(async { .. }) }`
/// in place of `#[tokio::test] async fn t() { .. }`.
pub fn run<F: std::future::Future>(body: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _entered = runtime.enter();
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut body = std::pin::pin!(body);
    loop {
        if let std::task::Poll::Ready(out) = body.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// A test database on the backend under test, for tests that open it more than once or
/// hand it to a server (`AppState`, `InterfaceService`, the `ctwiz` binary): an SQLite
/// file in a new temporary directory, or a new PostgreSQL database (dropped with this
/// value, or by a later test process once every connection to it has closed).
pub struct TestDb {
    dir: tempfile::TempDir,
    location: PathBuf,
    /// The PostgreSQL database's name.
    postgres: Option<String>,
}

impl TestDb {
    /// A new database; on SQLite the file `file_name` in a new temporary directory
    /// (created and migrated on first open), on PostgreSQL a migrated copy of the
    /// template.
    pub fn new(file_name: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        if on_postgres() {
            let server = server().expect("CTWIZ_TEST_BACKEND=postgres needs CTWIZ_TEST_POSTGRES");
            drop_released(&server);
            let url = fresh_database(&server);
            let name = database_name(&url);
            TestDb {
                dir,
                location: PathBuf::from(url),
                postgres: Some(name),
            }
        } else {
            TestDb {
                location: dir.path().join(file_name),
                dir,
                postgres: None,
            }
        }
    }

    /// What `SqliteStore::open`, `AppState::new` and `--db` take: the file's path or the
    /// PostgreSQL URL.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// A temporary directory that lives as long as the database, for the test's files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new connection to the database (migrating it on first open).
    pub fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.location).expect("open the test database")
    }

    /// Whether `needle` is anywhere in the database: on SQLite in the bytes of its files
    /// (free pages and the WAL included), on PostgreSQL in any row of any table (as text,
    /// or as the hex of a `BYTEA`).
    pub fn holds(&self, needle: &str) -> bool {
        if self.postgres.is_none() {
            return std::fs::read_dir(self.dir())
                .expect("read the database's directory")
                .any(|entry| {
                    let bytes = std::fs::read(entry.expect("a directory entry").path())
                        .expect("read a database file");
                    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
                });
        }
        let store = self.open();
        let tables: Vec<String> = {
            let mut st = store
                .conn()
                .prepare(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                )
                .expect("list the tables");
            let rows = st.query_map((), |r| r.get(0)).expect("list the tables");
            rows.collect::<crate::sql::Result<_>>()
                .expect("read the tables")
        };
        let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
        tables.iter().any(|table| {
            let text: Option<String> = store
                .conn()
                .query_row(
                    &format!("SELECT string_agg(t::text, ' ') FROM \"{table}\" t"),
                    (),
                    |r| r.get(0),
                )
                .expect("read a table as text");
            text.is_some_and(|t| t.contains(needle) || t.contains(&hex))
        })
    }

    /// Damages the account row of `username` (a status no ctwiz writes), so reading it
    /// fails: for the tests of what a server does with a store error.
    pub fn damage_account_status(&self, username: &str) {
        let changed = self
            .open()
            .conn()
            .execute(
                "UPDATE users SET status = 'no such status' WHERE username = ?1",
                [username],
            )
            .expect("damage the account");
        assert_eq!(changed, 1, "no account {username}");
    }

    /// Makes the database refuse every new dose with lot number `lot` (a trigger no
    /// ctwiz installs), so a message naming it fails in the middle of its writes: for
    /// the tests that a failed message leaves nothing behind.
    pub fn refuse_doses_with_lot(&self, lot: &str) {
        assert!(
            lot.chars().all(|c| c.is_ascii_alphanumeric()),
            "a plain lot number"
        );
        let store = self.open();
        let sql = match store.dialect() {
            crate::sql::Dialect::Sqlite => format!(
                "CREATE TRIGGER test_refuse_lot BEFORE INSERT ON doses WHEN NEW.lot = '{lot}'
                 BEGIN SELECT RAISE(ABORT, 'lot {lot} refused by the test'); END;"
            ),
            crate::sql::Dialect::Postgres => format!(
                "CREATE FUNCTION test_refuse_lot() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.lot = '{lot}' THEN RAISE EXCEPTION 'lot {lot} refused by the test'; END IF;
                   RETURN NEW;
                 END $$;
                 CREATE TRIGGER test_refuse_lot BEFORE INSERT ON doses
                   FOR EACH ROW EXECUTE FUNCTION test_refuse_lot();"
            ),
        };
        store
            .conn()
            .execute_batch(&sql)
            .expect("install the trigger");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.postgres.take() {
            released().push(name);
            if let Some(server) = server() {
                drop_released(&server);
            }
        }
    }
}

/// PostgreSQL test databases of this process no longer used, to drop once every
/// connection to them has closed (a pool's or a server's may outlive its test briefly).
fn released() -> std::sync::MutexGuard<'static, Vec<String>> {
    static RELEASED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    RELEASED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drops the released databases that nothing is connected to any more; the others are
/// tried again next time. (Asked first: a `DROP DATABASE` waits 5 s for the other
/// connections to end before it fails, and a server's pool keeps its connections until
/// its test's runtime ends.)
fn drop_released(server: &str) {
    let mut released = released();
    if released.is_empty() {
        return;
    }
    let mut admin = admin(server);
    let busy: Vec<String> = admin
        .query(
            "SELECT DISTINCT datname::text FROM pg_stat_activity WHERE datname::text = ANY($1)",
            &[&*released],
        )
        .expect("list the connected test databases")
        .iter()
        .map(|row| row.get(0))
        .collect();
    released.retain(|name| {
        busy.contains(name)
            || admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .is_err()
    });
}

fn admin(server: &str) -> postgres::Client {
    postgres::Client::connect(server, postgres::NoTls).expect("connect to the test server")
}

fn database_name(url: &str) -> String {
    url.rsplit('/').next().expect("a database name").to_string()
}

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
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The test server's URL, or `None` (test skipped) outside CI.
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
            .expect("a clock after 1970")
            .subsec_nanos()
    );
    let mut admin = admin(server);
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
        let name = format!("ctwiz_schema_{}", crate::SCHEMA_VERSION);
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
pub fn postgres_store() -> Option<SqliteStore> {
    let server = server()?;
    drop_released(&server);
    let url = fresh_database(&server);
    let store = SqliteStore::open(&url).expect("open the PostgreSQL store");
    // Released at once: dropped as soon as the store is (its connection is the only one).
    released().push(database_name(&url));
    Some(store)
}
