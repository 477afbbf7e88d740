//! Group commit, shared by both stores: pushes wait in a queue; a writer takes every push waiting
//! (up to a limit), stores the group in one transaction and answers each push. Under load that
//! turns a thousand commits (and fsyncs) into a few dozen.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};
use waypoint_protocol::PushResponse;

use super::{CheckedRecord, Pusher, StoreError, StoreResult};

/// A push waiting for a group commit.
pub(crate) struct PushJob {
    pub pusher: Pusher,
    pub records: Vec<CheckedRecord>,
    reply: oneshot::Sender<StoreResult<PushResponse>>,
}

/// The store's end: hands pushes to the writers and waits for their answers.
pub(crate) struct PushQueue(mpsc::UnboundedSender<PushJob>);

/// The writers' end: groups of waiting pushes, at most `max_group` (which bounds how long the
/// first push of a group waits). Clones share the queue. Ends when the [`PushQueue`] is dropped.
#[derive(Clone)]
pub(crate) struct PushGroups {
    queue: Arc<Mutex<mpsc::UnboundedReceiver<PushJob>>>,
    max_group: usize,
}

pub(crate) fn push_queue(max_group: usize) -> (PushQueue, PushGroups) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (PushQueue(sender), PushGroups { queue: Arc::new(Mutex::new(receiver)), max_group })
}

impl PushQueue {
    pub async fn push(&self, pusher: &Pusher, records: Vec<CheckedRecord>) -> StoreResult<PushResponse> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(PushJob { pusher: pusher.clone(), records, reply })
            .map_err(|_| StoreError::Database("the push writers have stopped".into()))?;
        answer.await.map_err(|_| StoreError::Database("the push writer stopped before answering".into()))?
    }
}

impl PushGroups {
    /// Waits for a push, then takes it and every push waiting behind it. A writer holds the queue
    /// while it waits, so with two writers one gathers while the other commits.
    pub async fn next(&self) -> Option<Vec<PushJob>> {
        let mut jobs = Vec::new();
        let received = self.queue.lock().await.recv_many(&mut jobs, self.max_group).await;
        (received > 0).then_some(jobs)
    }

    /// [`Self::next`] for a writer on a thread of its own, outside the async runtime.
    pub fn blocking_next(&self) -> Option<Vec<PushJob>> {
        let mut jobs = Vec::new();
        let received = self.queue.blocking_lock().blocking_recv_many(&mut jobs, self.max_group);
        (received > 0).then_some(jobs)
    }
}

/// Answers each push of a group with its outcome. When the group failed as a whole, nothing of it
/// was stored: every push gets the error and its device sends again.
pub(crate) fn answer(jobs: Vec<PushJob>, group: StoreResult<Vec<StoreResult<PushResponse>>>) {
    let outcomes = match group {
        Ok(outcomes) => outcomes,
        Err(error) => {
            let message = error.to_string();
            jobs.iter().map(|_| Err(StoreError::Database(message.clone()))).collect()
        }
    };
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        // The pushing request may have gone (its client hung up): nobody to answer.
        let _ = job.reply.send(outcome);
    }
}
