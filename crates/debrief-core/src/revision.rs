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

/// Undoes `changes` on `value`: every changed path gets its `before` value back (`null` removes
/// the field). Applying the changes of later revisions, newest first, gives the value as it was
/// at an earlier revision — which is how a postmortem is restored.
pub fn undo(value: &mut Value, changes: &[FieldChange]) {
    for change in changes {
        set_path(value, &change.field, change.before.clone());
    }
}

fn set_path(value: &mut Value, path: &str, new: Value) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    if !value.is_object() {
        *value = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = value else { return };
    match rest {
        None if new.is_null() => {
            map.remove(head);
        }
        None => {
            map.insert(head.to_owned(), new);
        }
        Some(rest) => {
            let child = map.entry(head.to_owned()).or_insert(Value::Null);
            set_path(child, rest, new);
            if child.as_object().is_some_and(serde_json::Map::is_empty) {
                map.remove(head);
            }
        }
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

    #[test]
    fn undo_reverses_a_diff() {
        let a = json!({"title": "A", "meeting": {"location": "Room 1"}, "tags": ["x"]});
        let b = json!({"title": "B", "meeting": {"location": "Room 1", "notes": "n"}, "tags": ["x", "y"], "impact": "i"});
        let mut v = b.clone();
        undo(&mut v, &diff(&a, &b));
        assert_eq!(v, a);
        let mut w = a.clone();
        undo(&mut w, &diff(&b, &a));
        assert_eq!(w, b);
    }
}
