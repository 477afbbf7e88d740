//! The demo agency `scripts/run.sh` starts: an officer, a sergeant and an admin with a known
//! password, the sergeant's and admin's authenticator already enrolled with a demo secret, and
//! `demo code NAME` printing a demo account's current code (so a new user can try the console
//! without an authenticator app). Demo secrets are derived from the username, so `demo code`
//! answers only for accounts whose stored secret is that demo secret: never for a real account.

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use waypoint_protocol::Role;

use crate::audit::{self, action, outcome, AuditEvent};
use crate::store::{SharedStore, UserRecord};
use crate::{auth, mfa};

pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo accounts: username, role, officer id.
pub const DEMO_USERS: &[(&str, Role, &str)] = &[
    ("demo.officer", Role::Officer, "DEMO-1207"),
    ("demo.sergeant", Role::Supervisor, "DEMO-2001"),
    ("demo.admin", Role::Admin, "DEMO-9001"),
];

/// The demo secret of `username` (base32, 160 bits).
pub fn demo_secret(username: &str) -> String {
    let digest = Sha256::digest(format!("waypoint demo authenticator {username}").as_bytes());
    totp_rs::Secret::from(digest[..20].to_vec()).to_base32()
}

/// Adds the demo accounts that are missing; prints what to sign in with.
pub async fn add_demo_users(store: &SharedStore) -> anyhow::Result<()> {
    for &(username, role, officer_id) in DEMO_USERS {
        if store.user_account(username).await?.is_some() {
            continue;
        }
        let password_hash = auth::hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        let user = UserRecord { username: username.into(), officer_id: officer_id.into(), role, password_hash };
        let event = AuditEvent::by_cli(action::USER_ADDED, outcome::OK)
            .target(format!("user {username}"))
            .detail(format!("demo {} (officer id {officer_id})", role.as_str()));
        audit::recorded(store, event, store.add_user(user)).await?;
        if role != Role::Officer {
            store.set_totp(username, &demo_secret(username), &[]).await?;
        }
        println!("added demo {} {username} (officer id {officer_id})", role.as_str());
    }
    Ok(())
}

/// The current authenticator code of a demo account.
pub async fn demo_code(store: &SharedStore, username: &str) -> anyhow::Result<String> {
    let account = store.user_account(username).await?.with_context(|| format!("no user {username}"))?;
    match account.totp_secret {
        Some(secret) if secret == demo_secret(username) => Ok(mfa::current_code(&secret)),
        Some(_) => bail!("{username} is not a demo account: use the authenticator app it enrolled"),
        None => bail!("{username} has no authenticator enrolled (it enrols at its first sign-in)"),
    }
}
