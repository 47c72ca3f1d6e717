//! The storage port of Debrief: one trait, [`Store`], whose methods are whole use cases
//! (create a postmortem, edit an event with optimistic concurrency, bulk-insert an import, search
//! the archive…), plus the pieces every adapter shares so that they behave alike: errors, filters,
//! the text that full-text search indexes, how a milestone event sets a key moment, and the
//! [`contract`] test suite that every adapter runs unchanged.
//!
//! Architecture invariant: the server and the CLI hold an `Arc<dyn Store>` and never learn which
//! database is behind it. Adapters live in their own crates (`debrief-store-sqlite`,
//! `debrief-store-postgres`), each with its own migrations.

pub mod accounts;
pub mod channels;
pub mod contract;
pub mod jobs;
pub mod search;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use debrief_core::{
    ActionFields, ActionId, ActionItem, ActionStatus, EventFields, EventId, Key, Label, Moment,
    ParseError, Participant, ParticipantFields, ParticipantId, Postmortem, PostmortemDocument,
    PostmortemFields, ProgressUpdate, Revision, Severity, Source, Status, TimelineEvent,
    TransitionError, Version,
};

pub use accounts::{
    Accounts, Credentials, NewSession, NewToken, NewUser, Session, UserChange, last_use_is_stale,
};
pub use channels::Channels;
pub use jobs::{Claim, Enqueued, Job, JobFilter, JobId, JobState, Jobs, NewJob};
pub use search::{SearchDocument, SearchQuery, SearchTerm};

/// Why a use case did not happen. Whatever the error, nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// The edit was made on an older version. `current` is the record as it is now, so a person
    /// can compare and re-apply their change.
    #[error(
        "{what} was changed by someone else (now at version {current_version}); reload and re-apply your change"
    )]
    Conflict {
        what: String,
        current_version: Version,
        current: Box<serde_json::Value>,
    },
    #[error("{0} already exists")]
    Duplicate(String),
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database failed (unreachable, disk full, …). The message is for operators' logs.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// A conflict carrying the current state of `current`.
    pub fn conflict(
        what: impl Into<String>,
        current_version: Version,
        current: &impl Serialize,
    ) -> StoreError {
        StoreError::Conflict {
            what: what.into(),
            current_version,
            current: Box::new(serde_json::to_value(current).unwrap_or(serde_json::Value::Null)),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Filters for listing and searching postmortems. All given filters must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostmortemFilter {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub service: Option<Label>,
    /// Incidents that started (or, with no start recorded, were created) at or after this instant.
    pub from: Option<Timestamp>,
    /// … and before this instant.
    pub until: Option<Timestamp>,
    /// At most this many results (default 100, at most 1000).
    pub limit: Option<u32>,
}

impl PostmortemFilter {
    pub fn effective_limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(100).clamp(1, 1000))
    }
}

/// A line in a listing of postmortems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostmortemSummary {
    pub key: Key,
    pub version: Version,
    pub title: String,
    pub status: Status,
    pub severity: Severity,
    pub services: Vec<Label>,
    /// When the incident started, or when the postmortem was created if no start is recorded.
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PostmortemSummary {
    pub fn of(p: &Postmortem) -> PostmortemSummary {
        PostmortemSummary {
            key: p.key,
            version: p.version,
            title: p.fields.title.to_string(),
            status: p.status,
            severity: p.fields.severity,
            services: p.fields.services.clone(),
            occurred_at: occurred_at(&p.fields, p.created_at),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// The instant a postmortem is filed under: the incident's start, else its creation.
pub fn occurred_at(fields: &PostmortemFields, created_at: Timestamp) -> Timestamp {
    fields
        .key_moments
        .started
        .as_ref()
        .map_or(created_at, Moment::at)
}

/// A search result: the postmortem, how well it matched (higher is better), and a snippet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub postmortem: PostmortemSummary,
    pub rank: f64,
    pub snippet: String,
}

/// Which timeline events to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub include_hidden: bool,
}

/// Filters for the action board across all postmortems. All given filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    pub postmortem: Option<Key>,
    /// Owner name, compared without regard to case.
    pub owner: Option<String>,
    /// `open`, `in_progress`, `done` or `declined`.
    pub status: Option<ActionStatusName>,
    /// Unfinished actions whose check-in date is before this date.
    pub overdue_on: Option<Date>,
}

