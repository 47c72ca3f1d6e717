//! The domain of Debrief: postmortems, timeline events, action items, participants, and the rules
//! that bind them — derived durations, status transitions, the readiness check, revision diffs.
//!
//! Architecture invariant: this crate is pure. It does no I/O and knows nothing of databases, HTTP
//! or the terminal (CI checks that no such crate is in its dependency tree). Values are parsed once
//! at the edge into types that can only be valid (`Severity`, `Key`, `Title`, `Moment`, …).

mod error;

pub mod action;
pub mod document;
pub mod followthrough;
pub mod followup;
pub mod forms;
pub mod notify;
pub mod participant;
pub mod postmortem;
pub mod readiness;
pub mod revision;
pub mod text;
pub mod time;
pub mod timeline;
pub mod user;

pub use error::ParseError;

pub use action::{
    ActionFields, ActionId, ActionItem, ActionStatus, Priority, ProgressUpdate, SmartChecks,
};
pub use document::{ActionDocument, PostmortemDocument};
pub use followup::{FollowupConfig, Recipient, Reminder, ReminderKind};
pub use participant::{Participant, ParticipantFields, ParticipantId, Role};
pub use postmortem::{
    ContributingFactor, Direction, Durations, FactorCategory, Key, KeyMoment, KeyMoments,
    LessonKind, Lessons, Link, LinkKind, Meeting, Postmortem, PostmortemFields, Question,
    RemediationIdea, Severity, Status, ThreeRs, TransitionError, Version,
};
pub use revision::{Entity, FieldChange, Revision};
pub use text::{Label, Line, Name, Text, Title, Url};
pub use time::{Moment, Precision, Zone};
pub use timeline::{
    Account, Actor, ActorKind, EventFields, EventId, EventKind, Outcome, Source, TimelineEvent,
};
pub use user::{Access, ApiToken, Email, Reader, Scope, TokenId, User, UserId, UserRole};
