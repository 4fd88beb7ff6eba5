//! Browser tests in real headless Chromium driven over WebDriver (chromedriver).
//! They skip with a message when chromedriver is not installed (CI installs it).

mod common;

use common::{fixture, store, user};
use ctwiz_core::access::{AccountStatus, Role};
use ctwiz_store::accounts::SIGN_IN_FAILED;
use ctwiz_store::test_support::run;
use ctwiz_store::{InventoryStore, UserStore};
use fantoccini::{Client, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Ends chromedriver (and with it the browser) when the test ends, even on panic.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether chromedriver is missing: the test then skips with a message, except under CI
/// (`.ci/run` installs it), where a missing browser is a failure.
fn no_browser() -> bool {
    if std::path::Path::new(CHROMEDRIVER).exists() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMEDRIVER} is missing under CI (.ci/run installs chromium-driver)"
    );
    eprintln!("SKIPPED: {CHROMEDRIVER} not installed (apt-get install chromium chromium-driver)");
    true
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn shots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let dir = shots_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

async fn fill(c: &Client, name: &str, value: &str) {
    let el = c
        .find(Locator::Css(&format!("[name='{name}']")))
        .await
        .unwrap_or_else(|e| panic!("field {name}: {e}"));
    el.clear().await.ok();
    el.send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("type into {name}: {e}"));
}

async fn submit(c: &Client, form_action: &str) {
    c.find(Locator::Css(&format!(
        "form[action='{form_action}'] button[type='submit']"
    )))
    .await
    .unwrap_or_else(|e| panic!("submit of {form_action}: {e}"))
    .click()
    .await
    .expect("click");
}

