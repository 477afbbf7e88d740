//! Adding a user: the rules `waypoint-server user add` and `POST /v1/admin/users` share, and the
//! audited write both end in.

use waypoint_protocol::Role;

use crate::audit::{self, AuditEvent};
use crate::store::{SharedStore, StoreResult, UserRecord};

/// Longest username and officer id.
pub const MAX_NAME_CHARS: usize = 64;

/// A user that passed the checks, before their password is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    /// The badge number their reports carry (the username when none is given).
    pub officer_id: String,
}

/// A rule a new user broke: which field, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl NewAccount {
    /// Checks a new user: a username of letters, digits and `. _ - @` (it appears in paths and
    /// in the audit trail), an officer id without control characters, a long enough password.
    pub fn check(username: &str, role: Role, officer_id: Option<&str>, password: &str) -> Result<Self, Invalid> {
        let username = username.trim();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if username.is_empty() || username.chars().count() > MAX_NAME_CHARS || !username.chars().all(allowed) {
            return Err(Invalid {
                field: "username",
                message: format!("use 1 to {MAX_NAME_CHARS} letters, digits, '.', '_', '-' or '@'"),
            });
        }
        let officer_id = officer_id.map(str::trim).filter(|id| !id.is_empty()).unwrap_or(username);
        if officer_id.chars().count() > MAX_NAME_CHARS || officer_id.chars().any(char::is_control) {
            return Err(Invalid {
                field: "officer_id",
                message: format!("use at most {MAX_NAME_CHARS} characters, none of them control characters"),
            });
        }
        crate::auth::check_new_password(password).map_err(|message| Invalid { field: "password", message })?;
        Ok(NewAccount { username: username.to_string(), role, officer_id: officer_id.to_string() })
    }

    /// Records `event` (the caller's actor and client) with this user as its target, then adds
    /// the user; `AlreadyExists` when the username or officer id is taken.
    pub async fn add(self, store: &SharedStore, password_hash: String, event: AuditEvent) -> StoreResult<()> {
        let event = event.target(format!("user {}", self.username)).detail(format!(
            "{} (officer id {})",
            self.role.as_str(),
            self.officer_id
        ));
        let user = UserRecord { username: self.username, officer_id: self.officer_id, role: self.role, password_hash };
        audit::recorded(store, event, store.add_user(user)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_of_a_new_user() {
        let ok = NewAccount::check(" sgt.reyes ", Role::Supervisor, Some(" "), "a long passphrase").unwrap();
        assert_eq!((ok.username.as_str(), ok.officer_id.as_str()), ("sgt.reyes", "sgt.reyes"));
        let badge = NewAccount::check("kim", Role::Officer, Some("B-1207"), "a long passphrase").unwrap();
        assert_eq!(badge.officer_id, "B-1207");
        for (username, officer, password, field) in [
            ("", None, "a long passphrase", "username"),
            ("a/b", None, "a long passphrase", "username"),
            ("a b", None, "a long passphrase", "username"),
            ("kim", Some("x\ny"), "a long passphrase", "officer_id"),
            ("kim", None, "short", "password"),
        ] {
            assert_eq!(NewAccount::check(username, Role::Officer, officer, password).unwrap_err().field, field);
        }
    }
}
