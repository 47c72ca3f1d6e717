//! A whole postmortem as one value — fields, status, timeline, actions and participants — without
//! the bookkeeping a store adds (ids, versions, recording times). It is what exports write and
//! imports read.

use serde::{Deserialize, Serialize};

use crate::action::{ActionFields, ActionItem, ProgressUpdate};
use crate::participant::{Participant, ParticipantFields};
use crate::postmortem::{Key, Postmortem, PostmortemFields, Status};
use crate::timeline::{EventFields, TimelineEvent};

/// An action item with its progress notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDocument {
    #[serde(flatten)]
    pub fields: ActionFields,
    #[serde(default)]
    pub progress: Vec<ProgressUpdate>,
}

/// A whole postmortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemDocument {
    /// The key it had where it was exported from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
    pub status: Status,
    #[serde(flatten)]
    pub fields: PostmortemFields,
    #[serde(default)]
    pub events: Vec<EventFields>,
    #[serde(default)]
    pub actions: Vec<ActionDocument>,
    #[serde(default)]
    pub participants: Vec<ParticipantFields>,
}

impl PostmortemDocument {
    /// Assembles a document from stored parts. Events keep the order given (the store's timeline
    /// order: by time, then by id).
    pub fn from_parts(
        postmortem: &Postmortem,
        events: &[TimelineEvent],
        actions: &[ActionItem],
        participants: &[Participant],
    ) -> PostmortemDocument {
        PostmortemDocument {
            key: Some(postmortem.key),
            status: postmortem.status,
            fields: postmortem.fields.clone(),
            events: events.iter().map(|e| e.fields.clone()).collect(),
            actions: actions
                .iter()
                .map(|a| ActionDocument {
                    fields: a.fields.clone(),
                    progress: a.progress.clone(),
                })
                .collect(),
            participants: participants.iter().map(|p| p.fields.clone()).collect(),
        }
    }
}
