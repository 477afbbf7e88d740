//! A field-by-field difference between two versions of an encounter: each leaf that differs,
//! with its dotted path and both values.

use serde_json::Value;
use waypoint_protocol::FieldChange;

/// Every leaf of `before` and `after` that differs, in document order. Objects are walked key by
/// key, arrays item by item (`referrals[0].outcome`); a value that changes type is one change.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(String::new(), Some(before), Some(after), &mut changes);
    changes
}

fn walk(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                walk(child, a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange { path, before: a.cloned(), after: b.cloned() }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn leaves_that_differ_with_their_paths() {
        let a = json!({"narrative": "a", "response": {"handcuffs": false, "reportable_force": false},
                       "dispositions": ["referral_made"], "gone": 1});
        let b = json!({"narrative": "b", "response": {"handcuffs": false, "reportable_force": true},
                       "dispositions": ["referral_made", "emergency_detention"], "new": {"x": 1}});
        let changes = diff(&a, &b);
        let mut paths: Vec<_> = changes.iter().map(|c| c.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["dispositions[1]", "gone", "narrative", "new", "response.reportable_force"]);
        let at = |path: &str| changes.iter().find(|c| c.path == path).unwrap();
        assert_eq!(
            (at("response.reportable_force").before.clone(), at("response.reportable_force").after.clone()),
            (Some(json!(false)), Some(json!(true)))
        );
        assert_eq!(at("dispositions[1]").before, None);
        assert_eq!(at("gone").after, None);
        assert_eq!(at("new").after, Some(json!({"x": 1})));
        assert!(diff(&a, &a).is_empty());
    }
}
