//! The review state machine, as pure functions the stores call inside the transaction that
//! records a decision (so two supervisors deciding at once are judged one after the other).
//!
//! A version is `submitted` until decided, then `approved` or `returned` (with a comment). Only
//! the latest version held can be decided. Nobody decides on their own report. A decided version
//! changes its decision only through a new decision that gives a reason; every decision stays. The
//! same decision with the same comment again is a retry (a double click, a lost reply): nothing new
//! is recorded and the reply is the first decision's feed position.

use uuid::Uuid;
use waypoint_protocol::ReviewDecision;

/// A decision a supervisor asks to record, with blank texts already made `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub reviewer: String,
    pub encounter_id: Uuid,
    pub version: u32,
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub reason: Option<String>,
}

impl DecisionInput {
    pub fn new(reviewer: &str, request: waypoint_protocol::ReviewRequest) -> Self {
        let text = |t: Option<String>| t.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        DecisionInput {
            reviewer: reviewer.to_string(),
            encounter_id: request.encounter_id,
            version: request.version,
            decision: request.decision,
            comment: text(request.comment),
            reason: text(request.reason),
        }
    }
}

/// The last decision recorded on a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDecision {
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub feed_seq: u64,
}

/// What the store read about the version to decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    /// The latest version held of the encounter.
    pub latest_version: u32,
    /// Who wrote the version (see [`is_own_report`]).
    pub author: String,
    /// The device that pushed it: it receives the decision in its pull feed.
    pub device_id: String,
    pub last_decision: Option<LastDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Record the decision and send it to the device.
    Record,
    /// The decision already in force, asked again: answer with its feed position.
    Repeat { feed_seq: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("the server holds no version {version} of encounter {encounter_id}")]
    NotHeld { encounter_id: Uuid, version: u32 },
    #[error("you wrote this report: another supervisor must review it")]
    OwnReport,
    #[error("version {version} is superseded: the current version is {current}; review version {current}")]
    Superseded { version: u32, current: u32 },
    #[error("say what to correct: a returned report needs a comment")]
    NeedsComment,
    #[error("version {version} is already {current}: changing the decision needs a reason")]
    NeedsReason { version: u32, current: &'static str },
}

/// Whether `reviewer` wrote the report `author` names. The one place this is decided.
// At merge: `author` becomes the authenticated officer of the version (the `officer` column of
// encounter_versions); today the stores pass the body's `officer_id`.
pub fn is_own_report(reviewer: &str, author: &str) -> bool {
    reviewer.trim().eq_ignore_ascii_case(author.trim())
}

/// Judges `input` against what the store holds (`None`: not that version).
pub fn judge(target: Option<&ReviewTarget>, input: &DecisionInput) -> Result<Verdict, ReviewRefusal> {
    let target = target.ok_or(ReviewRefusal::NotHeld { encounter_id: input.encounter_id, version: input.version })?;
    if is_own_report(&input.reviewer, &target.author) {
        return Err(ReviewRefusal::OwnReport);
    }
    if input.version < target.latest_version {
        return Err(ReviewRefusal::Superseded { version: input.version, current: target.latest_version });
    }
    if input.decision == ReviewDecision::Returned && input.comment.is_none() {
        return Err(ReviewRefusal::NeedsComment);
    }
    match &target.last_decision {
        None => Ok(Verdict::Record),
        Some(last) if last.decision == input.decision && last.comment == input.comment => {
            Ok(Verdict::Repeat { feed_seq: last.feed_seq })
        }
        Some(_) if input.reason.is_some() => Ok(Verdict::Record),
        Some(last) => Err(ReviewRefusal::NeedsReason { version: input.version, current: last.decision.as_str() }),
    }
}
