//! The `user` (besides `add`), `device list`, `records` and `import encounters` commands of the
//! admin CLI.

use chrono::{SecondsFormat, Utc};
use waypoint_server::audit::{self, action, outcome, AuditEvent};
use waypoint_server::auth;
use waypoint_server::store::SharedStore;

use crate::{read_password, RecordsCommand, UserCommand};

fn when(time: Option<chrono::DateTime<Utc>>) -> String {
    time.map_or_else(|| "-".to_string(), |t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub async fn run_user(store: &SharedStore, command: &UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { .. } => unreachable!("handled in main"),
        UserCommand::List => {
            let now = Utc::now();
            println!("username\trole\tenabled\tlocked\tmfa\tlast_sign_in");
            for account in store.user_accounts().await? {
                let user = &account;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    user.username,
                    user.role.as_str(),
                    if user.enabled { "yes" } else { "no" },
                    user.locked_until
                        .filter(|_| user.is_locked(now))
                        .map_or_else(|| "no".to_string(), |t| format!("until {}", when(Some(t)))),
                    if user.totp_secret.is_some() { "enrolled" } else { "none" },
                    when(user.last_sign_in_at),
                );
            }
        }
        UserCommand::Disable { username } => {
            audit::record(
                store,
                AuditEvent::by_cli(action::USER_DISABLED, outcome::OK).target(format!("user {username}")),
            )
            .await?;
            store.set_user_enabled(username, false).await?;
            store.revoke_officer_credentials(Some(username), None).await?;
            println!("disabled {username}; their sessions and device sign-ins ended");
        }
        UserCommand::Enable { username } => {
            audit::record(
                store,
                AuditEvent::by_cli(action::USER_ENABLED, outcome::OK).target(format!("user {username}")),
            )
            .await?;
            store.set_user_enabled(username, true).await?;
            println!("enabled {username}");
        }
        UserCommand::ResetPassword { username, password_stdin } => {
            anyhow::ensure!(store.user_account(username).await?.is_some(), "no user {username}");
            let password = read_password(*password_stdin)?;
            let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
            audit::record(
                store,
                AuditEvent::by_cli(action::PASSWORD_RESET, outcome::OK).target(format!("user {username}")),
            )
            .await?;
            store.set_password_hash(username, &hash).await?;
            println!("new password set for {username}; their sessions ended");
        }
        UserCommand::ResetMfa { username } => {
            audit::record(store, AuditEvent::by_cli(action::MFA_RESET, outcome::OK).target(format!("user {username}")))
                .await?;
            store.reset_mfa(username).await?;
            println!("MFA reset for {username}: they enrol again at their next sign-in");
        }
        UserCommand::Unlock { username } => {
            audit::record(
                store,
                AuditEvent::by_cli(action::USER_UNLOCKED, outcome::OK).target(format!("user {username}")),
            )
            .await?;
            store.unlock_user(username).await?;
            println!("unlocked {username}");
        }
    }
    Ok(())
}

pub async fn list_devices(store: &SharedStore) -> anyhow::Result<()> {
    println!("device_id\tenrolled\tlast_seen\trevoked");
    for device in store.devices().await? {
        println!(
            "{}\t{}\t{}\t{}",
            device.device_id,
            when(Some(device.enrolled_at)),
            when(device.last_seen_at),
            when(device.revoked_at)
        );
    }
    Ok(())
}

/// The same rules and audit events as the admin API's records endpoints.
pub async fn run_records(store: &SharedStore, command: &RecordsCommand) -> anyhow::Result<()> {
    match command {
        RecordsCommand::AddCredential { name } => {
            anyhow::ensure!(
                (1..=64).contains(&name.len())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "name: use 1 to 64 letters, digits, `-` or `_`"
            );
            let token = auth::new_records_token();
            let event = AuditEvent::by_cli(action::RECORDS_CREDENTIAL_ISSUED, outcome::OK)
                .target(format!("records credential {name}"));
            let hash = auth::token_hash(&token);
            audit::recorded(store, event, store.add_api_credential(name, &hash, audit::CLI_ACTOR, Utc::now())).await?;
            println!("{token}");
            eprintln!("records credential `{name}`: the token above is shown this once");
        }
        RecordsCommand::RevokeCredential { name } => {
            let event = AuditEvent::by_cli(action::RECORDS_CREDENTIAL_REVOKED, outcome::OK)
                .target(format!("records credential {name}"));
            audit::record(store, event).await?;
            anyhow::ensure!(
                store.revoke_api_credential(name, Utc::now()).await?,
                "no live records credential `{name}`"
            );
            println!("revoked records credential {name}");
        }
        RecordsCommand::AddWebhook { url, secret } => {
            let url = waypoint_server::webhooks::check_url(url).map_err(anyhow::Error::msg)?;
            let secret = match secret {
                Some(secret) => {
                    waypoint_server::webhooks::check_secret(secret).map_err(anyhow::Error::msg)?;
                    secret.clone()
                }
                None => waypoint_server::webhooks::new_secret(),
            };
            let event = AuditEvent::by_cli(action::WEBHOOK_ADDED, outcome::OK).target(format!("webhook {url}"));
            let id =
                audit::recorded(store, event, store.add_webhook(url.as_str(), &secret, audit::CLI_ACTOR, Utc::now()))
                    .await?;
            println!("{secret}");
            eprintln!("webhook {id} -> {url}: the signing secret above is shown this once");
        }
    }
    Ok(())
}

/// `import encounters`: audited when it starts and when it ends (with its counts, or its error).
pub async fn import_encounters(
    store: &SharedStore,
    csv: &std::path::Path,
    mapping: &std::path::Path,
    report_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::IsTerminal;
    let mapping_text =
        std::fs::read_to_string(mapping).with_context(|| format!("cannot read the mapping {}", mapping.display()))?;
    let mapping_file = waypoint_server::history_mapping::parse(&mapping_text).map_err(anyhow::Error::msg)?;
    let file = std::fs::File::open(csv).with_context(|| format!("cannot read {}", csv.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let what = format!("{} through {}", csv.display(), mapping.display());
    let event = AuditEvent::by_cli(action::HISTORY_IMPORT, "started").target(what);
    audit::record(store, event.clone()).await?;
    let (_, config) = waypoint_server::agency_config::newest(store).await?;
    let interactive = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let progress = |rows: u64| {
        // Large files take minutes: say how far it is (on a terminal, on one line).
        if interactive {
            eprint!("\r{rows} rows read ({:.0} s)", started.elapsed().as_secs_f64());
        } else if rows % 100_000 < waypoint_server::history_import::BATCH_ROWS as u64 {
            eprintln!("{rows} rows read ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let imported =
        waypoint_server::history_import::import(store, reader, mapping_file, &config, Utc::now(), progress).await;
    if interactive {
        eprintln!();
    }
    let report = match imported {
        Ok(report) => report,
        Err(error) => {
            let failed = event.with_outcome(outcome::ERROR, format!("{error:#}"));
            if let Err(audit_error) = audit::record(store, failed).await {
                eprintln!("could not record the failure in the audit trail: {audit_error}");
            }
            return Err(error.context(format!("nothing was imported from {}", csv.display())));
        }
    };
    audit::record(store, event.with_outcome(outcome::OK, report.summary())).await?;
    for rejection in &report.rejections {
        println!("line {}: {}", rejection.line, rejection.reason);
    }
    if report.rejected > report.rejections.len() as u64 {
        println!("... and {} more rejected rows", report.rejected - report.rejections.len() as u64);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{} ({size} bytes in {seconds:.1} s)", report.summary());
    if let Some(path) = report_file {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    Ok(())
}
