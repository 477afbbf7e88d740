//! Who pushes, and whose encounters they may add versions to. Shared by both stores: each looks
//! up the owners of the encounters a push names inside its push transaction and calls
//! [`check_authorship`], which marks the records that would write into someone else's encounter
//! as rejected before anything is stored.
//!
//! The owner of an encounter is the officer (username) and device that pushed its first stored
//! version, kept in `encounter_owners` (one row per encounter, claimed by the push transaction
//! that stores the first version). Any later record of that encounter (a new version, or another copy of a held one) is
//! accepted only from that officer on that device, or from a caller whose role the agency allows
//! to amend others' reports ([`crate::Settings::amend_others_roles`], none by default).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use waypoint_protocol::Role;

use super::{CheckedRecord, StoreResult};

/// The authenticated sender of a push: the device (its token) and the officer signed in on it
/// (their device-bound officer credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pusher {
    pub device_id: String,
    /// The officer's username (what is stored as each version's author).
    pub username: String,
    /// The officer id (badge number) their reports carry.
    pub officer_id: String,
    /// The agency lets this officer's role add versions to other officers' encounters.
    pub may_amend_others: bool,
}

impl Pusher {
    /// An officer whose username is their officer id, with no right to amend others' reports
    /// (what most tests and benchmarks push as).
    pub fn officer(device_id: &str, username: &str) -> Self {
        Pusher {
            device_id: device_id.to_string(),
            username: username.to_string(),
            officer_id: username.to_string(),
            may_amend_others: false,
        }
    }
}

/// Who filed an encounter: the author of its first stored version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub username: String,
    pub device_id: String,
}

/// The owners known so far in one transaction: looked up from the database, or claimed by a
/// record of this transaction that creates a new encounter.
#[derive(Default)]
pub(crate) struct Owners {
    known: HashMap<Uuid, Option<Owner>>,
    /// Encounters claimed by this transaction, in claim order: the store writes them.
    pub claims: Vec<(Uuid, Owner)>,
}

impl Owners {
    /// Records the owner the database holds for `encounter_id` (looked up in bulk by a store).
    pub fn held(&mut self, encounter_id: Uuid, owner: Owner) {
        self.known.entry(encounter_id).or_insert(Some(owner));
    }
}

/// Marks each valid record of `pusher`'s push that names an encounter someone else owns as
/// rejected, with the reason. `held_owner` is asked once per encounter not known yet; a record
/// that creates an encounter claims it for the pusher, so later records of this transaction (the
/// same push or another of the group) are judged against that claim.
pub(crate) fn check_authorship(
    records: &mut [CheckedRecord],
    pusher: &Pusher,
    owners: &mut Owners,
    mut held_owner: impl FnMut(Uuid) -> StoreResult<Option<Owner>>,
) -> StoreResult<()> {
    for checked in records.iter_mut().filter(|r| r.problem.is_none()) {
        let id = checked.record.encounter_id;
        let owner = match owners.known.get(&id) {
            Some(owner) => owner.clone(),
            None => held_owner(id)?,
        };
        let problem = match &owner {
            None => None,
            Some(_) if pusher.may_amend_others => None,
            Some(o) if o.username == pusher.username && o.device_id == pusher.device_id => None,
            Some(o) if o.username != pusher.username => {
                Some(format!("encounter {id} was filed by another officer: only they can add versions to it"))
            }
            Some(_) => {
                Some(format!("encounter {id} was filed from another device: amend it on the device it was filed from"))
            }
        };
        if problem.is_none() && owner.is_none() {
            let claim = Owner { username: pusher.username.clone(), device_id: pusher.device_id.clone() };
            owners.known.insert(id, Some(claim.clone()));
            owners.claims.push((id, claim));
        } else {
            owners.known.entry(id).or_insert(owner);
        }
        checked.problem = problem;
    }
    Ok(())
}