/// An action status without its payload, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatusName {
    Open,
    InProgress,
    Done,
    Declined,
}

impl ActionStatusName {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatusName::Open => "open",
            ActionStatusName::InProgress => "in_progress",
            ActionStatusName::Done => "done",
            ActionStatusName::Declined => "declined",
        }
    }
}

impl std::str::FromStr for ActionStatusName {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "open" => Ok(ActionStatusName::Open),
            "in_progress" => Ok(ActionStatusName::InProgress),
            "done" => Ok(ActionStatusName::Done),
            "declined" => Ok(ActionStatusName::Declined),
            _ => Err(ParseError::new(
                "status",
                format!(
                    "{:?} is not an action status: expected one of open, in_progress, done, declined",
                    s.trim()
                ),
            )),
        }
    }
}

/// Counts for dashboards and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every status with how many postmortems are in it (statuses with none included).
    pub postmortems_by_status: Vec<(Status, u64)>,
    /// Action items not done or declined.
    pub open_actions: u64,
    /// … of which the check-in date is before `today`.
    pub overdue_actions: u64,
}

impl Stats {
    /// Stats from per-status counts as a database returns them (status names as stored).
    pub fn from_counts(counts: &[(String, i64)], open: i64, overdue: i64) -> Result<Stats> {
        let mut by = Vec::new();
        for status in Status::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n);
            by.push((*status, u64::try_from(n).unwrap_or(0)));
        }
        Ok(Stats {
            postmortems_by_status: by,
            open_actions: u64::try_from(open).unwrap_or(0),
            overdue_actions: u64::try_from(overdue).unwrap_or(0),
        })
    }
}

/// What a bulk insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BulkOutcome {
    pub added: usize,
    /// Events whose (source, source id) was already on the timeline, or repeated in the batch.
    pub already_present: usize,
}

/// The storage port: every use case Debrief needs from a database, each one atomic.
///
/// `by` names who makes a change; it is written to the revision history.
#[async_trait]
pub trait Store: Accounts + jobs::Jobs + Channels + Send + Sync + std::fmt::Debug {
    /// Which database this is, for logs and `debrief migrate`: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Creates a draft postmortem with the next free key.
    async fn create_postmortem(&self, by: &str, fields: PostmortemFields) -> Result<Postmortem>;
    /// Stores a whole document (from a Markdown or JSON import) in one transaction. The document's
    /// key is kept when given; a key already in use is refused.
    async fn import_document(&self, by: &str, doc: PostmortemDocument) -> Result<Postmortem>;
    async fn get_postmortem(&self, key: Key) -> Result<Postmortem>;
    async fn list_postmortems(&self, filter: &PostmortemFilter) -> Result<Vec<PostmortemSummary>>;
    /// Replaces the postmortem's fields. Refused with [`StoreError::Conflict`] unless `expected` is
    /// the current version.
    async fn update_postmortem(
        &self,
        by: &str,
        key: Key,
        expected: Version,
        fields: PostmortemFields,
    ) -> Result<Postmortem>;
    /// Moves the postmortem to another status, by the rules of [`Status::transition`].
    async fn change_status(
        &self,
        by: &str,
        key: Key,
        expected: Version,
        to: Status,
    ) -> Result<Postmortem>;

    async fn add_event(&self, by: &str, key: Key, event: EventFields) -> Result<TimelineEvent>;
    async fn edit_event(
        &self,
        by: &str,
        key: Key,
        id: EventId,
        expected: Version,
        event: EventFields,
    ) -> Result<TimelineEvent>;
    async fn set_event_hidden(
        &self,
        by: &str,
        key: Key,
        id: EventId,
        hidden: bool,
    ) -> Result<TimelineEvent>;
    /// Inserts many events at once, skipping those whose (source, source id) is already on this
    /// postmortem's timeline. All or nothing.
    async fn insert_events(
        &self,
        by: &str,
        key: Key,
        events: Vec<EventFields>,
    ) -> Result<BulkOutcome>;
    /// The timeline in time order (ties by insertion).
    async fn list_events(&self, key: Key, query: EventQuery) -> Result<Vec<TimelineEvent>>;