async fn body_text(c: &Client) -> String {
    // While a page is loading the old body goes stale; report it as empty and retry.
    match c.find(Locator::Css("body")).await {
        Ok(b) => b.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The Recommender's row for a vaccine group, as text.
async fn recommender_row(c: &Client, group: &str) -> String {
    let xpath = format!("//table[contains(@class,'recommender')]//tr[td[1]='{group}']");
    let row = c
        .find(Locator::XPath(&xpath))
        .await
        .expect("recommender row");
    format!(" {} ", row.text().await.expect("row text"))
}

/// Waits for the page to show `needle` (a click returns before the next page loads).
async fn wait_for(c: &Client, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = body_text(c).await;
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never showed {needle:?}; it shows: {text}");
}

/// Waits until the page no longer shows `needle` but shows `then` (a form's result
/// replaced the page; mid-navigation the body is empty, which shows neither); the page's
/// text.
async fn wait_without(c: &Client, needle: &str, then: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = body_text(c).await;
        if !text.contains(needle) && text.contains(then) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never went from {needle:?} to {then:?}: {text}");
}

async fn sign_in(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/sign-in"))
        .await
        .expect("open sign-in");
    fill(c, "username", username).await;
    fill(c, "password", password).await;
    submit(c, "/sign-in").await;
}

async fn sign_out(c: &Client) {
    submit(c, "/sign-out").await;
}

/// The app on a free port in this process and a headless Chromium driving it: (browser,
/// base URL, the driver process and the browser profile, both kept until the test ends).
async fn start(f: &common::Fixture) -> (Client, String, Driver, tempfile::TempDir) {
    // The app on a free port in this process.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = ctwiz_web::router(f.state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1280,1400".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": args,
            // Downloads (certificates, cards) land in the profile's downloads/ folder.
            "prefs": {
                "download.default_directory": profile.path().join("downloads"),
                "download.prompt_for_download": false,
                "plugins.always_open_pdf_externally": true,
            },
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match fantoccini::ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not start");
    (c, base, driver, profile)
}

#[test]
fn clinic_workflow_in_chromium() {
    run(async {
        if no_browser() {
            return;
        }
        let f = fixture();
        let (_, temp) = user(&f, Role::PrimaryVaccineCoordinator, "coordinator", false);
        user(&f, Role::PatientLookUpOnly, "lookup", true);
        user(&f, Role::StateAdmin, "stateadmin", true);
        let (locked, _) = user(&f, Role::ClinicAccess, "lockedout", true);
        store(&f).set_status(locked, AccountStatus::Locked).unwrap();

        let (c, base, _driver, _profile) = start(&f).await;

        // Sign in with the temporary password: the app forces a new password and questions.
        c.goto(&format!("{base}/sign-in")).await.unwrap();
        shot(&c, "sign-in").await;
        sign_in(&c, &base, "coordinator", &temp).await;
        wait_for(&c, "Set your password").await;
        fill(&c, "current", &temp).await;
        fill(&c, "new", "browser tested 2026").await;
        fill(&c, "confirm", "browser tested 2026").await;
        fill(&c, "a1", "Rex").await;
        fill(&c, "a2", "Hartford").await;
        shot(&c, "first-sign-in").await;
        submit(&c, "/account/password").await;
        wait_for(&c, "Signed in as").await;
        shot(&c, "home").await;

        // Search by a misspelled name (phonetic) and open the patient.
        c.goto(&format!("{base}/patients")).await.unwrap();
        fill(&c, "family", "Testchilde").await;
        c.find(Locator::Css(
            "form[action='/patients'] button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        wait_for(&c, "TESTCHILD, Ada").await;
        shot(&c, "patient-search").await;
        c.find(Locator::LinkText("TESTCHILD, Ada"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let text = wait_for(&c, "Recommender").await;
        assert!(text.contains("Immunization history"));
        shot(&c, "immunization-home").await;
        let dtap_before = recommender_row(&c, "DTaP/Tdap/Td").await;

        // Administer a dose from the clinic's lot; the history and the stock update.
        c.find(Locator::LinkText("Add immunization"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Administered today").await;
        shot(&c, "add-dose").await;
        let action = format!("/patients/{}/doses", f.in_county);
        c.find(Locator::Css(&format!(
            "form[action='{action}'] button[type='submit']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        wait_for(&c, "DT123A").await;
        let dtap_after = recommender_row(&c, "DTaP/Tdap/Td").await;
        assert!(
            dtap_before.contains("Overdue") && dtap_before.contains(" 2 "),
            "{dtap_before}"
        );
        assert!(
            dtap_after.contains(" 3 ") && !dtap_after.contains("Overdue"),
            "the Recommender moved on: {dtap_after}"
        );
        assert_eq!(store(&f).lot(f.lot).unwrap().unwrap().on_hand, 9);
        shot(&c, "immunization-home-after-dose").await;

        // The official record.
        c.find(Locator::LinkText("Official record"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Certificate of Immunization for School").await;
        shot(&c, "official-record").await;
        sign_out(&c).await;
        wait_for(&c, "Forgot your password").await;

        // A locked-out user sees only the one generic message.
        sign_in(&c, &base, "lockedout", common::PASSWORD).await;
        wait_for(&c, SIGN_IN_FAILED).await;
        shot(&c, "locked-out").await;

        // A read-only role can look the patient up but not change anything.
        sign_in(&c, &base, "lookup", common::PASSWORD).await;
        wait_for(&c, "Signed in as").await;
        c.goto(&format!("{base}/patients/{}", f.in_county))
            .await
            .unwrap();
        let text = body_text(&c).await;
        assert!(
            text.contains("TESTCHILD")
                && !text.contains("Add immunization")
                && !text.contains("Edit demographics")
        );
        c.goto(&format!("{base}/patients/{}/edit", f.in_county))
            .await
            .unwrap();
        let text = body_text(&c).await;
        assert!(text.contains("Access denied") && !text.contains("TESTCHILD"));
        shot(&c, "read-only-denied").await;
        c.goto(&format!("{base}/")).await.unwrap();
        sign_out(&c).await;
        wait_for(&c, "Forgot your password").await;

        // Someone requests an account; a state user approves it; two e-mails wait in the outbox.
        c.goto(&format!("{base}/request-account")).await.unwrap();
        fill(&c, "full_name", "Robin Nurse").await;
        fill(&c, "email", "robin@example.org").await;
        fill(&c, "pin0", "CT00001").await;
        shot(&c, "request-account").await;
        submit(&c, "/request-account").await;
        wait_for(&c, "Request sent").await;
        sign_in(&c, &base, "stateadmin", common::PASSWORD).await;
        wait_for(&c, "account request(s) wait for approval").await;
        c.goto(&format!("{base}/admin/requests")).await.unwrap();
        wait_for(&c, "Robin Nurse").await;
        shot(&c, "account-requests").await;
        c.find(Locator::Css(
            "form[action$='/approve'] button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        wait_for(&c, "Decided by").await;
        c.goto(&format!("{base}/admin/outbox")).await.unwrap();
        let text = wait_for(&c, "Your CT WiZ account: temporary password").await;
        assert!(text.contains("Your CT WiZ account: username"));
        shot(&c, "outbox").await;
        c.goto(&format!("{base}/admin/users")).await.unwrap();
        wait_for(&c, "robin").await;
        shot(&c, "users").await;
        c.close().await.unwrap();
    })
}

/// Clinic Tools in Chromium: the coordinator asks to rename the clinic and to add a staff
/// member → both pending in the history → the state sees them in Tasks, approves one and
/// rejects the other with a reason → the coordinator's bell shows both decisions →
/// Clinic Tools shows the new name and the history.
#[test]
fn clinic_change_requests_in_chromium() {
    run(async {
        if no_browser() {
            return;
        }
        let f = fixture();
        user(&f, Role::PrimaryVaccineCoordinator, "coordinator", true);
        user(&f, Role::StateAdmin, "stateadmin", true);
        let (c, base, _driver, _profile) = start(&f).await;

        sign_in(&c, &base, "coordinator", common::PASSWORD).await;
        wait_for(&c, "Signed in as").await;
        c.goto(&format!("{base}/clinic-tools")).await.unwrap();
        wait_for(&c, "Clinic profile").await;
        fill(&c, "delivery_hours", "Mon–Thu 9:00–15:00").await;
        submit(&c, "/clinic-tools/contact").await;
        wait_for(&c, "Contact details saved").await;
        fill(&c, "name", "Hartford Kids Care").await;
        c.find(Locator::Css(
            "form[action='/clinic-tools/changes'] input[value='name'] ~ div.actions button",
        ))
        .await
        .expect("the name form")
        .click()
        .await
        .unwrap();
        wait_for(&c, "Change request sent").await;
        fill(&c, "staff_name", "Sam Assistant").await;
        // (each listed staff member's removal form holds a hidden staff_email too)
        c.find(Locator::Css("input[type='text'][name='staff_email']"))
            .await
            .unwrap()
            .send_keys("sam@example.org")
            .await
            .unwrap();
        fill(&c, "staff_title", "Medical assistant").await;
        c.find(Locator::Css(
            "form[action='/clinic-tools/changes'] input[value='staff'] ~ div.actions button",
        ))
        .await
        .expect("the staff form")
        .click()
        .await
        .unwrap();
        wait_for(&c, "Staff: Sam Assistant").await;
        let text = body_text(&c).await;
        assert_eq!(text.matches("Pending").count(), 2, "{text}");
        assert!(text.contains("Hartford Pediatrics"), "not renamed yet");
        shot(&c, "clinic-tools").await;
        sign_out(&c).await;

        sign_in(&c, &base, "stateadmin", common::PASSWORD).await;
        wait_for(&c, "Signed in as").await;
        c.goto(&format!("{base}/tasks")).await.unwrap();
        wait_for(&c, "2 clinic change request(s) wait for review").await;
        c.find(Locator::Css("main a[href='/admin/change-requests']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Clinic name → Hartford Kids Care").await;
        shot(&c, "change-requests").await;
        // Oldest first: the name change, then the staff member.
        c.find(Locator::Css(
            "form[action$='/approve'] button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        // The page before the click shows both requests: wait for the approved one to go.
        wait_without(
            &c,
            "Clinic name → Hartford Kids Care",
            "Staff: Sam Assistant",
        )
        .await;
        fill(&c, "reason", "Training date missing").await;
        c.find(Locator::Css(
            "form[action$='/reject'] button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        wait_for(&c, "No change requests wait for a decision").await;
        sign_out(&c).await;

        sign_in(&c, &base, "coordinator", common::PASSWORD).await;
        wait_for(&c, "Signed in as").await;
        let bell = c.find(Locator::Css("a.bell")).await.unwrap();
        let title = bell.attr("title").await.unwrap().unwrap_or_default();
        assert!(title.starts_with("2 unread notification(s)"), "{title}");
        bell.click().await.unwrap();
        let text = wait_for(&c, "approved: Clinic name → Hartford Kids Care").await;
        assert!(text.contains("Training date missing"), "{text}");
        shot(&c, "notifications").await;
        c.find(Locator::Css("ul.notifications a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let text = wait_for(&c, "Change Request History").await;
        assert!(text.contains("Hartford Kids Care"), "{text}");
        assert!(
            text.contains("Approved") && text.contains("Rejected"),
            "{text}"
        );
        assert!(text.contains("Training date missing"));
        let title = c
            .find(Locator::Css("a.bell"))
            .await
            .unwrap()
            .attr("title")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(title.starts_with("1 unread notification(s)"), "{title}");
        c.close().await.unwrap();
    })
}

/// Fills the portal search and sends it (the date input set by script: typing into a
/// date control depends on the browser's locale).
async fn portal_search(c: &Client, base: &str, given: &str, family: &str) -> String {
    c.goto(&format!("{base}/portal")).await.unwrap();
    fill(c, "given", given).await;
    fill(c, "family", family).await;
    c.execute(
        "document.querySelector(\"[name='dob']\").value = '2024-01-15';",
        vec![],
    )
    .await
    .unwrap();
    submit(c, "/portal").await;
    wait_for(c, "we sent a code").await
}

/// The code in the newest text of the outbox.
fn newest_code(s: &ctwiz_store::SqliteStore) -> String {
    use ctwiz_store::portal::PortalStore;
    let sent = s.texts(1).unwrap()[0].body.clone();
    sent.split(|ch: char| !ch.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

#[test]
fn public_portal_in_chromium() {
    run(async {
        use ctwiz_store::portal::PortalStore;
        use ctwiz_store::PatientStore;
        if no_browser() {
            return;
        }
        let f = fixture();
        let s = store(&f);
        let mut p = s.patient(f.in_county).unwrap().unwrap();
        p.phones
            .push(ctwiz_core::ids::Phone::new("860-555-0142").unwrap());
        s.update_patient(&p).unwrap();
        let (c, base, _driver, _profile) = start(&f).await;

        // A search that matches nothing reads exactly like one that does.
        let miss = portal_search(&c, &base, "Ada", "Nobody").await;
        shot(&c, "portal-code").await;
        let hit = portal_search(&c, &base, "Ada", "Testchild").await;
        assert_eq!(miss, hit);
        assert_eq!(s.texts(10).unwrap().len(), 1, "only the match sent a code");
        let code = newest_code(&s);

        // Five wrong codes lock this verification, even for the right code after.
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for left in (1..5).rev() {
            fill(&c, "code", wrong).await;
            submit(&c, "/portal/verify").await;
            wait_for(
                &c,
                &format!("{left} {} left", if left == 1 { "try" } else { "tries" }),
            )
            .await;
        }
        fill(&c, "code", wrong).await;
        submit(&c, "/portal/verify").await;
        wait_for(&c, "Code locked").await;

        // Start again: a new code from the outbox opens the record.
        portal_search(&c, &base, "Ada", "Testchild").await;
        let code = newest_code(&s);
        fill(&c, "code", &code).await;
        submit(&c, "/portal/verify").await;
        let page = wait_for(&c, "What is due").await;
        assert!(page.contains("Testchild"), "{page}");
        shot(&c, "portal-record").await;

        // The downloads, by clicking their links as a parent would.
        let downloads = _profile.path().join("downloads");
        c.find(Locator::LinkText(
            "Certificate of Immunization for School (PDF)",
        ))
        .await
        .expect("the school certificate link")
        .click()
        .await
        .unwrap();
        c.find(Locator::LinkText("SMART Health Card"))
            .await
            .expect("the card link")
            .click()
            .await
            .unwrap();
        let (mut pdf, mut card) = (None, None);
        for _ in 0..100 {
            for e in std::fs::read_dir(&downloads)
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".pdf") {
                    pdf = std::fs::read(e.path()).ok();
                } else if name.ends_with(".smart-health-card") {
                    card = std::fs::read_to_string(e.path()).ok();
                }
            }
            if pdf.is_some() && card.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let pdf = pdf.expect("the certificate PDF was downloaded");
        assert!(pdf.starts_with(b"%PDF-") && pdf.len() > 2_000);
        let card: serde_json::Value =
            serde_json::from_str(&card.expect("the .smart-health-card was downloaded")).unwrap();
        assert_eq!(card["verifiableCredential"].as_array().unwrap().len(), 1);

        submit(&c, "/portal/done").await;
        wait_for(&c, "Get your immunization record").await;
        c.goto(&format!("{base}/portal/record")).await.unwrap();
        wait_for(&c, "Start again").await;
    })
}

/// Forgot password (the questions, then a new password twice) from the sign-in page's
/// "Trouble Logging In?" help, then a school nurse adding a student by exact name and
/// birth date and seeing that student, and only rostered students.
#[test]
fn forgot_password_and_school_nurse_roster_in_chromium() {
    run(async {
        use ctwiz_store::accounts::SECURITY_QUESTIONS;
        use ctwiz_store::PatientStore;
        if no_browser() {
            return;
        }
        let f = fixture();
        user(&f, Role::ClinicAccess, "forgetful", true);
        user(&f, Role::SchoolNurseReadOnly, "schoolnurse", true);
        let child = store(&f).patient(f.in_county).unwrap().unwrap();
        let (c, base, _driver, _profile) = start(&f).await;

        c.goto(&format!("{base}/sign-in")).await.unwrap();
        c.find(Locator::LinkText("Trouble Logging In?"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "I forgot my password.").await;
        shot(&c, "trouble-logging-in").await;
        c.find(Locator::Css("dd a[href='/forgot-password']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Forgot your password?").await;
        fill(&c, "username", "forgetful").await;
        fill(&c, "email", "forgetful@example.org").await;
        submit(&c, "/forgot-password").await;
        wait_for(&c, SECURITY_QUESTIONS[0]).await;
        fill(&c, "a1", "blue").await;
        fill(&c, "a2", "BLUE").await;
        fill(&c, "new_password", "spring tulips 2027").await;
        fill(&c, "new_password_again", "spring tulips 2026").await;
        submit(&c, "/forgot-password/reset").await;
        wait_for(&c, "The two new passwords are not the same.").await;
        fill(&c, "a1", "blue").await;
        fill(&c, "a2", "BLUE").await;
        fill(&c, "new_password", "spring tulips 2027").await;
        fill(&c, "new_password_again", "spring tulips 2027").await;
        shot(&c, "forgot-password-questions").await;
        submit(&c, "/forgot-password/reset").await;
        wait_for(&c, "Your password was changed").await;
        sign_in(&c, &base, "forgetful", "spring tulips 2027").await;
        wait_for(&c, "Signed in as").await;
        sign_out(&c).await;

        // The nurse: no patient search, a roster to add to by exact match.
        sign_in(&c, &base, "schoolnurse", common::PASSWORD).await;
        let home = wait_for(&c, "Signed in as").await;
        assert!(
            home.contains("Student Rosters") && !home.contains("Patient Management"),
            "{home}"
        );
        c.goto(&format!("{base}/patients/{}", f.in_county))
            .await
            .unwrap();
        wait_for(&c, "You do not have access to this page.").await;
        c.goto(&format!("{base}/rosters")).await.unwrap();
        wait_for(&c, "Add a student").await;
        let add = |given: String| {
            let c = c.clone();
            let (family, dob) = (child.name.family.clone(), child.dob.to_string());
            async move {
                fill(&c, "given", &given).await;
                fill(&c, "family", &family).await;
                c.execute(
                    &format!("document.querySelector(\"[name='dob']\").value = '{dob}';"),
                    vec![],
                )
                .await
                .unwrap();
                submit(&c, "/rosters/add").await;
            }
        };
        add(format!("{}a", child.name.given)).await;
        wait_for(&c, "No single record has exactly this").await;
        c.goto(&format!("{base}/rosters")).await.unwrap();
        wait_for(&c, "Add a student").await;
        add(child.name.given.to_lowercase()).await;
        let roster = wait_for(&c, &child.dob.to_string()).await;
        assert!(
            roster
                .to_uppercase()
                .contains(&child.name.family.to_uppercase()),
            "{roster}"
        );
        shot(&c, "student-roster").await;
        c.goto(&format!("{base}/reports/students")).await.unwrap();
        wait_for(&c, "rostered student(s) have a vaccine past due").await;
        shot(&c, "students-not-up-to-date").await;
        c.goto(&format!("{base}/patients/{}", f.in_county))
            .await
            .unwrap();
        wait_for(&c, "Recommender").await;
        c.close().await.unwrap();
    })
}

/// The left-side menu expands a module to its screens, every screen links to its help,
/// and home shows the patients just opened and a quick search.
#[test]
fn menu_help_and_home_in_chromium() {
    run(async {
        use ctwiz_store::PatientStore;
        if no_browser() {
            return;
        }
        let f = fixture();
        user(&f, Role::PrimaryVaccineCoordinator, "navigator", true);
        let child = store(&f).patient(f.in_county).unwrap().unwrap();
        let (c, base, _driver, _profile) = start(&f).await;
        sign_in(&c, &base, "navigator", common::PASSWORD).await;
        wait_for(&c, "Signed in as").await;

        // Open a record, then home lists it under recently viewed.
        c.goto(&format!("{base}/patients/{}", f.in_county))
            .await
            .unwrap();
        wait_for(&c, "Recommender").await;
        c.goto(&format!("{base}/")).await.unwrap();
        let home = wait_for(&c, "Recently viewed patients").await;
        assert!(
            home.to_uppercase()
                .contains(&child.name.family.to_uppercase()),
            "{home}"
        );
        assert!(home.contains("Quick patient search") && home.contains("Tasks"));
        shot(&c, "home").await;
        fill(&c, "family", &child.name.family).await;
        submit(&c, "/patients").await;
        wait_for(&c, &child.dob.to_string()).await;

        // The Inventory module is closed until expanded; its screens are then links.
        let orders = c
            .find(Locator::Css("nav.side a[href='/inventory/orders']"))
            .await
            .unwrap();
        assert!(!orders.is_displayed().await.unwrap(), "collapsed");
        c.find(Locator::XPath(
            "//nav[contains(@class,'side')]//summary[normalize-space()='Inventory']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        orders.click().await.unwrap();
        wait_for(&c, "New CVP vaccine order").await;
        c.find(Locator::LinkText("More vaccine lines"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Another vaccine (8)").await;
        shot(&c, "orders-with-menu").await;

        // The help icon opens the screen's own help page.
        c.find(Locator::Css("a.help-icon"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let help = wait_for(&c, "Help: Vaccine orders").await;
        assert!(
            help.contains("Add as many vaccines as the order needs"),
            "{help}"
        );
        shot(&c, "help-page").await;
        c.close().await.unwrap();
    })
}
