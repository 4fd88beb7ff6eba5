//! `ctwiz serve`: migrate the database, make sure someone can sign in, and run the web app.

use super::{db, CliResult};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::ids::{Email, Username};
use ctwiz_store::{accounts, UserStore};
use std::net::SocketAddr;
use std::path::Path;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Mark session cookies Secure (set when users reach the site over HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// SMTP relay (HOST:PORT) that delivers the e-mail outbox; without it mail stays in
    /// the outbox, readable by state users.
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp: Option<String>,
    /// Sender address for e-mail sent through --smtp.
    #[arg(long, default_value = "ctwiz@localhost")]
    pub mail_from: String,
    /// HTTP SMS gateway (or a local relay to one) that delivers the text-message outbox
    /// (portal codes): each text is POSTed as JSON {"to", "body"}. Without it texts stay
    /// in the outbox, readable by state users.
    #[arg(long, value_name = "URL")]
    pub sms_gateway: Option<String>,
    /// Bearer token sent to --sms-gateway.
    #[arg(long, env = "CTWIZ_SMS_TOKEN", hide_env_values = true)]
    pub sms_token: Option<String>,
    /// Also accept HL7 v2 over MLLP on this address. Nothing is trusted by default:
    /// every facility that sends over MLLP needs an --mllp-bind. The CDC SOAP service is
    /// always served at /iis/soap.
    #[arg(long, value_name = "HOST:PORT", requires = "mllp_bind")]
    pub mllp: Option<SocketAddr>,
    /// Bind a facility to the account its messages are processed as (its grants decide
    /// what it may submit and query) and the addresses it connects from (IPs or CIDR
    /// networks). Repeat per facility.
    #[arg(long, value_name = "PIN=USERNAME@ADDR[,ADDR...]")]
    pub mllp_bind: Vec<ctwiz_web::mllp::MllpBinding>,
    /// Close an MLLP connection that completes no message for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub mllp_idle_secs: u64,
    /// The site's address as clients reach it (e.g. https://iis.example.org behind a
    /// TLS-terminating proxy): the SOAP WSDL advertises its service there, and it is the
    /// issuer of the SMART Health Cards on certificates, whose keys are served at
    /// URL/.well-known/jwks.json. Without it the WSDL follows the proxy's Forwarded /
    /// X-Forwarded-Proto headers and cards name http://ADDR.
    #[arg(long, value_name = "URL", env = "CTWIZ_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Do not send the scheduled lists from this process (another process does).
    #[arg(long)]
    pub no_schedule: bool,
    /// The day of the year (MM-DD) the two-year-old clean-up goes to every practice.
    #[arg(long, value_name = "MM-DD", default_value = "10-01")]
    pub cleanup_day: String,
    /// How often the schedule is checked, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub schedule_every_secs: u64,
}

/// Username of the first state administrator created on an empty database.
const FIRST_ADMIN: &str = "admin";

pub fn run(path: &Path, a: ServeArgs) -> CliResult {
    let store = db::open(path)?;
    if store.users()?.is_empty() {
        let mut admin = User::new(
            Username::new(FIRST_ADMIN)?,
            "State Administrator",
            Email::new("admin@localhost.invalid")?,
        )?;
        admin.grant(Grant::new(Role::StateAdmin, Scope::State)?);
        let (_, temp) = accounts::create_with_temporary_password(&store, &admin)?;
        // Printed once and never stored: the hash is all the database keeps.
        println!("Created the first state administrator.");
        println!("  username: {FIRST_ADMIN}");
        println!("  one-time password: {temp}");
        println!("You will choose a new password at first sign-in.");
    }
    drop(store);
    let mut cfg = ctwiz_web::WebConfig::new(a.addr, path.to_path_buf());
    cfg.secure_cookies = a.secure_cookies;
    cfg.mllp_addr = a.mllp;
    cfg.public_url = a.public_url.clone();
    if !a.no_schedule {
        let sch = ctwiz_web::schedule::Schedule {
            every: std::time::Duration::from_secs(a.schedule_every_secs),
            ..Default::default()
        };
        cfg.schedule = Some(sch.with_cleanup_day(&a.cleanup_day)?);
    }
    cfg.mllp = ctwiz_web::mllp::MllpConfig {
        bindings: a.mllp_bind.clone(),
        idle_timeout: std::time::Duration::from_secs(a.mllp_idle_secs),
    };
    if let Some(url) = &a.sms_gateway {
        cfg.sms = Some(ctwiz_web::SmsGateway::new(url, a.sms_token.clone())?);
    }
    if let Some(relay) = &a.smtp {
        let (host, port) = relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("--smtp {relay:?}: expected HOST:PORT"))?;
        cfg.smtp = Some(ctwiz_web::SmtpConfig {
            host,
            port,
            from: a.mail_from.clone(),
        });
    }
    println!(
        "Serving {} on http://{} (Ctrl-C or SIGTERM stops, after answering what is in flight)",
        path.display(),
        a.addr
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(ctwiz_web::serve(cfg))?;
    Ok(())
}
