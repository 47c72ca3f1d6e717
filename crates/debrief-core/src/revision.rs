//! Revision history: who changed what, when. Every change to a postmortem or its parts is kept.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::postmortem::simple_enum;

simple_enum!(
    /// Which part of a postmortem a revision changed.
    Entity, "entity" {
        Postmortem => "postmortem",
        Event => "event",
        Action => "action",
        Participant => "participant",
    }
);

/// One field's value before and after a change. `null` stands for "absent".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub entity: Entity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<i64>,
    /// `created`, `updated`, `hidden`, `status draft → in_review`, `imported 42 events`, …
    pub summary: String,
    pub changes: Vec<FieldChange>,
}

/// The fields that differ between two JSON renderings of a value, by dotted path. Objects are
/// compared key by key; anything else (arrays included) is compared whole.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_into("", before, after, &mut out);
    out
}

fn diff_into(path: &str, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_into(
                    &sub,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ => out.push(FieldChange {
            field: path.to_owned(),
            before: before.clone(),
            after: after.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_changed_paths_only() {
        let a = json!({"title": "A", "meeting": {"location": "Room 1"}, "tags": ["x"]});
        let b = json!({"title": "B", "meeting": {"location": "Room 1", "notes": "n"}, "tags": ["x", "y"]});
        let d = diff(&a, &b);
        let fields: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["meeting.notes", "tags", "title"]);
        assert_eq!(d[2].before, json!("A"));
        assert!(diff(&a, &a).is_empty());
    }
}
