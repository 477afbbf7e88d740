//! The review state machine ([`waypoint_server::review_rules::judge`]) over arbitrary requests
//! and stored states: whatever comes in, it never records a self-review, a decision on a
//! superseded version, a return without a comment, or a silent change of a decision.

use proptest::prelude::*;
use uuid::Uuid;
use waypoint_protocol::ReviewDecision;
use waypoint_server::review_rules::{judge, DecisionInput, LastDecision, ReviewRefusal, ReviewTarget, Verdict};

fn decision() -> impl Strategy<Value = ReviewDecision> {
    prop_oneof![Just(ReviewDecision::Approved), Just(ReviewDecision::Returned)]
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![Just(None), Just(Some("add the hospital".to_string())), Just(Some("wrong time".to_string()))]
}

fn person() -> impl Strategy<Value = String> {
    prop_oneof![Just("sgt.reyes".to_string()), Just("SGT.Reyes ".to_string()), Just("sgt.okafor".to_string())]
}

prop_compose! {
    fn last_decision()(decision in decision(), comment in text(), feed_seq in 1u64..100) -> LastDecision {
        LastDecision { decision, comment, feed_seq }
    }
}

prop_compose! {
    fn target()(latest_version in 1u32..4, author in person(), last in proptest::option::of(last_decision())) -> ReviewTarget {
        ReviewTarget { latest_version, author, device_id: "device".into(), last_decision: last }
    }
}

prop_compose! {
    fn input()(reviewer in person(), version in 1u32..5, decision in decision(), comment in text(), reason in text())
        -> DecisionInput {
        DecisionInput { reviewer, encounter_id: Uuid::nil(), version, decision, comment, reason }
    }
}

proptest! {
    #[test]
    fn only_allowed_decisions_are_recorded(target in proptest::option::of(target()), input in input()) {
        let verdict = judge(target.as_ref(), &input);
        let Some(target) = target else {
            let not_held = matches!(verdict, Err(ReviewRefusal::NotHeld { .. }));
            prop_assert!(not_held, "a version not held: {:?}", verdict);
            return Ok(());
        };
        let own = input.reviewer.trim().eq_ignore_ascii_case(target.author.trim());
        match verdict {
            Ok(Verdict::Record) => {
                prop_assert!(!own, "a self-review was recorded");
                prop_assert!(input.version >= target.latest_version, "a superseded version was decided");
                prop_assert!(input.decision == ReviewDecision::Approved || input.comment.is_some());
                if let Some(last) = &target.last_decision {
                    prop_assert!(input.reason.is_some(), "a decision changed without a reason");
                    prop_assert!(last.decision != input.decision || last.comment != input.comment);
                }
            }
            Ok(Verdict::Repeat { feed_seq }) => {
                let last = target.last_decision.as_ref().expect("a repeat of something");
                prop_assert_eq!(feed_seq, last.feed_seq);
                prop_assert_eq!((last.decision, &last.comment), (input.decision, &input.comment));
            }
            Err(ReviewRefusal::OwnReport) => prop_assert!(own),
            Err(ReviewRefusal::Superseded { current, .. }) => {
                prop_assert!(!own);
                prop_assert_eq!(current, target.latest_version);
                prop_assert!(input.version < current);
            }
            Err(ReviewRefusal::NeedsComment) => prop_assert!(input.comment.is_none()),
            Err(ReviewRefusal::NeedsReason { .. }) => {
                prop_assert!(input.reason.is_none() && target.last_decision.is_some());
            }
            Err(ReviewRefusal::NotHeld { .. }) => prop_assert!(false, "the version is held"),
        }
    }
}
