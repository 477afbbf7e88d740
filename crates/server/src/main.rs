//! `waypoint-server`: serve, and the admin commands around it.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use waypoint_protocol::Role;
use waypoint_server::audit::{self, AuditEvent};
use waypoint_server::database_key::{self, DatabaseKey};
use waypoint_server::directory_feed::{self, DirectorySource};
use waypoint_server::export::{self, Format};
use waypoint_server::new_user::NewAccount;
use waypoint_server::store::{self, SharedStore};
use waypoint_server::webhooks::{self, WebhookSettings};
use waypoint_server::{auth, private_files, tls, Settings};

mod admin_commands;

#[derive(Parser)]
#[command(name = "waypoint-server", version, about = "Waypoint's central server and its admin commands")]
struct Cli {
    /// Folder for the SQLite database, the TLS certificate and the directory.
    #[arg(long, env = "WAYPOINT_DATA_DIR", default_value = "waypoint-data", global = true)]
    data_dir: PathBuf,
    /// `postgres://user@host/db` for PostgreSQL (add `?sslmode=require` or `verify-full` for TLS);
    /// default: `<data-dir>/waypoint.sqlite`.
    #[arg(long, env = "WAYPOINT_DATABASE", global = true)]
    database: Option<String>,
    /// The SQLite database's encryption key (64 hex digits, a 0600 file); default:
    /// `<data-dir>/database.key`, made on first start.
    #[arg(long, env = "WAYPOINT_DATABASE_KEY_FILE", global = true)]
    database_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the data folder, the database tables and (unless --no-tls) the certificate.
    Init {
        #[arg(long)]
        no_tls: bool,
        /// A host name or IP address devices reach this server by, for the self-signed
        /// certificate (repeatable; localhost and the loopback addresses are always in).
        #[arg(long = "tls-name", value_name = "NAME", conflicts_with = "no_tls")]
        tls_names: Vec<String>,
    },
    /// Serves the sync API.
    Serve(ServeArgs),
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    Device(DeviceCommand),
    #[command(subcommand)]
    Directory(DirectoryCommand),
    #[command(subcommand)]
    Export(ExportCommand),
    /// Brings in the agency's older records (a baseline for the outcome figures).
    #[command(subcommand)]
    Import(ImportCommand),
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The agency records system's access: its credentials and webhook endpoints.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// The demo agency of `scripts/run.sh` (never on a real server).
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Adds demo.officer, demo.sergeant and demo.admin (password `demo-password`; the sergeant's
    /// and admin's authenticator enrolled with a demo secret).
    Users,
    /// Prints a demo account's current authenticator code.
    Code { username: String },
}

#[derive(Subcommand)]
enum RecordsCommand {
    /// Issues a credential for the records system (reads GET /v1/records/encounters only) and
    /// prints its token, shown this once.
    AddCredential { name: String },
    /// Revokes a records-system credential.
    RevokeCredential { name: String },
    /// Registers a webhook endpoint (https://, or http:// to this machine) and prints its signing
    /// secret (made when --secret is not given).
    AddWebhook {
        url: String,
        #[arg(long)]
        secret: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks the server's audit trail: exits 0 with the row count when intact, 1 naming the first
    /// row that was changed, removed or moved.
    Verify,
    /// Writes the audit trail's rows since a time to stdout, one JSON object a line.
    Export {
        /// A date (2026-01-31) or an RFC 3339 time.
        #[arg(long, value_parser = parse_since)]
        since: chrono::DateTime<chrono::Utc>,
    },
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// PEM certificate chain (with --key); default: a self-signed one in the data folder.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Plain HTTP: on a loopback address only, unless --behind-tls-proxy says a TLS-terminating
    /// proxy stands in front (reports must never cross a network unencrypted).
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    no_tls: bool,
    /// With --no-tls on a non-loopback address: the operator's word that a TLS proxy terminates
    /// every connection before it reaches this server.
    #[arg(long, requires = "no_tls")]
    behind_tls_proxy: bool,
    /// A host name or IP address for the self-signed certificate (repeatable; see `init`).
    #[arg(long = "tls-name", value_name = "NAME", conflicts_with_all = ["cert", "key", "no_tls"])]
    tls_names: Vec<String>,
    /// Largest request body, decompressed, in bytes.
    #[arg(long, default_value_t = Settings::default().body_limit_bytes)]
    body_limit: usize,
    /// Seconds before a request is answered 408.
    #[arg(long, default_value_t = Settings::default().request_timeout.as_secs())]
    request_timeout: u64,
    /// Officers must enrol in TOTP MFA too (supervisors and admins always must).
    #[arg(long)]
    mfa_for_officers: bool,
    /// Failed sign-ins in a row that lock an account.
    #[arg(long, default_value_t = Settings::default().max_failed_sign_ins)]
    max_failed_sign_ins: u32,
    /// Minutes an account stays locked (or until `user unlock`).
    #[arg(long, default_value_t = Settings::default().lockout_duration.num_minutes())]
    lockout_minutes: i64,
    /// Hours a session lasts from sign-in.
    #[arg(long, default_value_t = Settings::default().session_ttl.num_hours())]
    session_hours: i64,
    /// Minutes without use after which a session ends.
    #[arg(long, default_value_t = Settings::default().session_idle_timeout.num_minutes())]
    session_idle_minutes: i64,
    /// Sign-in and enrolment requests one client address may send in a burst ...
    #[arg(long, default_value_t = Settings::default().sign_in_rate.burst)]
    sign_in_burst: u32,
    /// ... and the seconds after which it may send one more.
    #[arg(long, default_value_t = Settings::default().sign_in_rate.replenish.as_secs_f64())]
    sign_in_replenish_seconds: f64,
    /// Hours a webhook delivery is retried before it is parked as failed.
    #[arg(long, default_value_t = 24.0)]
    webhook_retry_hours: f64,
    /// Seconds before the first retry of a failed webhook delivery (each next wait doubles, up to an hour).
    #[arg(long, default_value_t = WebhookSettings::default().first_retry.as_secs_f64())]
    webhook_first_retry_seconds: f64,
    /// Seconds one webhook attempt may take.
    #[arg(long, default_value_t = WebhookSettings::default().attempt_timeout.as_secs_f64())]
    webhook_timeout_seconds: f64,
    /// Queue webhook deliveries but send none (for a test that must not reach any network: the
    /// fuzzer registers endpoints of its own invention).
    #[arg(long)]
    webhooks_off: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds an officer, supervisor, admin or analyst (reads the outcome figures only). The password is read from stdin (or prompted).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The officer id (badge number) the user's reports carry: what they type at the device's
        /// setup. Defaults to the username.
        #[arg(long)]
        officer_id: Option<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists users: role, enabled, locked, MFA, last sign-in.
    List,
    /// Disables a user: sign-in refused, their sessions end at once.
    Disable { username: String },
    /// Enables a disabled user.
    Enable { username: String },
    /// Sets a new password (read from stdin or prompted) and ends the user's sessions.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Drops the user's MFA: they enrol again at their next sign-in.
    ResetMfa { username: String },
    /// Lifts a lockout after failed sign-ins.
    Unlock { username: String },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Prints a one-time code a device enrolls with (valid 72 hours).
    Enroll,
    /// Lists devices: enrolled, last seen, revoked.
    List,
    /// Revokes a device: its token stops working and its next contact is told so.
    Revoke { device_id: String },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Imports SAMHSA listings or an HSDS package and publishes the changes to every device.
    Import {
        #[arg(long, conflicts_with = "hsds", required_unless_present = "hsds")]
        samhsa: Option<PathBuf>,
        #[arg(long)]
        hsds: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Imports a county's or 211's service list (CSV) into the directory through a mapping file
    /// (docs/service-list-import.md) and publishes the changes to every device, as `directory
    /// import` does.
    Services {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        mapping: PathBuf,
    },
    /// Imports reports from an older records system's CSV extract through a mapping file
    /// (docs/history-import.md): counted in the figures, never reviewed. A re-import of the same
    /// file changes nothing. Prints the report (rows read, imported, updated, unchanged, rejected
    /// with line and reason); `--report FILE` also writes it as JSON.
    Encounters {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        mapping: PathBuf,
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Writes every encounter version received since a date to stdout.
    Encounters {
        #[arg(long, value_enum)]
        format: Format,
        /// A date (2026-01-31) or an RFC 3339 time; default: everything.
        #[arg(long, value_parser = parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}` is not a role: use officer, supervisor, admin or analyst"))
}

fn parse_since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| format!("`{text}` is neither a date (YYYY-MM-DD) nor an RFC 3339 time"))
}

impl Cli {
    fn database(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => self.data_dir.join("waypoint.sqlite").to_string_lossy().into_owned(),
        }
    }

    /// The SQLite key (read, or made for a new database); `None` on PostgreSQL.
    fn database_key(&self) -> anyhow::Result<Option<DatabaseKey>> {
        let database = self.database();
        if store::is_postgres(&database) {
            return Ok(None);
        }
        let default = self.data_dir.join(database_key::KEY_FILE);
        Ok(Some(match &self.database_key_file {
            // The operator's file must exist: making one there could hide a wrong path.
            Some(file) => DatabaseKey::read(file)?,
            None => DatabaseKey::for_database(&default, store::sqlite_path(&database))?,
        }))
    }

    async fn store(&self) -> anyhow::Result<SharedStore> {
        let database = self.database();
        let key = self.database_key()?;
        store::open(&database, key.as_ref())
            .await
            .with_context(|| format!("opening the database {}", redact(&database)))
    }
}

/// A database URL without its password, for messages.
fn redact(database: &str) -> String {
    match (database.find("://"), database.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &database[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &database[..scheme + 3], &database[at..])
        }
        _ => database.to_string(),
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        anyhow::ensure!(first == rpassword::prompt_password("Again: ")?, "the passwords differ");
        first
    };
    auth::check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    private_files::ensure_private_dir(&cli.data_dir).with_context(|| format!("creating {}", cli.data_dir.display()))?;
    match &cli.command {
        Command::Init { no_tls, tls_names } => {
            let store = cli.store().await?;
            if waypoint_server::agency_config::seed(&store).await? {
                println!("agency configuration: the bundled assets/agency.json stored as version 1");
            }
            if cli.database_key_file.is_none() && !store::is_postgres(&cli.database()) {
                println!(
                    "database key: {} (back it up apart from the database)",
                    cli.data_dir.join(database_key::KEY_FILE).display()
                );
            }
            if !no_tls {
                let (cert, _) = tls::certificate_files_for(&cli.data_dir, None, None, tls_names)?;
                println!("certificate: {}", cert.display());
                println!("certificate SHA-256: {}", tls::fingerprint(&cert)?);
                if let Some(names) = tls::self_signed_names(&cli.data_dir) {
                    println!("certificate names: {}", names.join(", "));
                }
            }
            println!("initialized {}", cli.data_dir.display());
        }
        Command::Serve(args) => {
            if args.no_tls && !args.listen.ip().is_loopback() && !args.behind_tls_proxy {
                anyhow::bail!(
                    "refusing plain HTTP on {}: reports would cross the network unencrypted. Serve TLS \
                     (drop --no-tls), listen on a loopback address, or add --behind-tls-proxy if a \
                     TLS-terminating proxy stands in front of this server",
                    args.listen
                );
            }
            let store = cli.store().await?;
            let mut settings = Settings {
                body_limit_bytes: args.body_limit,
                request_timeout: std::time::Duration::from_secs(args.request_timeout),
                directory_snapshot_dir: Some(cli.data_dir.clone()),
                mfa_required_for_officers: args.mfa_for_officers,
                max_failed_sign_ins: args.max_failed_sign_ins.max(1),
                lockout_duration: chrono::Duration::minutes(args.lockout_minutes),
                session_ttl: chrono::Duration::hours(args.session_hours),
                session_idle_timeout: chrono::Duration::minutes(args.session_idle_minutes),
                sign_in_rate: waypoint_server::SignInRate {
                    burst: args.sign_in_burst.max(1),
                    replenish: std::time::Duration::from_secs_f64(args.sign_in_replenish_seconds.max(0.001)),
                },
                ..Settings::default()
            };
            let tls = if args.no_tls {
                None
            } else {
                let (cert, key) =
                    tls::certificate_files_for(&cli.data_dir, args.cert.clone(), args.key.clone(), &args.tls_names)?;
                if args.cert.is_none() {
                    let names = tls::self_signed_names(&cli.data_dir).unwrap_or_default();
                    tracing::info!("self-signed certificate for {}", names.join(", "));
                }
                // What the admin API's enrolment codes tell devices to pin.
                settings.certificate_fingerprint = Some(tls::fingerprint(&cert)?);
                Some(tls::server_config(&cert, &key)?)
            };
            let listener =
                std::net::TcpListener::bind(args.listen).with_context(|| format!("binding {}", args.listen))?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            // Tests and scripts read this line to learn the port when listening on :0.
            println!("listening on {scheme}://{}", listener.local_addr()?);
            let webhook_settings = WebhookSettings {
                retry_window: chrono::Duration::milliseconds((args.webhook_retry_hours.max(0.0) * 3_600_000.0) as i64),
                first_retry: std::time::Duration::from_secs_f64(args.webhook_first_retry_seconds.max(0.01)),
                attempt_timeout: std::time::Duration::from_secs_f64(args.webhook_timeout_seconds.max(0.1)),
                ..WebhookSettings::default()
            };
            let _deliveries = (!args.webhooks_off).then(|| webhooks::spawn_worker(store.clone(), webhook_settings));
            let handle = axum_server::Handle::new();
            let on_signal = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            waypoint_server::serve(listener, waypoint_server::app(store, settings), tls, handle).await?;
        }
        Command::User(UserCommand::Add { username, role, officer_id, password_stdin }) => {
            let store = cli.store().await?;
            let password = read_password(*password_stdin)?;
            // The same rules as POST /v1/admin/users.
            let account =
                NewAccount::check(username, *role, officer_id.as_deref(), &password).map_err(anyhow::Error::msg)?;
            let password_hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
            let (username, officer_id) = (account.username.clone(), account.officer_id.clone());
            let event = AuditEvent::by_cli(audit::action::USER_ADDED, audit::outcome::OK);
            account.add(&store, password_hash, event).await?;
            println!("added {} {username} (officer id {officer_id})", role.as_str());
        }
        Command::Records(command) => admin_commands::run_records(&cli.store().await?, command).await?,
        Command::Demo(DemoCommand::Users) => waypoint_server::demo::add_demo_users(&cli.store().await?).await?,
        Command::Demo(DemoCommand::Code { username }) => {
            println!("{}", waypoint_server::demo::demo_code(&cli.store().await?, username).await?)
        }
        Command::User(command) => admin_commands::run_user(&cli.store().await?, command).await?,
        Command::Device(DeviceCommand::List) => admin_commands::list_devices(&cli.store().await?).await?,
        Command::Device(DeviceCommand::Revoke { device_id }) => {
            let store = cli.store().await?;
            let event = AuditEvent::by_cli(audit::action::DEVICE_REVOKED, audit::outcome::OK)
                .target(format!("device {device_id}"));
            audit::recorded(&store, event, store.revoke_device(device_id, chrono::Utc::now())).await?;
            store.revoke_officer_credentials(None, Some(device_id)).await?;
            println!("revoked device {device_id}");
        }
        Command::Device(DeviceCommand::Enroll) => {
            let store = cli.store().await?;
            let event = AuditEvent::by_cli(audit::action::ENROLLMENT_CODE_ISSUED, audit::outcome::OK);
            let code = audit::recorded(&store, event, auth::create_enrollment(&store)).await?;
            println!("{code}");
            eprintln!("one-time enrollment code, valid {} hours", auth::ENROLLMENT_TTL_HOURS);
            // The device checks this against the certificate it is shown before trusting it.
            let own_cert = cli.data_dir.join("tls").join("cert.pem");
            if own_cert.exists() {
                eprintln!("certificate SHA-256: {}", tls::fingerprint(&own_cert)?);
            }
        }
        Command::Directory(DirectoryCommand::Import { samhsa, hsds }) => {
            let store = cli.store().await?;
            let source = match (samhsa, hsds) {
                (Some(dir), _) => DirectorySource::Samhsa(dir.clone()),
                (None, Some(dir)) => DirectorySource::Hsds(dir.clone()),
                (None, None) => unreachable!("clap requires one"),
            };
            let what = match &source {
                DirectorySource::Samhsa(dir) => format!("SAMHSA listings {}", dir.display()),
                DirectorySource::Hsds(dir) => format!("HSDS package {}", dir.display()),
                DirectorySource::ServiceList { csv, .. } => format!("service list {}", csv.display()),
            };
            import_directory(&store, &cli.data_dir, source, what).await?;
        }
        Command::Import(ImportCommand::Services { csv, mapping }) => {
            let store = cli.store().await?;
            let text = std::fs::read_to_string(mapping)
                .with_context(|| format!("cannot read the mapping {}", mapping.display()))?;
            let list = waypoint_directory::service_list::parse_mapping(&text)?;
            let what = format!("service list {} ({}) through {}", csv.display(), list.source, mapping.display());
            let source = DirectorySource::ServiceList { csv: csv.clone(), mapping: Box::new(list) };
            import_directory(&store, &cli.data_dir, source, what).await?;
        }
        Command::Import(ImportCommand::Encounters { csv, mapping, report }) => {
            admin_commands::import_encounters(&cli.store().await?, csv, mapping, report.as_deref()).await?;
        }
        Command::Export(ExportCommand::Encounters { format, since }) => {
            let store = cli.store().await?;
            let versions = store.versions_since(*since).await?;
            let conflicts = store.conflicts().await?;
            // Recorded before a byte is written: an export the trail does not show never happens.
            let event =
                AuditEvent::by_cli(audit::action::EXPORT, audit::outcome::OK).target("encounters").detail(format!(
                    "{} versions and {} conflicting copies, {format:?}, since {}",
                    versions.len(),
                    conflicts.len(),
                    since.map_or("the start".into(), |s| s.to_rfc3339())
                ));
            audit::record(&store, event).await?;
            export::write(&versions, &conflicts, *format, std::io::stdout().lock())?;
            eprintln!("exported {} versions ({} conflicts held)", versions.len(), conflicts.len());
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = cli.store().await?;
            match audit::verify(&store).await? {
                audit::Verdict::Intact { rows, head_hash } => {
                    println!("audit trail intact: {rows} rows, last hash {head_hash}");
                }
                audit::Verdict::Broken { seq, reason } => {
                    anyhow::bail!("audit trail broken at row {seq}: {reason}");
                }
            }
        }
        Command::Audit(AuditCommand::Export { since }) => {
            let store = cli.store().await?;
            let since_text = since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let event = AuditEvent::by_cli(audit::action::AUDIT_EXPORT, audit::outcome::OK)
                .detail(format!("since {since_text}"));
            audit::record(&store, event).await?;
            let rows = audit::export(&store, &since_text, std::io::stdout().lock()).await?;
            eprintln!("exported {rows} audit rows");
        }
    }
    Ok(())
}

/// Runs a directory import, audited when it starts and when it ends, and prints its report.
async fn import_directory(
    store: &SharedStore,
    data_dir: &std::path::Path,
    source: DirectorySource,
    what: String,
) -> anyhow::Result<()> {
    let event = AuditEvent::by_cli(audit::action::DIRECTORY_IMPORT, "started").target(what.clone());
    audit::record(store, event.clone()).await?;
    let imported = directory_feed::import(store, data_dir, source).await;
    let (report, published, snapshot) = match imported {
        Ok(done) => done,
        Err(error) => {
            let failed = event.with_outcome(audit::outcome::ERROR, format!("{error:#}"));
            if let Err(audit_error) = audit::record(store, failed).await {
                eprintln!("could not record the failure in the audit trail: {audit_error}");
            }
            return Err(error);
        }
    };
    let summary = format!(
        "{} rows read, {} created, {} updated, {} unchanged, {} rejected",
        report.rows_read,
        report.created,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    audit::record(store, event.with_outcome(audit::outcome::OK, summary)).await?;
    directory_feed::record_import(store, what, audit::CLI_ACTOR, &report, &published).await?;
    let shown = directory_feed::REPORT_ROWS_KEPT;
    for (kind, rows) in [("rejected", &report.rejected), ("warning", &report.warnings)] {
        for row in rows.iter().take(shown) {
            println!("{kind}: {} row {}: {}", row.source, row.row, row.reason);
        }
        if rows.len() > shown {
            println!("{kind}: ... and {} more", rows.len() - shown);
        }
    }
    println!(
        "{}: {} rows read, {} created, {} updated, {} unchanged, {} rejected; published {} changes and {} removals; snapshot {} services, {} bytes, cursor {}",
        report.source,
        report.rows_read,
        report.created,
        report.updated,
        report.unchanged,
        report.rejected.len(),
        published.upserts,
        published.deletes,
        snapshot.services,
        snapshot.bytes,
        snapshot.cursor
    );
    Ok(())
}