    /// Adds an action item. One added done or declined is finished now ([`finished_at`]).
    async fn add_action(&self, by: &str, key: Key, action: ActionFields) -> Result<ActionItem>;
    async fn get_action(&self, id: ActionId) -> Result<ActionItem>;
    /// Replaces an action's fields, keeping when it was finished by the rule of [`finished_at`].
    /// When this edit finishes the action (it was open or in progress) and, after it, every
    /// action of its postmortem is done or declined, a published postmortem is closed in the same
    /// transaction ([`closes_after`]): its next version, with a revision by the same actor.
    async fn update_action(
        &self,
        by: &str,
        id: ActionId,
        expected: Version,
        action: ActionFields,
    ) -> Result<ActionItem>;
    /// Appends a progress note; a new check-in date in it becomes the action's check-in date.
    async fn add_progress(
        &self,
        by: &str,
        id: ActionId,
        update: ProgressUpdate,
    ) -> Result<ActionItem>;
    /// Action items across all postmortems, by check-in date.
    async fn list_actions(&self, filter: &ActionFilter) -> Result<Vec<ActionItem>>;

    async fn add_participant(
        &self,
        by: &str,
        key: Key,
        participant: ParticipantFields,
    ) -> Result<Participant>;
    async fn update_participant(
        &self,
        by: &str,
        key: Key,
        id: ParticipantId,
        expected: Version,
        participant: ParticipantFields,
    ) -> Result<Participant>;
    async fn list_participants(&self, key: Key) -> Result<Vec<Participant>>;

    /// Postmortems by status, and open and overdue action items as of `today`.
    async fn stats(&self, today: Date) -> Result<Stats>;

    /// Every recorded change to the postmortem and its parts, oldest first.
    async fn revisions(&self, key: Key) -> Result<Vec<Revision>>;

    /// The id of the postmortem's newest revision (`None` if it has none), `NotFound` for an
    /// unknown key. Every write to a postmortem or any of its parts records a revision in its
    /// transaction, and revision ids only grow (within one postmortem, in commit order), so this
    /// changes with every change to the postmortem and never comes back to an earlier value: a
    /// reader can tell from it, in one small query, whether what it read before is still
    /// current. Read it *before* the data it vouches for.
    async fn latest_revision(&self, key: Key) -> Result<Option<i64>>;

    /// Full-text search over titles, summaries, impact, timeline text, factors and lessons,
    /// best match first, with the listing filters.
    async fn search(
        &self,
        query: &SearchQuery,
        filter: &PostmortemFilter,
    ) -> Result<Vec<SearchHit>>;

    /// The postmortem an alert group is open in (webhooks: Alertmanager's `groupKey`, PagerDuty's
    /// incident, …): the one the group's first alert opened, while it is still
    /// [open to alerts](open_to_alerts). `None` when the group has none, or its postmortem was
    /// published or closed since.
    async fn group_postmortem(
        &self,
        source: &Source,
        group_key: &str,
    ) -> Result<Option<Postmortem>>;
    /// The postmortem open for an alert group, opening a draft with `fields` when the group has
    /// none (or its postmortem is no longer [open to alerts](open_to_alerts): the group then
    /// points at the new draft). Insert-or-get in one transaction, so concurrent deliveries of
    /// one group — on one instance or several — open one postmortem. Returns the postmortem and
    /// whether it was created.
    async fn open_for_group(
        &self,
        by: &str,
        source: &Source,
        group_key: &str,
        fields: PostmortemFields,
    ) -> Result<(Postmortem, bool)>;

