//! The `user` (besides `add`), `device list` and `records` commands of the admin CLI.

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
