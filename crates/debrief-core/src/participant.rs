//! Participants: who took part in the incident, in which role, and whether they are invited to the
//! review. Stakeholders are not invited by default: the meeting is a safe place for responders.

use serde::{Deserialize, Serialize};

use crate::postmortem::{Version, simple_enum};
use crate::text::{Line, Name};

/// The id of a participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub i64);

simple_enum!(
    /// A participant's role in the incident.
    Role, "role" {
        IncidentLead => "incident_lead",
        Responder => "responder",
        CustomerSupport => "customer_support",
        Communications => "communications",
        SubjectExpert => "subject_expert",
        Observer => "observer",
        Stakeholder => "stakeholder",
    }
);

impl Role {
    /// Whether this role is invited to the review unless someone decides otherwise.
    pub fn invited_by_default(self) -> bool {
        self != Role::Stakeholder
    }
}

/// Everything about a participant that people write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantFields {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Line>,
    pub role: Role,
    pub invited: bool,
    #[serde(default)]
    pub attended: bool,
    /// Paged at night, off hours, on holiday, new to the team…
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub circumstances: String,
}

impl ParticipantFields {
    /// A participant with the invitation default of their role.
    pub fn new(name: Name, role: Role) -> ParticipantFields {
        ParticipantFields {
            name,
            contact: None,
            role,
            invited: role.invited_by_default(),
            attended: false,
            circumstances: String::new(),
        }
    }

    pub fn normalize(&mut self) {
        self.circumstances = crate::text::normalize_text(&self.circumstances);
    }

    /// Checks the free-text fields for characters that do not belong in text.
    pub fn validate(&self) -> Result<(), crate::ParseError> {
        crate::text::check_free_text("circumstances", &self.circumstances)
    }
}

/// A stored participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub version: Version,
    #[serde(flatten)]
    pub fields: ParticipantFields,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stakeholders_are_not_invited_by_default() {
        let s = ParticipantFields::new("VP Eng".parse().expect("name"), Role::Stakeholder);
        assert!(!s.invited);
        let r = ParticipantFields::new("Ada".parse().expect("name"), Role::Responder);
        assert!(r.invited);
        assert_eq!(
            "customer support".parse::<Role>().expect("role"),
            Role::CustomerSupport
        );
    }
}