    /// The whole postmortem as one document (hidden events included, flagged).
    async fn get_document(&self, key: Key) -> Result<PostmortemDocument> {
        let pm = self.get_postmortem(key).await?;
        let events = self
            .list_events(
                key,
                EventQuery {
                    include_hidden: true,
                },
            )
            .await?;
        let actions = self
            .list_actions(&ActionFilter {
                postmortem: Some(key),
                ..ActionFilter::default()
            })
            .await?;
        let participants = self.list_participants(key).await?;
        Ok(PostmortemDocument::from_parts(
            &pm,
            &events,
            &actions,
            &participants,
        ))
    }
}

/// A shared handle to whichever store is configured.
pub type DynStore = Arc<dyn Store>;

/// Whether a postmortem still takes the alerts of its group: while it is being written (draft or
/// in review). Once it is published or closed, the group's next firing alert is a new incident.
pub fn open_to_alerts(status: Status) -> bool {
    matches!(status, Status::Draft | Status::InReview)
}

/// The longest alert group key stored; callers hash longer ones.
pub const MAX_GROUP_KEY_BYTES: usize = 500;

/// Checks an alert group key before it is stored: one non-empty line of at most
/// [`MAX_GROUP_KEY_BYTES`].
pub fn check_group_key(group_key: &str) -> Result<()> {
    if group_key.is_empty()
        || group_key.len() > MAX_GROUP_KEY_BYTES
        || group_key.chars().any(char::is_control)
    {
        return Err(ParseError::new(
            "group_key",
            format!(
                "must be one non-empty line of at most {MAX_GROUP_KEY_BYTES} bytes without control characters"
            ),
        )
        .into());
    }
    Ok(())
}

/// The revision summary of a postmortem opened for an alert group (the key cut to 120 characters).
pub fn group_summary(source: &Source, group_key: &str) -> String {
    let mut key: String = group_key.chars().take(120).collect();
    if key.len() < group_key.len() {
        key.push('…');
    }
    format!("opened by {source} alert group {key}")
}

/// Checks an event before it is written: the cross-field rules, in stored form.
pub fn prepare_event(mut event: EventFields) -> Result<EventFields> {
    event.normalize();
    event.validate()?;
    Ok(event)
}

/// Checks an action before it is written.
pub fn prepare_action(mut action: ActionFields) -> Result<ActionFields> {
    action.normalize();
    action.validate()?;
    Ok(action)
}

/// Checks postmortem fields and brings them into stored form.
pub fn prepare_postmortem(mut fields: PostmortemFields) -> Result<PostmortemFields> {
    fields.validate()?;
    fields.normalize();
    Ok(fields)
}

/// Checks participant fields and brings them into stored form.
pub fn prepare_participant(mut p: ParticipantFields) -> Result<ParticipantFields> {
    p.validate()?;
    p.normalize();
    Ok(p)
}

/// A stored record that people edit: it has a version and the fields they write.
pub trait Versioned: Serialize {
    type Fields: PartialEq + Serialize;
    fn version(&self) -> Version;
    fn fields(&self) -> &Self::Fields;
}

macro_rules! versioned {
    ($($record:ty => $fields:ty),* $(,)?) => {$(
        impl Versioned for $record {
            type Fields = $fields;
            fn version(&self) -> Version {
                self.version
            }
            fn fields(&self) -> &$fields {
                &self.fields
            }
        }
    )*};
}

versioned!(
    Postmortem => PostmortemFields,
    TimelineEvent => EventFields,
    ActionItem => ActionFields,
    Participant => ParticipantFields,
);

/// What an edit does once the optimistic-concurrency rule allowed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// The new fields equal the current ones: nothing to write, no new version.
    Unchanged,
    /// Write the new fields at `version`, recording `changes`.
    Apply {
        version: Version,
        changes: Vec<debrief_core::FieldChange>,
    },
}

/// Refuses a stale write: unless `expected` is `current`'s version, the error carries `current`.
pub fn check_version<R: Versioned>(
    what: impl Into<String>,
    current: &R,
    expected: Version,
) -> Result<()> {
    if current.version() == expected {
        Ok(())
    } else {
        Err(StoreError::conflict(what, current.version(), current))
    }
}