/// A device-bound officer credential as stored (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerCredential {
    pub username: String,
    pub device_id: String,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a live officer credential speaks for, with its user's current officer id and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHolder {
    pub username: String,
    pub device_id: String,
    pub officer_id: String,
    pub role: Role,
}

#[async_trait]
pub trait OfficerCredentialStore: Send + Sync {
    /// Stores a new officer credential (by the SHA-256 of its token) for `username` on `device_id`.
    async fn add_officer_credential(&self, token_hash: &str, username: &str, device_id: &str) -> StoreResult<()>;

    /// The holder of an unrevoked credential, or `None` (unknown or revoked).
    async fn officer_credential(&self, token_hash: &str) -> StoreResult<Option<CredentialHolder>>;

    /// Revokes, now, every unrevoked officer credential of `username` (any device when `None`) on
    /// `device_id` (any user when `None`); both `None` revokes all. Returns how many. For sign-out
    /// (both given), a disabled user (`username` only) and a revoked device (`device_id` only).
    async fn revoke_officer_credentials(&self, username: Option<&str>, device_id: Option<&str>) -> StoreResult<u64>;

    /// Every credential of `username` (revoked ones too), oldest first (for the admin and tests).
    async fn officer_credentials_of(&self, username: &str) -> StoreResult<Vec<OfficerCredential>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use waypoint_protocol::PushRecord;

    fn checked(id: Uuid, version: u32) -> CheckedRecord {
        let record = PushRecord::new(id, version, u64::from(version), serde_json::json!({ "narrative": "x" }));
        CheckedRecord { record: record.into(), problem: None, canonical_body: String::new() }
    }

    #[test]
    fn only_the_owner_on_its_device_adds_versions_and_new_encounters_are_claimed() {
        let (held, fresh) = (Uuid::now_v7(), Uuid::now_v7());
        let diaz = Pusher::officer("car-12", "diaz");
        let mut owners = Owners::default();
        let asked = std::cell::RefCell::new(Vec::new());
        let lookup = |id: Uuid| {
            asked.borrow_mut().push(id);
            Ok((id == held).then(|| Owner { username: "diaz".into(), device_id: "car-12".into() }))
        };
        let mut records = [checked(held, 2), checked(fresh, 1), checked(fresh, 2)];
        check_authorship(&mut records, &diaz, &mut owners, &lookup).unwrap();
        assert!(records.iter().all(|r| r.problem.is_none()), "the owner may");
        assert_eq!(*asked.borrow(), [held, fresh], "each encounter is looked up once");
        assert_eq!(owners.claims, [(fresh, Owner { username: "diaz".into(), device_id: "car-12".into() })]);

        // Another officer on the same device, the same officer on another device.
        let mut theirs = [checked(held, 3), checked(fresh, 3)];
        check_authorship(&mut theirs, &Pusher::officer("car-12", "okafor"), &mut owners, &lookup).unwrap();
        assert!(theirs.iter().all(|r| r.problem.as_deref().unwrap().contains("another officer")));
        let mut elsewhere = [checked(fresh, 3)];
        check_authorship(&mut elsewhere, &Pusher::officer("car-7", "diaz"), &mut owners, &lookup).unwrap();
        assert!(elsewhere[0].problem.as_deref().unwrap().contains("another device"));
        // A role the agency lets amend others' reports.
        let sergeant = Pusher { may_amend_others: true, ..Pusher::officer("desk-1", "reyes") };
        let mut amended = [checked(fresh, 3)];
        check_authorship(&mut amended, &sergeant, &mut owners, &lookup).unwrap();
        assert_eq!(amended[0].problem, None);
        // A record rejected already keeps its reason.
        let mut bad = [CheckedRecord { problem: Some("body is not JSON".into()), ..checked(held, 4) }];
        check_authorship(&mut bad, &Pusher::officer("car-7", "okafor"), &mut owners, &lookup).unwrap();
        assert_eq!(bad[0].problem.as_deref(), Some("body is not JSON"));
    }
}