/// The optimistic-concurrency rule every adapter applies to an edit of `current` into `new`,
/// made on version `expected`.
pub fn check_edit<R: Versioned>(
    what: impl Into<String>,
    current: &R,
    expected: Version,
    new: &R::Fields,
) -> Result<Edit> {
    check_version(what, current, expected)?;
    if current.fields() == new {
        return Ok(Edit::Unchanged);
    }
    Ok(Edit::Apply {
        version: Version(current.version().0 + 1),
        changes: changes(current.fields(), new),
    })
}

/// A closed postmortem has every action done or declined: it takes no new or reopened action.
pub fn check_action_allowed(postmortem: Status, action: &ActionFields) -> Result<()> {
    if postmortem == Status::Closed && !action.status.is_finished() {
        return Err(TransitionError::ActionOnClosed.into());
    }
    Ok(())
}

/// When an action was finished, after a write at `at` that gives it the status `after`; `before`
/// is its status and finish time as stored (`None` for a new action). Finished — done, or declined
/// with a reason — now when it was not finished before or switched between done and declined; kept
/// when it stays finished under the same status; `None` once it is open or in progress again.
pub fn finished_at(
    before: Option<(&ActionStatus, Option<Timestamp>)>,
    after: &ActionStatus,
    at: Timestamp,
) -> Option<Timestamp> {
    if !after.is_finished() {
        return None;
    }
    match before {
        Some((status, finished)) if status.is_finished() && status.name() == after.name() => {
            // A record from before finish times were kept has none: it finishes now.
            finished.or(Some(at))
        }
        _ => Some(at),
    }
}

/// Whether a write that took an action from unfinished to finished may close its postmortem
/// (see [`closes_after`]). Edits of an action that was already finished never close anything.
pub fn finishes(before: &ActionStatus, after: &ActionStatus) -> bool {
    !before.is_finished() && after.is_finished()
}

/// Whether a postmortem closes itself once an action was finished: it is published and, after
/// the write, none of its `total` actions is `unfinished` (and it has at least one). A postmortem
/// in draft or in review stays where it is; nothing is ever reopened automatically.
pub fn closes_after(status: Status, unfinished: usize, total: usize) -> bool {
    status == Status::Published && total > 0 && unfinished == 0
}

/// The revision summary of a postmortem that closed itself.
pub fn auto_close_summary() -> String {
    format!(
        "{} because every action is done or declined",
        status_summary(
            Status::Published,
            Status::Closed,
            debrief_core::Direction::Forward
        )
    )
}

/// The field change recorded for a status move.
pub fn status_change(from: Status, to: Status) -> debrief_core::FieldChange {
    debrief_core::FieldChange {
        field: "status".into(),
        before: from.as_str().into(),
        after: to.as_str().into(),
    }
}

/// A document (an import) may say `closed` only when every action in it is done or declined.
pub fn check_document_status<'a>(
    status: Status,
    actions: impl IntoIterator<Item = &'a ActionFields>,
) -> Result<()> {
    if status == Status::Closed {
        let open = actions
            .into_iter()
            .filter(|a| !a.status.is_finished())
            .count();
        if open > 0 {
            return Err(TransitionError::OpenActions { open }.into());
        }
    }
    Ok(())
}

/// Moves the postmortem's key moments after an event was written: `before` is the event as it
/// was (`None` for a new one), `after` as it is now. A key moment follows its milestone event — it
/// takes the event's time — and when an edited event stops being that milestone, the key moment it
/// had set is cleared, so a derived value never outlives its source. Returns whether anything
/// changed.
pub fn follow_milestone(
    fields: &mut PostmortemFields,
    before: Option<&EventFields>,
    after: &EventFields,
) -> bool {
    let mut changed = false;
    if let Some(old) = before
        && let Some(which) = old.milestone
        && after.milestone != Some(which)
        && fields.key_moments.get(which) == Some(&old.happened_at)
    {
        fields.key_moments.set(which, None);
        changed = true;
    }
    if let Some(which) = after.milestone
        && fields.key_moments.get(which) != Some(&after.happened_at)
    {
        fields
            .key_moments
            .set(which, Some(after.happened_at.clone()));
        changed = true;
    }
    changed
}

/// For an imported document: a milestone event fills its key moment only when the document has
/// none. A key moment written in the document wins — it may have been corrected after the
/// milestone was recorded.
pub fn fill_key_moment(fields: &mut PostmortemFields, event: &EventFields) {
    if let Some(which) = event.milestone
        && fields.key_moments.get(which).is_none()
    {
        fields
            .key_moments
            .set(which, Some(event.happened_at.clone()));
    }
}

/// The field changes between two versions of a value, for the revision history.
pub fn changes<A: Serialize, B: Serialize>(
    before: &A,
    after: &B,
) -> Vec<debrief_core::FieldChange> {
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or(serde_json::Value::Null);
    debrief_core::revision::diff(
        &json(serde_json::to_value(before)),
        &json(serde_json::to_value(after)),
    )
}

/// The change summary recorded for a status move.
pub fn status_summary(from: Status, to: Status, direction: debrief_core::Direction) -> String {
    match direction {
        debrief_core::Direction::Forward => format!("status {from} → {to}"),
        debrief_core::Direction::Backward => format!("status {from} → {to} (moved back)"),
    }
}

/// The search document of a postmortem from its fields and its events' stored JSON bodies (all of
/// them, hidden ones included), as both adapters rebuild it.
pub fn search_document(
    fields: &PostmortemFields,
    event_bodies: &[String],
) -> Result<SearchDocument> {
    let events = event_bodies
        .iter()
        .map(|b| from_json::<EventFields>("event", b))
        .collect::<Result<Vec<_>>>()?;
    Ok(SearchDocument::build(fields, &events))
}

/// Serializes a domain value for a JSON column. Domain values always serialize.
pub fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))
}

/// Reads a domain value back from a JSON column.
pub fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("stored {what} is unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("instant")
    }

    #[test]
    fn finish_times_are_set_kept_and_cleared() {
        let t1 = ts("2025-03-01T10:00:00Z");
        let t2 = ts("2025-03-02T10:00:00Z");
        let declined = |why: &str| ActionStatus::Declined {
            reason: why.parse().expect("reason"),
        };
        assert_eq!(finished_at(None, &ActionStatus::Open, t1), None);
        assert_eq!(finished_at(None, &ActionStatus::Done, t1), Some(t1));
        let open = ActionStatus::Open;
        assert_eq!(
            finished_at(Some((&open, None)), &ActionStatus::Done, t2),
            Some(t2)
        );
        let done = ActionStatus::Done;
        assert_eq!(
            finished_at(Some((&done, Some(t1))), &ActionStatus::Done, t2),
            Some(t1)
        );
        assert_eq!(
            finished_at(Some((&done, Some(t1))), &declined("dup"), t2),
            Some(t2)
        );
        let first = declined("covered elsewhere");
        assert_eq!(
            finished_at(Some((&first, Some(t1))), &declined("covered by PM-3"), t2),
            Some(t1)
        );
        assert_eq!(
            finished_at(Some((&done, Some(t1))), &ActionStatus::InProgress, t2),
            None
        );
        assert_eq!(
            finished_at(Some((&done, None)), &ActionStatus::Done, t2),
            Some(t2)
        );
    }

    #[test]
    fn only_a_published_postmortem_with_every_action_finished_closes() {
        assert!(closes_after(Status::Published, 0, 3));
        assert!(!closes_after(Status::Published, 1, 3));
        assert!(!closes_after(Status::Published, 0, 0));
        for status in [Status::Draft, Status::InReview, Status::Closed] {
            assert!(!closes_after(status, 0, 2), "{status}");
        }
        assert!(finishes(&ActionStatus::InProgress, &ActionStatus::Done));
        assert!(!finishes(&ActionStatus::Done, &ActionStatus::Done));
        assert!(!finishes(&ActionStatus::Open, &ActionStatus::InProgress));
        assert!(auto_close_summary().contains("published → closed"));
    }
}
