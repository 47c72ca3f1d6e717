//! The contract test suite: the behaviour every [`Store`] adapter must have, written once and run
//! unchanged against each database (see [`contract_tests!`](crate::contract_tests)).
//!
//! Each case takes a fresh, empty store and panics on the first broken promise.

use std::sync::Arc;

use debrief_core::notify::{
    ChannelFields, ChannelId, ChannelTarget, Preferences, SmtpSecurity, SmtpSettings, Topics,
};
use debrief_core::{
    ActionFields, ActionItem, ActionStatus, ApiToken, ContributingFactor, Email, Entity,
    EventFields, EventKind, Key, KeyMoment, LessonKind, Moment, ParticipantFields,
    PostmortemDocument, PostmortemFields, ProgressUpdate, Question, Role, Scope, Severity, Source,
    Status, TokenId, User, UserId, UserRole, Version, Zone,
};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::jobs::{Claim, DEFAULT_MAX_ATTEMPTS, Job, JobFilter, JobId, JobState, NewJob};
use crate::{
    ActionFilter, ActionStatusName, EventQuery, NewSession, NewToken, NewUser, PostmortemFilter,
    SearchQuery, Session, Store, StoreError, UserChange,
};

/// Every case, by name: the adapters' test files generate one test per name.
#[macro_export]
macro_rules! contract_tests {
    ($setup:path) => {
        $crate::contract_tests!(@cases $setup;
            create_and_get,
            keys_are_sequential_and_unknown_keys_not_found,
            update_needs_the_current_version,
            concurrent_updates_one_wins,
            list_filters,
            status_transitions,
            timeline_order_edit_and_hide,
            milestone_event_sets_key_moment,
            bulk_insert_deduplicates,
            bulk_insert_is_all_or_nothing,
            actions_across_postmortems,
            action_updates_and_progress,
            participants,
            revisions_record_every_change,
            latest_revision_moves_with_every_write,
            search_ranks_and_filters,
            search_covers_timeline_factors_lessons,
            import_document_keeps_everything,
            alert_groups_open_one_postmortem,
            first_admin_is_created_once,
            first_admin_race_has_one_winner,
            duplicate_email_is_refused,
            credentials_are_found_by_email,
            update_user_and_disabling_ends_sessions,
            sessions_expire_and_can_be_deleted,
            tokens_list_revoke_and_authenticate,
            jobs_enqueue_deduplicates,
            jobs_claim_in_run_at_order,
            jobs_concurrent_claims_never_share,
            jobs_expired_leases_are_claimed_again,
            jobs_fail_backs_off_then_parks,
            jobs_complete_is_for_the_leaseholder,
            followup_reads,
            actions_record_when_they_finished,
            postmortems_close_when_their_last_action_finishes,
            channels_are_created_listed_updated_and_deleted,
            channels_refuse_duplicates_stale_and_invalid_edits,
            preferences_default_to_every_topic_and_round_trip,
            jobs_purge_only_old_done_jobs_and_count_by_kind,
        );
    };
    (@cases $setup:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(harness) = $setup().await else { return };
                $crate::contract::$case(harness.store()).await;
            }
        )*
    };
}

/// What an adapter's test setup returns: a fresh store, cleaned up when dropped.
pub trait Harness {
    fn store(&self) -> Arc<dyn Store>;
}

const BY: &str = "contract-test";

fn moment(s: &str) -> Moment {
    Moment::parse(s, &Zone::utc()).expect("test moment")
}

fn date(s: &str) -> Date {
    s.parse().expect("test date")
}

fn fields(title: &str) -> PostmortemFields {
    PostmortemFields::new(title.parse().expect("title"), Severity::default())
}

fn event(at: &str, kind: EventKind, text: &str) -> EventFields {
    EventFields::new(moment(at), kind, text.parse().expect("text"))
}

fn imported(at: &str, source: &str, id: &str, text: &str) -> EventFields {
    let mut e = event(at, EventKind::Observation, text);
    e.source = source.parse::<Source>().expect("source");
    e.source_id = Some(id.to_owned());
    e
}

fn action(title: &str, owner: &str, check_in: &str) -> ActionFields {
    ActionFields::new(
        title.parse().expect("title"),
        Question::Prevent,
        owner.parse().expect("owner"),
        date(check_in),
    )
}

fn key(n: u32) -> Key {
    Key::new(n).expect("key")
}

fn keys<T>(items: &[T], f: impl Fn(&T) -> Key) -> Vec<String> {
    items.iter().map(|i| f(i).to_string()).collect()
}

pub async fn create_and_get(store: Arc<dyn Store>) {
    let mut f = fields("Checkout returned 500s");
    f.summary = "Checkout failed for 40 minutes.\nAbout 12% of orders failed.".into();
    f.severity = "SEV2".parse().expect("sev");
    f.services = vec![
        "checkout".parse().expect("label"),
        "payments".parse().expect("label"),
    ];
    f.key_moments.started = Some(moment("2024-05-01 10:00"));
    f.key_moments.detected = Some(moment("2024-05-01 10:07:30"));
    f.factors.push(ContributingFactor {
        category: "change".parse().expect("cat"),
        text: "A config change lowered the pool size"
            .parse()
            .expect("line"),
    });
    f.lessons
        .got_lucky
        .push("It happened during business hours".parse().expect("line"));
    let created = store
        .create_postmortem(BY, f.clone())
        .await
        .expect("create");
    assert_eq!(created.key.to_string(), "PM-1");
    assert_eq!(created.version, Version(1));
    assert_eq!(created.status, Status::Draft);
    assert_eq!(created.fields, f);

    let got = store.get_postmortem(created.key).await.expect("get");
    assert_eq!(got, created);
    assert_eq!(
        got.fields.key_moments.durations().time_to_detect,
        Some(jiff::SignedDuration::from_secs(450))
    );

    // Invisible control characters are refused, naming the field, and nothing is written.
    let mut bad = fields("Bad bytes");
    bad.summary = "x\u{0}y".into();
    let err = store.create_postmortem(BY, bad).await.expect_err("nul");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "summary"),
        "{err}"
    );
    assert!(store.get_postmortem(key(2)).await.is_err());
}

pub async fn keys_are_sequential_and_unknown_keys_not_found(store: Arc<dyn Store>) {
    for n in 1..=3 {
        let p = store
            .create_postmortem(BY, fields(&format!("Incident {n}")))
            .await
            .expect("create");
        assert_eq!(p.key, key(n));
    }
    let err = store.get_postmortem(key(99)).await.expect_err("unknown");
    assert!(
        matches!(err, StoreError::NotFound(ref what) if what.contains("PM-99")),
        "{err}"
    );
    let err = store
        .add_event(BY, key(99), event("2024-01-01 10:00", EventKind::Note, "x"))
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    let err = store
        .list_events(key(99), EventQuery::default())
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

pub async fn update_needs_the_current_version(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Queue backlog"))
        .await
        .expect("create");
    let mut edit = p.fields.clone();
    edit.summary = "Messages waited up to 2 hours.".into();
    let updated = store
        .update_postmortem("ada", p.key, p.version, edit.clone())
        .await
        .expect("update");
    assert_eq!(updated.version, Version(2));
    assert_eq!(updated.fields.summary, "Messages waited up to 2 hours.");

    // A second edit made on version 1 is refused, carrying what is there now.
    let mut stale = p.fields.clone();
    stale.summary = "Something else".into();
    let err = store
        .update_postmortem("bo", p.key, p.version, stale)
        .await
        .expect_err("stale");
    match err {
        StoreError::Conflict {
            current_version,
            current,
            ..
        } => {
            assert_eq!(current_version, Version(2));
            assert_eq!(current["summary"], "Messages waited up to 2 hours.");
        }
        other => panic!("expected a conflict, got {other}"),
    }
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(now.fields.summary, "Messages waited up to 2 hours.");
    assert_eq!(now.version, Version(2));
    // The refused edit left no revision behind.
    let revs = store.revisions(p.key).await.expect("revisions");
    assert!(revs.iter().all(|r| r.actor != "bo"), "{revs:?}");

    // An edit that changes nothing does not make a new version.
    let same = store
        .update_postmortem("ada", p.key, Version(2), edit)
        .await
        .expect("no-op");
    assert_eq!(same.version, Version(2));
}

pub async fn concurrent_updates_one_wins(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Race"))
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let mut f = p.fields.clone();
        f.summary = format!("edit {i}");
        tasks.push(tokio::spawn(async move {
            store.update_postmortem("racer", p.key, p.version, f).await
        }));
    }
    let mut wins = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((wins, conflicts), (1, 7));
    assert_eq!(
        store.get_postmortem(p.key).await.expect("get").version,
        Version(2)
    );
}

pub async fn list_filters(store: Arc<dyn Store>) {
    let specs = [
        ("Disk full on db-1", "SEV1", "database", "2024-01-10 08:00"),
        ("Login slow", "SEV3", "auth", "2024-02-15 12:00"),
        ("Checkout errors", "SEV2", "checkout", "2024-03-20 18:30"),
        ("Auth tokens expired", "SEV2", "auth", "2024-04-01 09:00"),
    ];
    for (title, sev, service, started) in specs {
        let mut f = fields(title);
        f.severity = sev.parse().expect("sev");
        f.services = vec![service.parse().expect("label")];
        f.key_moments.started = Some(moment(started));
        store.create_postmortem(BY, f).await.expect("create");
    }
    let p2 = store.get_postmortem(key(2)).await.expect("get");
    store
        .change_status(BY, key(2), p2.version, Status::InReview)
        .await
        .expect("status");

    let all = store
        .list_postmortems(&PostmortemFilter::default())
        .await
        .expect("list");
    // Newest incident first.
    assert_eq!(keys(&all, |s| s.key), ["PM-4", "PM-3", "PM-2", "PM-1"]);
    assert_eq!(all[3].title, "Disk full on db-1");
    assert_eq!(all[3].occurred_at, moment("2024-01-10 08:00").at());

    let by = |f: PostmortemFilter| {
        let store = store.clone();
        async move { keys(&store.list_postmortems(&f).await.expect("list"), |s| s.key) }
    };
    assert_eq!(
        by(PostmortemFilter {
            severity: Some("SEV2".parse().expect("s")),
            ..Default::default()
        })
        .await,
        ["PM-4", "PM-3"]
    );
    assert_eq!(
        by(PostmortemFilter {
            service: Some("auth".parse().expect("l")),
            ..Default::default()
        })
        .await,
        ["PM-4", "PM-2"]
    );
    assert_eq!(
        by(PostmortemFilter {
            status: Some(Status::InReview),
            ..Default::default()
        })
        .await,
        ["PM-2"]
    );
    assert_eq!(
        by(PostmortemFilter {
            from: Some(moment("2024-02-01").at()),
            until: Some(moment("2024-04-01").at()),
            ..Default::default()
        })
        .await,
        ["PM-3", "PM-2"]
    );
    assert_eq!(
        by(PostmortemFilter {
            service: Some("auth".parse().expect("l")),
            status: Some(Status::Draft),
            ..Default::default()
        })
        .await,
        ["PM-4"]
    );
    assert_eq!(
        by(PostmortemFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        ["PM-4", "PM-3"]
    );
}

pub async fn status_transitions(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Status walk"))
        .await
        .expect("create");
    let err = store
        .change_status(BY, p.key, p.version, Status::Published)
        .await
        .expect_err("skip");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    let p = store
        .change_status(BY, p.key, p.version, Status::InReview)
        .await
        .expect("review");
    assert_eq!((p.status, p.version), (Status::InReview, Version(2)));
    let err = store
        .change_status(BY, p.key, Version(1), Status::Published)
        .await
        .expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let p = store
        .change_status(BY, p.key, p.version, Status::Published)
        .await
        .expect("publish");

    let a = store
        .add_action(
            BY,
            p.key,
            action("Add a pool-size alert", "db-team", "2024-06-01"),
        )
        .await
        .expect("action");
    let err = store
        .change_status(BY, p.key, p.version, Status::Closed)
        .await
        .expect_err("open action");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    let mut done = a.fields.clone();
    done.status = ActionStatus::Declined {
        reason: "Replaced by the pooler migration".parse().expect("line"),
    };
    store
        .update_action(BY, a.id, a.version, done)
        .await
        .expect("decline");
    // Declining the last unfinished action closed the published postmortem by itself.
    let closed = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(
        (closed.status, closed.version),
        (Status::Closed, Version(p.version.0 + 1))
    );
    let err = store
        .change_status(BY, p.key, closed.version, Status::Closed)
        .await
        .expect_err("already closed");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    let p = closed;
    // A closed postmortem takes no new or reopened action.
    let err = store
        .add_action(BY, p.key, action("One more", "ops", "2024-07-01"))
        .await
        .expect_err("closed");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    let declined = store.get_action(a.id).await.expect("get");
    let mut reopened = declined.fields.clone();
    reopened.status = ActionStatus::Open;
    let err = store
        .update_action(BY, a.id, declined.version, reopened)
        .await
        .expect_err("closed");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    // Going back is allowed, and recorded as such.
    let p = store
        .change_status(BY, p.key, p.version, Status::InReview)
        .await
        .expect("back");
    assert_eq!(p.status, Status::InReview);
    let revs = store.revisions(p.key).await.expect("revisions");
    assert!(
        revs.iter()
            .any(|r| r.summary.contains("closed → in_review") && r.summary.contains("back")),
        "{revs:?}"
    );
    // With every action finished, closing by hand is allowed too.
    let p = store
        .change_status(BY, p.key, p.version, Status::Published)
        .await
        .expect("publish again");
    assert_eq!(p.status, Status::Published);
    let p = store
        .change_status(BY, p.key, p.version, Status::Closed)
        .await
        .expect("close");
    assert_eq!(p.status, Status::Closed);
}

pub async fn timeline_order_edit_and_hide(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Timeline"))
        .await
        .expect("create");
    let late = store
        .add_event(
            BY,
            p.key,
            event("2024-05-01 10:30", EventKind::Action, "Rolled back"),
        )
        .await
        .expect("add");
    let early = store
        .add_event(
            BY,
            p.key,
            event(
                "2024-05-01 10:05",
                EventKind::Alert,
                "Error-rate alert fired",
            ),
        )
        .await
        .expect("add");
    // Two accounts of the same moment, side by side.
    let mut ada = event(
        "2024-05-01 10:10",
        EventKind::Observation,
        "Saw the dashboard go red",
    );
    ada.account_of = Some("Ada".parse().expect("name"));
    ada.account.knew = "Errors were rising".into();
    ada.account.assumed = "The deploy was unrelated".into();
    let mut bo = event(
        "2024-05-01 10:10",
        EventKind::Observation,
        "Saw the dashboard go red",
    );
    bo.account_of = Some("Bo".parse().expect("name"));
    bo.account.expected = "The autoscaler to absorb it".into();
    store.add_event(BY, p.key, ada.clone()).await.expect("ada");
    store.add_event(BY, p.key, bo.clone()).await.expect("bo");

    let list = store
        .list_events(p.key, EventQuery::default())
        .await
        .expect("list");
    let texts: Vec<&str> = list.iter().map(|e| e.fields.description.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Error-rate alert fired",
            "Saw the dashboard go red",
            "Saw the dashboard go red",
            "Rolled back"
        ]
    );
    assert_eq!(list[1].fields, ada);
    assert_eq!(list[2].fields, bo);
    assert!(list[0].recorded_at >= p.created_at);

    // Re-time an event: it moves in the timeline.
    let mut retimed = late.fields.clone();
    retimed.happened_at = moment("2024-05-01 10:01");
    retimed.outcome = Some(debrief_core::Outcome::Helped);
    retimed.differently = "Roll back first, investigate after".into();
    let edited = store
        .edit_event("ada", p.key, late.id, late.version, retimed.clone())
        .await
        .expect("edit");
    assert_eq!(edited.version, Version(2));
    let list = store
        .list_events(p.key, EventQuery::default())
        .await
        .expect("list");
    assert_eq!(list[0].id, late.id);
    assert_eq!(list[0].fields, retimed);
    let err = store
        .edit_event("bo", p.key, late.id, late.version, late.fields.clone())
        .await
        .expect_err("stale");
    match err {
        StoreError::Conflict {
            current_version,
            current,
            ..
        } => {
            assert_eq!(current_version, Version(2));
            assert_eq!(current["differently"], "Roll back first, investigate after");
        }
        other => panic!("expected a conflict, got {other}"),
    }

    // Hide: gone from the default view, kept with include_hidden.
    let hidden = store
        .set_event_hidden(BY, p.key, early.id, true)
        .await
        .expect("hide");
    assert!(hidden.fields.hidden);
    let visible = store
        .list_events(p.key, EventQuery::default())
        .await
        .expect("list");
    assert_eq!(visible.len(), 3);
    assert!(visible.iter().all(|e| e.id != early.id));
    let everything = store
        .list_events(
            p.key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await
        .expect("list");
    assert_eq!(everything.len(), 4);

    // An event id from another postmortem is not found here.
    let other = store
        .create_postmortem(BY, fields("Other"))
        .await
        .expect("create");
    let err = store
        .set_event_hidden(BY, other.key, early.id, false)
        .await
        .expect_err("wrong pm");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

pub async fn milestone_event_sets_key_moment(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Milestones"))
        .await
        .expect("create");
    let mut m = event(
        "2024-05-01 10:07",
        EventKind::Milestone,
        "Incident declared",
    );
    m.milestone = Some(KeyMoment::Detected);
    let e = store
        .add_event(BY, p.key, m.clone())
        .await
        .expect("milestone");
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(
        now.fields.key_moments.detected,
        Some(moment("2024-05-01 10:07"))
    );
    assert!(now.version > p.version);

    m.happened_at = moment("2024-05-01 10:03");
    let e = store
        .edit_event(BY, p.key, e.id, e.version, m.clone())
        .await
        .expect("edit");
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(
        now.fields.key_moments.detected,
        Some(moment("2024-05-01 10:03"))
    );

    // When the event stops being that milestone, the key moment it set goes with it; when it
    // becomes another milestone, that one follows.
    m.milestone = Some(KeyMoment::Started);
    let e = store
        .edit_event(BY, p.key, e.id, e.version, m.clone())
        .await
        .expect("edit");
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(now.fields.key_moments.detected, None);
    assert_eq!(
        now.fields.key_moments.started,
        Some(moment("2024-05-01 10:03"))
    );
    m.milestone = None;
    store
        .edit_event(BY, p.key, e.id, e.version, m)
        .await
        .expect("edit");
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(now.fields.key_moments.started, None);

    // A milestone on a non-milestone event is refused and changes nothing.
    let mut bad = event("2024-05-01 11:00", EventKind::Action, "Fixed");
    bad.milestone = Some(KeyMoment::Resolved);
    let err = store.add_event(BY, p.key, bad).await.expect_err("invalid");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "milestone"),
        "{err}"
    );
    assert_eq!(
        store
            .list_events(p.key, EventQuery::default())
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .get_postmortem(p.key)
            .await
            .expect("get")
            .fields
            .key_moments
            .resolved,
        None
    );
}

pub async fn bulk_insert_deduplicates(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Import"))
        .await
        .expect("create");
    let batch = vec![
        imported(
            "2024-05-01 10:00:01",
            "slack",
            "C1/1714557601.000100",
            "who is on call?",
        ),
        imported(
            "2024-05-01 10:00:05",
            "slack",
            "C1/1714557605.000200",
            "me, looking",
        ),
        imported(
            "2024-05-01 10:00:02",
            "alertmanager",
            "fp1@2024-05-01T10:00:02Z",
            "HighErrorRate firing",
        ),
    ];
    let out = store
        .insert_events(BY, p.key, batch.clone())
        .await
        .expect("insert");
    assert_eq!((out.added, out.already_present), (3, 0));

    // Re-importing adds nothing; a new message is added; a repeat inside the batch counts once.
    let mut again = batch.clone();
    again.push(imported(
        "2024-05-01 10:01:00",
        "slack",
        "C1/1714557660.000300",
        "rolling back",
    ));
    again.push(imported(
        "2024-05-01 10:01:00",
        "slack",
        "C1/1714557660.000300",
        "rolling back",
    ));
    let out = store.insert_events(BY, p.key, again).await.expect("insert");
    assert_eq!((out.added, out.already_present), (1, 4));
    let list = store
        .list_events(p.key, EventQuery::default())
        .await
        .expect("list");
    assert_eq!(list.len(), 4);
    assert_eq!(list[1].fields.source.as_str(), "alertmanager");

    // The same source id from another source is a different event.
    let out = store
        .insert_events(
            BY,
            p.key,
            vec![imported(
                "2024-05-01 10:02:00",
                "pagerduty",
                "C1/1714557601.000100",
                "paged",
            )],
        )
        .await
        .expect("insert");
    assert_eq!(out.added, 1);
    // A single add of an already-imported event is refused as a duplicate.
    let err = store
        .add_event(BY, p.key, batch[0].clone())
        .await
        .expect_err("dup");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err}");
    // Events without a source id are never de-duplicated.
    let manual = event("2024-05-01 10:03", EventKind::Note, "Same words");
    store
        .insert_events(BY, p.key, vec![manual.clone(), manual])
        .await
        .expect("manual");
    assert_eq!(
        store
            .list_events(p.key, EventQuery::default())
            .await
            .expect("list")
            .len(),
        7
    );
    // The same import into another postmortem is not a duplicate there.
    let q = store
        .create_postmortem(BY, fields("Other"))
        .await
        .expect("create");
    assert_eq!(
        store
            .insert_events(BY, q.key, batch)
            .await
            .expect("insert")
            .added,
        3
    );
}

pub async fn bulk_insert_is_all_or_nothing(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Atomic"))
        .await
        .expect("create");
    let mut bad = imported("2024-05-01 10:00:03", "csv", "row-3", "bad row");
    bad.milestone = Some(KeyMoment::Started); // not a milestone event
    let batch = vec![
        imported("2024-05-01 10:00:01", "csv", "row-1", "ok"),
        imported("2024-05-01 10:00:02", "csv", "row-2", "ok"),
        bad,
    ];
    let err = store
        .insert_events(BY, p.key, batch)
        .await
        .expect_err("bad batch");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field.contains("milestone")),
        "{err}"
    );
    assert!(
        store
            .list_events(p.key, EventQuery::default())
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        store.get_postmortem(p.key).await.expect("get").version,
        p.version
    );
}

pub async fn actions_across_postmortems(store: Arc<dyn Store>) {
    let a = store
        .create_postmortem(BY, fields("A"))
        .await
        .expect("create");
    let b = store
        .create_postmortem(BY, fields("B"))
        .await
        .expect("create");
    store
        .add_action(
            BY,
            a.key,
            action("Alert on disk usage", "Ada", "2024-06-01"),
        )
        .await
        .expect("add");
    let mut done = action("Runbook for failover", "Bo", "2024-05-15");
    done.status = ActionStatus::Done;
    store.add_action(BY, a.key, done).await.expect("add");
    store
        .add_action(BY, b.key, action("Load test checkout", "ada", "2024-07-01"))
        .await
        .expect("add");
    store
        .add_action(BY, b.key, action("Review pool sizes", "Cy", "2024-05-20"))
        .await
        .expect("add");

    let titles = |items: Vec<debrief_core::ActionItem>| {
        items
            .into_iter()
            .map(|i| i.fields.title.to_string())
            .collect::<Vec<_>>()
    };
    let all = store
        .list_actions(&ActionFilter::default())
        .await
        .expect("all");
    // Ordered by check-in date.
    assert_eq!(
        titles(all),
        [
            "Runbook for failover",
            "Review pool sizes",
            "Alert on disk usage",
            "Load test checkout"
        ]
    );
    let mine = store
        .list_actions(&ActionFilter {
            owner: Some("ADA".into()),
            ..Default::default()
        })
        .await
        .expect("mine");
    assert_eq!(titles(mine), ["Alert on disk usage", "Load test checkout"]);
    let overdue = store
        .list_actions(&ActionFilter {
            overdue_on: Some(date("2024-06-02")),
            ..Default::default()
        })
        .await
        .expect("overdue");
    assert_eq!(
        titles(overdue),
        ["Review pool sizes", "Alert on disk usage"]
    );
    let done = store
        .list_actions(&ActionFilter {
            status: Some(ActionStatusName::Done),
            ..Default::default()
        })
        .await
        .expect("done");
    assert_eq!(titles(done), ["Runbook for failover"]);
    let of_b = store
        .list_actions(&ActionFilter {
            postmortem: Some(b.key),
            ..Default::default()
        })
        .await
        .expect("b");
    assert_eq!(of_b.len(), 2);
    assert!(of_b.iter().all(|i| i.postmortem == b.key));
    let err = store
        .add_action(BY, key(99), action("x", "y", "2024-01-01"))
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

pub async fn action_updates_and_progress(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Actions"))
        .await
        .expect("create");
    let mut f = action("Alert on queue depth", "payments-team", "2024-06-01");
    f.volunteer = true;
    f.tracker = Some("https://tracker.example/PAY-12".parse().expect("url"));
    f.smart.success_criterion = "Alert fires within 2 minutes in a game day".into();
    let a = store.add_action(BY, p.key, f.clone()).await.expect("add");
    assert_eq!(a.fields, f);
    assert_eq!(store.get_action(a.id).await.expect("get"), a);

    // A due date before the check-in date is refused.
    let mut bad = f.clone();
    bad.due = Some(date("2024-05-01"));
    let err = store
        .update_action(BY, a.id, a.version, bad)
        .await
        .expect_err("due");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "due"),
        "{err}"
    );

    let mut started = f.clone();
    started.status = ActionStatus::InProgress;
    let a2 = store
        .update_action(BY, a.id, a.version, started)
        .await
        .expect("update");
    assert_eq!(a2.version, Version(2));
    let err = store
        .update_action(BY, a.id, a.version, f.clone())
        .await
        .expect_err("stale");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                current_version: Version(2),
                ..
            }
        ),
        "{err}"
    );

    let update = ProgressUpdate {
        at: moment("2024-06-01 09:00:00").at(),
        author: "Ada".parse().expect("name"),
        note: "Alert rule drafted, needs review".parse().expect("line"),
        new_check_in: Some(date("2024-06-15")),
    };
    let a3 = store
        .add_progress("ada", a.id, update.clone())
        .await
        .expect("progress");
    assert_eq!(a3.progress, vec![update]);
    assert_eq!(a3.fields.check_in, date("2024-06-15"));
    assert!(a3.version > a2.version);
    let err = store
        .get_action(debrief_core::ActionId(9_999))
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

pub async fn participants(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("People"))
        .await
        .expect("create");
    let mut lead =
        ParticipantFields::new("Ada Lovelace".parse().expect("name"), Role::IncidentLead);
    lead.circumstances = "Paged at 03:10, off hours".into();
    let vp = ParticipantFields::new("Grace".parse().expect("name"), Role::Stakeholder);
    let a = store
        .add_participant(BY, p.key, lead.clone())
        .await
        .expect("add");
    store.add_participant(BY, p.key, vp).await.expect("add");
    let list = store.list_participants(p.key).await.expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].fields, lead);
    assert!(
        !list[1].fields.invited,
        "stakeholders are not invited by default"
    );

    let mut attended = lead.clone();
    attended.attended = true;
    let a2 = store
        .update_participant(BY, p.key, a.id, a.version, attended)
        .await
        .expect("update");
    assert!(a2.fields.attended);
    let err = store
        .update_participant(BY, p.key, a.id, a.version, lead)
        .await
        .expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
}

pub async fn revisions_record_every_change(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem("ada", fields("History"))
        .await
        .expect("create");
    let mut f = p.fields.clone();
    f.title = "History of an outage".parse().expect("title");
    f.impact = "Nobody could log in".into();
    store
        .update_postmortem("bo", p.key, p.version, f)
        .await
        .expect("update");
    let e = store
        .add_event(
            "cy",
            p.key,
            event("2024-05-01 10:00", EventKind::Note, "Noted"),
        )
        .await
        .expect("event");
    store
        .set_event_hidden("cy", p.key, e.id, true)
        .await
        .expect("hide");
    let a = store
        .add_action("ada", p.key, action("Fix it", "Bo", "2024-06-01"))
        .await
        .expect("action");
    store
        .add_participant(
            "ada",
            p.key,
            ParticipantFields::new("Bo".parse().expect("n"), Role::Responder),
        )
        .await
        .expect("p");
    store
        .insert_events(
            "importer",
            p.key,
            vec![imported("2024-05-01 10:01", "slack", "m1", "hello")],
        )
        .await
        .expect("bulk");

    let revs = store.revisions(p.key).await.expect("revisions");
    let seen: Vec<(String, Entity)> = revs.iter().map(|r| (r.actor.clone(), r.entity)).collect();
    assert_eq!(
        seen,
        vec![
            ("ada".into(), Entity::Postmortem),
            ("bo".into(), Entity::Postmortem),
            ("cy".into(), Entity::Event),
            ("cy".into(), Entity::Event),
            ("ada".into(), Entity::Action),
            ("ada".into(), Entity::Participant),
            ("importer".into(), Entity::Event),
        ]
    );
    let edit = &revs[1];
    let changed: Vec<&str> = edit.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(changed, ["impact", "title"]);
    assert_eq!(edit.changes[1].before, "History");
    assert_eq!(edit.changes[1].after, "History of an outage");
    assert_eq!(revs[3].entity_id, Some(e.id.0));
    assert!(revs[3].summary.contains("hid"), "{}", revs[3].summary);
    assert_eq!(revs[4].entity_id, Some(a.id.0));
    assert!(revs[6].summary.contains('1'), "{}", revs[6].summary);
    assert!(
        revs.windows(2)
            .all(|w| w[0].at <= w[1].at && w[0].id < w[1].id)
    );
}

/// The newest revision id moves with every write to a postmortem or its parts, only forward,
/// and stays put when nothing changed: readers use it to tell whether what they cached is
/// current.
pub async fn latest_revision_moves_with_every_write(store: Arc<dyn Store>) {
    let unknown = store.latest_revision(key(4242)).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    let p = store
        .create_postmortem(BY, fields("Marks"))
        .await
        .expect("create");
    let other = store
        .create_postmortem(BY, fields("Another"))
        .await
        .expect("other");
    let mark = |k: Key| {
        let store = store.clone();
        async move {
            let m = store
                .latest_revision(k)
                .await
                .expect("latest revision")
                .expect("a postmortem has at least its creation revision");
            let newest = store.revisions(k).await.expect("revisions");
            assert_eq!(Some(m), newest.last().map(|r| r.id), "the newest revision");
            m
        }
    };
    let mut last = mark(p.key).await;
    let moved = |last: &mut i64, m: i64, what: &str| {
        assert!(m > *last, "{what}: {m} after {last}");
        *last = m;
    };

    let mut f = p.fields.clone();
    f.impact = "Checkout failed for a while".into();
    let p2 = store
        .update_postmortem(BY, p.key, p.version, f.clone())
        .await
        .expect("update");
    moved(&mut last, mark(p.key).await, "update");
    // Saving the same fields again changes nothing, so the mark stays.
    store
        .update_postmortem(BY, p.key, p2.version, f)
        .await
        .expect("same fields");
    assert_eq!(mark(p.key).await, last, "an edit that changes nothing");
    store
        .change_status(BY, p.key, p2.version, Status::InReview)
        .await
        .expect("status");
    moved(&mut last, mark(p.key).await, "status");
    let e = store
        .add_event(
            BY,
            p.key,
            event("2024-05-01 10:00", EventKind::Alert, "Paged"),
        )
        .await
        .expect("event");
    moved(&mut last, mark(p.key).await, "add event");
    let mut ef = e.fields.clone();
    ef.description = "Paged by the error-rate alert".parse().expect("text");
    let e2 = store
        .edit_event(BY, p.key, e.id, e.version, ef)
        .await
        .expect("edit event");
    moved(&mut last, mark(p.key).await, "edit event");
    store
        .set_event_hidden(BY, p.key, e2.id, true)
        .await
        .expect("hide");
    moved(&mut last, mark(p.key).await, "hide event");
    store
        .insert_events(
            BY,
            p.key,
            vec![imported("2024-05-01 10:01", "slack", "m1", "hello")],
        )
        .await
        .expect("bulk");
    moved(&mut last, mark(p.key).await, "bulk insert");
    let a = store
        .add_action(BY, p.key, action("Alert on expiry", "Bo", "2024-06-01"))
        .await
        .expect("action");
    moved(&mut last, mark(p.key).await, "add action");
    let mut af = a.fields.clone();
    af.description = "Thirty days ahead".into();
    let a2 = store
        .update_action(BY, a.id, a.version, af)
        .await
        .expect("update action");
    moved(&mut last, mark(p.key).await, "update action");
    store
        .add_progress(
            BY,
            a2.id,
            ProgressUpdate {
                at: moment("2024-05-20 09:00:00").at(),
                author: "Bo".parse().expect("name"),
                note: "Drafted".parse().expect("line"),
                new_check_in: None,
            },
        )
        .await
        .expect("progress");
    moved(&mut last, mark(p.key).await, "progress");
    let who = store
        .add_participant(
            BY,
            p.key,
            ParticipantFields::new("Bo".parse().expect("name"), Role::Responder),
        )
        .await
        .expect("participant");
    moved(&mut last, mark(p.key).await, "add participant");
    let mut wf = who.fields.clone();
    wf.attended = true;
    store
        .update_participant(BY, p.key, who.id, who.version, wf)
        .await
        .expect("update participant");
    moved(&mut last, mark(p.key).await, "update participant");

    // Another postmortem's writes do not touch this one's mark.
    let before = mark(p.key).await;
    let mut of = other.fields.clone();
    of.summary = "Elsewhere".into();
    store
        .update_postmortem(BY, other.key, other.version, of)
        .await
        .expect("other update");
    assert_eq!(mark(p.key).await, before);
}

pub async fn search_ranks_and_filters(store: Arc<dyn Store>) {
    let mut a = fields("Database connection pool exhausted");
    a.summary = "The checkout API could not reach the database.".into();
    a.services = vec!["checkout".parse().expect("l")];
    a.severity = "SEV1".parse().expect("s");
    let mut b = fields("Slow logins");
    b.summary = "Login took 20 seconds because the session database was slow.".into();
    b.services = vec!["auth".parse().expect("l")];
    let mut c = fields("Certificate expiry");
    c.summary = "The public certificate expired at midnight.".into();
    for f in [a, b, c] {
        store.create_postmortem(BY, f).await.expect("create");
    }
    let search = |q: &str, f: PostmortemFilter| {
        let store = store.clone();
        let q = SearchQuery::parse(q).expect("query");
        async move {
            keys(&store.search(&q, &f).await.expect("search"), |h| {
                h.postmortem.key
            })
        }
    };
    // A title match ranks above a summary match.
    assert_eq!(
        search("database", PostmortemFilter::default()).await,
        ["PM-1", "PM-2"]
    );
    // Stemming: "expiring certificates" finds "Certificate expiry"/"expired".
    assert_eq!(
        search("certificates expired", PostmortemFilter::default()).await,
        ["PM-3"]
    );
    // All words must match.
    assert_eq!(
        search("database login", PostmortemFilter::default()).await,
        ["PM-2"]
    );
    // Phrases.
    assert_eq!(
        search("\"connection pool\"", PostmortemFilter::default()).await,
        ["PM-1"]
    );
    assert!(
        search("\"pool connection\"", PostmortemFilter::default())
            .await
            .is_empty()
    );
    // Filters apply.
    assert_eq!(
        search(
            "database",
            PostmortemFilter {
                service: Some("auth".parse().expect("l")),
                ..Default::default()
            }
        )
        .await,
        ["PM-2"]
    );
    assert_eq!(
        search(
            "database",
            PostmortemFilter {
                severity: Some("SEV1".parse().expect("s")),
                ..Default::default()
            }
        )
        .await,
        ["PM-1"]
    );
    assert!(
        search("kubernetes", PostmortemFilter::default())
            .await
            .is_empty()
    );
    // Characters that mean something to a search engine are just text.
    assert_eq!(
        search(
            "database* AND (-checkout:) OR NOT",
            PostmortemFilter::default()
        )
        .await,
        ["PM-1"]
    );

    // Edits are searchable at once.
    let p = store.get_postmortem(key(3)).await.expect("get");
    let mut f = p.fields.clone();
    f.title = "Certificate expiry took the database offline"
        .parse()
        .expect("t");
    store
        .update_postmortem(BY, p.key, p.version, f)
        .await
        .expect("update");
    let hits = search("database", PostmortemFilter::default()).await;
    assert_eq!(hits.len(), 3);
    let q = SearchQuery::parse("certificate").expect("q");
    let hit = &store
        .search(&q, &PostmortemFilter::default())
        .await
        .expect("search")[0];
    assert!(hit.rank > 0.0);
    assert!(
        hit.snippet.to_lowercase().contains("certificate"),
        "{}",
        hit.snippet
    );
}

pub async fn search_covers_timeline_factors_lessons(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Outage one"))
        .await
        .expect("create");
    let q = store
        .create_postmortem(BY, fields("Outage two"))
        .await
        .expect("create");
    let r = store
        .create_postmortem(BY, fields("Outage three"))
        .await
        .expect("create");
    let mut e = event(
        "2024-05-01 10:00",
        EventKind::Observation,
        "Grafana showed the replication lag climbing",
    );
    e.account.assumed = "The failover script was idempotent".into();
    store.add_event(BY, p.key, e).await.expect("event");
    store
        .insert_events(
            BY,
            p.key,
            vec![imported(
                "2024-05-01 10:05",
                "slack",
                "m1",
                "paging the storage team",
            )],
        )
        .await
        .expect("bulk");
    let mut f = q.fields.clone();
    f.factors.push(ContributingFactor {
        category: "monitoring_gap".parse().expect("c"),
        text: "No alert on certificate expiry".parse().expect("l"),
    });
    f.lessons
        .of_mut(LessonKind::GotLucky)
        .push("The traffic was low on a holiday".parse().expect("l"));
    store
        .update_postmortem(BY, q.key, q.version, f)
        .await
        .expect("update");
    let mut f = r.fields.clone();
    f.impact = "Invoices were emailed twice".into();
    store
        .update_postmortem(BY, r.key, r.version, f)
        .await
        .expect("update");
    let mut f = fields("Checkout errors after the deploy");
    f.summary = "Host api.example.com at 10.0.0.1; see /var/log/app.log; version v1.2.3.".into();
    store.create_postmortem(BY, f).await.expect("create");

    for (query, expected) in [
        ("replication lag", "PM-1"),
        ("idempotent failover", "PM-1"),
        ("storage team", "PM-1"),
        ("certificate alert", "PM-2"),
        ("holiday traffic", "PM-2"),
        ("invoices emailed", "PM-3"),
        ("api.example.com", "PM-4"),
        ("10.0.0.1", "PM-4"),
        ("app.log", "PM-4"),
        ("v1.2.3", "PM-4"),
        ("errors during deploy", "PM-4"),
    ] {
        let hits = store
            .search(
                &SearchQuery::parse(query).expect("q"),
                &PostmortemFilter::default(),
            )
            .await
            .expect("search");
        assert_eq!(
            keys(&hits, |h| h.postmortem.key),
            [expected],
            "query {query:?}"
        );
    }
}

pub async fn import_document_keeps_everything(store: Arc<dyn Store>) {
    let mut f = fields("Imported from git");
    f.summary = "Summary".into();
    f.key_moments.started = Some(moment("2024-05-01 09:55"));
    let mut m = event("2024-05-01 10:00", EventKind::Milestone, "Declared");
    m.milestone = Some(KeyMoment::Detected);
    let mut hidden = imported("2024-05-01 10:01", "slack", "m1", "noise");
    hidden.hidden = true;
    let mut act = action("Add an alert", "Ada", "2024-06-01");
    act.status = ActionStatus::Done;
    let doc = PostmortemDocument {
        key: Some(key(42)),
        status: Status::Published,
        fields: f,
        events: vec![m, hidden],
        actions: vec![debrief_core::ActionDocument {
            fields: act,
            progress: vec![ProgressUpdate {
                at: moment("2024-05-20 12:00:00").at(),
                author: "Ada".parse().expect("n"),
                note: "Done and tested".parse().expect("l"),
                new_check_in: None,
            }],
        }],
        participants: vec![ParticipantFields::new(
            "Ada".parse().expect("n"),
            Role::IncidentLead,
        )],
    };
    let p = store
        .import_document("importer", doc.clone())
        .await
        .expect("import");
    assert_eq!(p.key, key(42));
    assert_eq!(p.status, Status::Published);
    let mut expected = doc.clone();
    expected.fields.key_moments.detected = Some(moment("2024-05-01 10:00"));
    assert_eq!(store.get_document(p.key).await.expect("doc"), expected);

    // A document cannot be closed while one of its actions is unfinished.
    let mut closed = doc.clone();
    closed.key = Some(key(8));
    closed.status = Status::Closed;
    closed.actions[0].fields.status = ActionStatus::Open;
    let err = store
        .import_document("importer", closed)
        .await
        .expect_err("open action");
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    assert!(store.get_postmortem(key(8)).await.is_err());

    // A key moment written in the document wins over a milestone row (it may have been corrected).
    let mut corrected = doc.clone();
    corrected.key = Some(key(7));
    corrected.fields.key_moments.detected = Some(moment("2024-05-01 10:03"));
    let p7 = store
        .import_document("importer", corrected)
        .await
        .expect("import");
    assert_eq!(
        p7.fields.key_moments.detected,
        Some(moment("2024-05-01 10:03"))
    );

    // The key is taken now; the next new postmortem continues after it.
    let err = store
        .import_document("importer", doc.clone())
        .await
        .expect_err("dup");
    assert!(
        matches!(err, StoreError::Duplicate(ref what) if what.contains("PM-42")),
        "{err}"
    );
    assert_eq!(
        store
            .create_postmortem(BY, fields("Next"))
            .await
            .expect("create")
            .key,
        key(43)
    );
    // Without a key, the next free one is used.
    let mut keyless = doc;
    keyless.key = None;
    assert_eq!(
        store
            .import_document("importer", keyless)
            .await
            .expect("import")
            .key,
        key(44)
    );
    let hits = store
        .search(
            &SearchQuery::parse("noise").expect("q"),
            &PostmortemFilter::default(),
        )
        .await
        .expect("search");
    assert_eq!(
        keys(&hits, |h| h.postmortem.key),
        ["PM-44", "PM-42", "PM-7"]
    );
}

// ---------------------------------------------------------------------------------------------
// Accounts: users, sessions, API tokens. Instants are fixed (no sleeping): `now` is an argument.

/// `2025-03-01` at `hms` UTC.
fn at(hms: &str) -> Timestamp {
    format!("2025-03-01T{hms}Z").parse().expect("test instant")
}

fn email(s: &str) -> Email {
    s.parse().expect("email")
}

/// A stand-in for a hex SHA-256: the store only compares it.
fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn password_hash(name: &str) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${name}")
}

fn new_user(name: &str, mail: &str, role: UserRole) -> NewUser {
    NewUser {
        name: name.parse().expect("name"),
        email: email(mail),
        role,
        password_hash: password_hash(name),
    }
}

fn new_session(n: u8, user: UserId, expires_at: Timestamp) -> NewSession {
    NewSession {
        hash: hash(n),
        user_id: user,
        csrf: format!("csrf-{n}"),
        created_at: at("09:00:00"),
        expires_at,
    }
}

fn new_token(
    n: u8,
    user: UserId,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
) -> NewToken {
    NewToken {
        user_id: user,
        name: format!("token {n}").parse().expect("name"),
        scope: Scope::Write,
        hash: hash(n),
        created_at,
        expires_at,
    }
}

fn disable(disabled: bool) -> UserChange {
    UserChange {
        disabled: Some(disabled),
        ..UserChange::default()
    }
}

fn token_ids(tokens: &[ApiToken]) -> Vec<TokenId> {
    tokens.iter().map(|t| t.id).collect()
}

fn assert_not_found(err: StoreError, expected: &str) {
    assert!(
        matches!(err, StoreError::NotFound(ref what) if what == expected),
        "expected NotFound({expected:?}), got {err}"
    );
}

/// Webhooks: an alert group opens one postmortem, however many deliveries race for it, and a new
/// one once its postmortem is published; groups are told apart by source and key.
pub async fn alert_groups_open_one_postmortem(store: Arc<dyn Store>) {
    let am: Source = "alertmanager".parse().expect("source");
    let grafana: Source = "grafana".parse().expect("source");
    let group = "{}:{alertname=\"DiskFull\"}";
    assert!(
        store
            .group_postmortem(&am, group)
            .await
            .expect("lookup")
            .is_none()
    );
    let mut opening = fields("Disk full on db-1");
    opening.severity = "SEV1".parse().expect("sev");
    opening.key_moments.started = Some(moment("2024-05-01 10:00"));

    // Warm the pool, then race: one delivery opens the draft, the others find it.
    let warm: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.list_postmortems(&PostmortemFilter::default()).await })
        })
        .collect();
    for w in warm {
        w.await.expect("task").expect("list");
    }
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let am = am.clone();
            let opening = opening.clone();
            tokio::spawn(async move { store.open_for_group(BY, &am, group, opening).await })
        })
        .collect();
    let mut opened = Vec::new();
    for t in tasks {
        opened.push(t.await.expect("task").expect("open"));
    }
    assert_eq!(opened.iter().filter(|(_, created)| *created).count(), 1);
    let first = opened[0].0.clone();
    assert!(opened.iter().all(|(pm, _)| pm.key == first.key));
    assert_eq!(first.status, Status::Draft);
    assert_eq!(first.fields.severity.to_string(), "SEV1");
    assert_eq!(
        first.fields.key_moments.started,
        Some(moment("2024-05-01 10:00"))
    );
    let all = store
        .list_postmortems(&PostmortemFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 1, "one postmortem for one group");
    let revisions = store.revisions(first.key).await.expect("revisions");
    assert_eq!(revisions.len(), 1);
    assert!(
        revisions[0].summary.contains("alertmanager alert group"),
        "{}",
        revisions[0].summary
    );
    assert_eq!(
        store
            .group_postmortem(&am, group)
            .await
            .expect("lookup")
            .map(|p| p.key),
        Some(first.key)
    );

    // Another key, or the same key from another source, is another group.
    let (other, created) = store
        .open_for_group(BY, &am, "{}:{alertname=\"Latency\"}", fields("Latency"))
        .await
        .expect("other group");
    assert!(created);
    assert_ne!(other.key, first.key);
    let (elsewhere, created) = store
        .open_for_group(BY, &grafana, group, fields("Disk full (Grafana)"))
        .await
        .expect("other source");
    assert!(created);
    assert_ne!(elsewhere.key, first.key);

    // In review it still takes its group's alerts; once published the group opens a new draft.
    let p = store
        .change_status(BY, first.key, first.version, Status::InReview)
        .await
        .expect("review");
    let (again, created) = store
        .open_for_group(BY, &am, group, fields("Disk full again"))
        .await
        .expect("in review");
    assert_eq!((again.key, created), (first.key, false));
    store
        .change_status(BY, p.key, p.version, Status::Published)
        .await
        .expect("publish");
    assert!(
        store
            .group_postmortem(&am, group)
            .await
            .expect("lookup")
            .is_none()
    );
    let (next, created) = store
        .open_for_group(BY, &am, group, fields("Disk full, next week"))
        .await
        .expect("reopen");
    assert!(created);
    assert_ne!(next.key, first.key);
    assert_eq!(
        store
            .group_postmortem(&am, group)
            .await
            .expect("lookup")
            .map(|p| p.key),
        Some(next.key)
    );

    // A key that cannot be stored is refused, and nothing is written.
    let before = store
        .list_postmortems(&PostmortemFilter::default())
        .await
        .expect("list")
        .len();
    let err = store
        .open_for_group(BY, &am, "", fields("No key"))
        .await
        .expect_err("empty key");
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(
        store
            .list_postmortems(&PostmortemFilter::default())
            .await
            .expect("list")
            .len(),
        before
    );
}

pub async fn first_admin_is_created_once(store: Arc<dyn Store>) {
    assert_eq!(store.count_users().await.expect("count"), 0);
    assert!(store.list_users().await.expect("list").is_empty());
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Admin), true)
        .await
        .expect("first admin");
    assert_eq!(ana.name.as_str(), "Ana");
    assert_eq!(ana.email, email("ana@example.com"));
    assert_eq!(ana.role, UserRole::Admin);
    assert!(!ana.disabled);
    assert_eq!(store.count_users().await.expect("count"), 1);

    // A second setup is refused and writes nothing.
    let err = store
        .create_user(new_user("Bo", "bo@example.com", UserRole::Admin), true)
        .await
        .expect_err("already set up");
    assert!(
        matches!(err, StoreError::Duplicate(ref what) if what.contains("already set up")),
        "{err}"
    );
    assert_eq!(store.count_users().await.expect("count"), 1);
    assert!(
        store
            .credentials(&email("bo@example.com"))
            .await
            .expect("lookup")
            .is_none()
    );

    // Once set up, users are added the ordinary way; they are listed by id.
    let bo = store
        .create_user(new_user("Bo", "bo@example.com", UserRole::Editor), false)
        .await
        .expect("second user");
    assert_ne!(bo.id, ana.id);
    assert_eq!(store.count_users().await.expect("count"), 2);
    assert_eq!(
        store.list_users().await.expect("list"),
        [ana.clone(), bo.clone()]
    );
    assert_eq!(store.get_user(ana.id).await.expect("get"), ana);
    assert_eq!(store.get_user(bo.id).await.expect("get"), bo);
    assert_not_found(
        store.get_user(UserId(999)).await.expect_err("unknown"),
        "user 999",
    );
}

pub async fn first_admin_race_has_one_winner(store: Arc<dyn Store>) {
    // Warm the connection pool first, so that the racers meet in the database, not in the pool.
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_users().await })
        })
        .collect();
    for r in readers {
        assert_eq!(r.await.expect("task").expect("count"), 0);
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_user(
                    new_user(
                        &format!("Admin {i}"),
                        &format!("admin{i}@example.com"),
                        UserRole::Admin,
                    ),
                    true,
                )
                .await
        }));
    }
    let mut wins = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => wins += 1,
            Err(StoreError::Duplicate(_)) => refused += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((wins, refused), (1, 7));
    assert_eq!(store.count_users().await.expect("count"), 1);
}

pub async fn duplicate_email_is_refused(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Editor), false)
        .await
        .expect("create");
    // Emails are compared as the domain stores them: lowercased.
    let err = store
        .create_user(
            new_user("Ana Again", " Ana@Example.COM ", UserRole::Viewer),
            false,
        )
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Duplicate(ref what) if what == "a user with email ana@example.com"),
        "{err}"
    );
    assert_eq!(store.count_users().await.expect("count"), 1);
    assert_eq!(store.list_users().await.expect("list"), [ana]);
}

pub async fn credentials_are_found_by_email(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Viewer), false)
        .await
        .expect("create");
    let found = store
        .credentials(&email("ANA@example.com"))
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.user, ana);
    assert_eq!(found.password_hash, password_hash("Ana"));
    assert!(
        store
            .credentials(&email("nobody@example.com"))
            .await
            .expect("lookup")
            .is_none()
    );
    // A disabled user is still found: telling them apart is the caller's business.
    store
        .update_user(ana.id, disable(true))
        .await
        .expect("disable");
    let found = store
        .credentials(&email("ana@example.com"))
        .await
        .expect("lookup")
        .expect("found");
    assert!(found.user.disabled);
}

pub async fn update_user_and_disabling_ends_sessions(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Admin), true)
        .await
        .expect("create");
    let bo = store
        .create_user(new_user("Bo", "bo@example.com", UserRole::Viewer), false)
        .await
        .expect("create");

    // A role change leaves everything else as it was.
    let promoted = store
        .update_user(
            bo.id,
            UserChange {
                role: Some(UserRole::Editor),
                ..UserChange::default()
            },
        )
        .await
        .expect("promote");
    assert_eq!(
        promoted,
        User {
            role: UserRole::Editor,
            ..bo.clone()
        }
    );
    assert_eq!(store.get_user(bo.id).await.expect("get"), promoted);
    let renamed = store
        .update_user(
            bo.id,
            UserChange {
                name: Some("Bo Li".parse().expect("name")),
                password_hash: Some(password_hash("new")),
                ..UserChange::default()
            },
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name.as_str(), "Bo Li");
    assert_eq!(renamed.role, UserRole::Editor);
    let creds = store
        .credentials(&bo.email)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(creds.password_hash, password_hash("new"));
    assert_eq!(
        store
            .update_user(bo.id, UserChange::default())
            .await
            .expect("no change"),
        renamed
    );
    assert_not_found(
        store
            .update_user(UserId(999), disable(true))
            .await
            .expect_err("unknown"),
        "user 999",
    );

    // Bo has two sessions and a token; Ana has a session.
    let t0 = at("10:00:00");
    let end = at("18:00:00");
    for s in [
        new_session(1, bo.id, end),
        new_session(2, bo.id, end),
        new_session(3, ana.id, end),
    ] {
        store.create_session(s).await.expect("session");
    }
    let token = store
        .create_token(new_token(4, bo.id, t0, None))
        .await
        .expect("token");
    assert!(store.session(&hash(1), t0).await.expect("s").is_some());
    assert!(
        store
            .authenticate_token(&hash(4), t0)
            .await
            .expect("auth")
            .is_some()
    );

    // Disabling Bo ends his sessions (only his) and stops his token.
    let disabled = store
        .update_user(bo.id, disable(true))
        .await
        .expect("disable");
    assert!(disabled.disabled);
    assert!(store.session(&hash(1), t0).await.expect("s").is_none());
    assert!(store.session(&hash(2), t0).await.expect("s").is_none());
    assert!(store.session(&hash(3), t0).await.expect("s").is_some());
    assert!(
        store
            .authenticate_token(&hash(4), at("10:05:00"))
            .await
            .expect("auth")
            .is_none()
    );
    // A session made for a disabled user does not let them in either.
    store
        .create_session(new_session(5, bo.id, end))
        .await
        .expect("session");
    assert!(store.session(&hash(5), t0).await.expect("s").is_none());

    // Enabled again: the token works (it was never revoked), the ended sessions stay ended.
    let enabled = store
        .update_user(bo.id, disable(false))
        .await
        .expect("enable");
    assert!(!enabled.disabled);
    assert!(store.session(&hash(1), t0).await.expect("s").is_none());
    assert!(store.session(&hash(2), t0).await.expect("s").is_none());
    let (used, user) = store
        .authenticate_token(&hash(4), at("10:10:00"))
        .await
        .expect("auth")
        .expect("active again");
    assert_eq!(used.id, token.id);
    assert_eq!(used.last_used_at, Some(at("10:10:00")));
    assert_eq!(user, enabled);
}

pub async fn sessions_expire_and_can_be_deleted(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Editor), false)
        .await
        .expect("create");
    let end = at("12:00:00");
    store
        .create_session(new_session(1, ana.id, end))
        .await
        .expect("session");
    let live = store
        .session(&hash(1), at("11:59:59"))
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(
        live,
        Session {
            user: ana.clone(),
            csrf: "csrf-1".into(),
            expires_at: end,
        }
    );
    // Expired at its expiry instant, and after.
    assert!(store.session(&hash(1), end).await.expect("s").is_none());
    assert!(
        store
            .session(&hash(1), at("13:00:00"))
            .await
            .expect("s")
            .is_none()
    );
    assert!(
        store
            .session(&hash(9), at("10:00:00"))
            .await
            .expect("s")
            .is_none()
    );

    let err = store
        .create_session(new_session(1, ana.id, end))
        .await
        .expect_err("same hash");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err}");
    assert_not_found(
        store
            .create_session(new_session(9, UserId(999), end))
            .await
            .expect_err("unknown user"),
        "user 999",
    );

    // Signing out deletes the session; doing it twice is fine.
    store.delete_session(&hash(1)).await.expect("delete");
    assert!(
        store
            .session(&hash(1), at("10:00:00"))
            .await
            .expect("s")
            .is_none()
    );
    store.delete_session(&hash(1)).await.expect("delete again");

    // Clean-up removes what has expired at `now` (its expiry instant included), nothing else.
    for (n, expires) in [(2, "11:00:00"), (3, "12:00:00"), (4, "13:00:00")] {
        store
            .create_session(new_session(n, ana.id, at(expires)))
            .await
            .expect("session");
    }
    assert_eq!(
        store
            .delete_expired_sessions(at("12:00:00"))
            .await
            .expect("clean"),
        2
    );
    assert_eq!(
        store
            .delete_expired_sessions(at("12:00:00"))
            .await
            .expect("clean"),
        0
    );
    assert!(
        store
            .session(&hash(4), at("12:30:00"))
            .await
            .expect("s")
            .is_some()
    );
    assert!(
        store
            .session(&hash(3), at("10:00:00"))
            .await
            .expect("s")
            .is_none()
    );
}

pub async fn tokens_list_revoke_and_authenticate(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Admin), true)
        .await
        .expect("create");
    let bo = store
        .create_user(new_user("Bo", "bo@example.com", UserRole::Editor), false)
        .await
        .expect("create");
    let a1 = store
        .create_token(new_token(1, ana.id, at("10:00:00"), None))
        .await
        .expect("token");
    assert_eq!(
        a1,
        ApiToken {
            id: a1.id,
            user_id: ana.id,
            name: "token 1".parse().expect("name"),
            scope: Scope::Write,
            created_at: at("10:00:00"),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    );
    let b1 = store
        .create_token(new_token(2, bo.id, at("11:00:00"), Some(at("12:00:00"))))
        .await
        .expect("token");
    let a2 = store
        .create_token(new_token(3, ana.id, at("10:30:00"), None))
        .await
        .expect("token");

    // Newest first, by creation time (not by id).
    assert_eq!(
        token_ids(&store.list_tokens(None).await.expect("list")),
        [b1.id, a2.id, a1.id]
    );
    assert_eq!(
        store.list_tokens(Some(ana.id)).await.expect("list"),
        [a2.clone(), a1.clone()]
    );
    assert_eq!(
        store.list_tokens(Some(bo.id)).await.expect("list"),
        std::slice::from_ref(&b1)
    );

    let err = store
        .create_token(new_token(1, bo.id, at("11:00:00"), None))
        .await
        .expect_err("same hash");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err}");
    assert_not_found(
        store
            .create_token(new_token(9, UserId(999), at("11:00:00"), None))
            .await
            .expect_err("unknown user"),
        "user 999",
    );

    // Using a token records when.
    let (used, user) = store
        .authenticate_token(&hash(1), at("14:00:00"))
        .await
        .expect("auth")
        .expect("active");
    assert_eq!(
        used,
        ApiToken {
            last_used_at: Some(at("14:00:00")),
            ..a1.clone()
        }
    );
    assert_eq!(user, ana);
    assert_eq!(
        store.list_tokens(Some(ana.id)).await.expect("list")[1],
        used
    );
    assert!(
        store
            .authenticate_token(&hash(9), at("14:00:00"))
            .await
            .expect("auth")
            .is_none()
    );

    // An expired token is refused from its expiry instant on, and the refusal is not a use.
    assert!(
        store
            .authenticate_token(&hash(2), at("11:59:59"))
            .await
            .expect("auth")
            .is_some()
    );
    for now in ["12:00:00", "13:00:00"] {
        assert!(
            store
                .authenticate_token(&hash(2), at(now))
                .await
                .expect("auth")
                .is_none(),
            "{now}"
        );
    }
    assert_eq!(
        store.list_tokens(Some(bo.id)).await.expect("list")[0].last_used_at,
        Some(at("11:59:59"))
    );

    // Revoking is idempotent and keeps the first time; a revoked token is refused but listed.
    let revoked = store
        .revoke_token(a1.id, at("15:00:00"))
        .await
        .expect("revoke");
    assert_eq!(
        revoked,
        ApiToken {
            revoked_at: Some(at("15:00:00")),
            ..used
        }
    );
    assert!(!revoked.is_active(at("15:00:01")));
    assert_eq!(
        store
            .revoke_token(a1.id, at("16:00:00"))
            .await
            .expect("revoke again"),
        revoked
    );
    assert!(
        store
            .authenticate_token(&hash(1), at("15:30:00"))
            .await
            .expect("auth")
            .is_none()
    );
    let all = store.list_tokens(None).await.expect("list");
    assert_eq!(token_ids(&all), [b1.id, a2.id, a1.id]);
    assert_eq!(all[2], revoked);
    assert_not_found(
        store
            .revoke_token(TokenId(999), at("15:00:00"))
            .await
            .expect_err("unknown"),
        "token 999",
    );
    // The other token of the same user is untouched.
    assert!(
        store
            .authenticate_token(&hash(3), at("16:00:00"))
            .await
            .expect("auth")
            .is_some()
    );
}

// ---------------------------------------------------------------------------------------------
// The job queue.

fn t(s: &str) -> Timestamp {
    format!("2026-03-01T{s}Z").parse().expect("test instant")
}

fn job(kind: &str, run_at: &str) -> NewJob {
    NewJob::new(kind, serde_json::json!({ "n": run_at }), t(run_at))
}

fn claim(worker: &str, now: &str, limit: u32) -> Claim {
    Claim {
        worker: worker.to_owned(),
        now: t(now),
        lease: SignedDuration::from_mins(5),
        kinds: None,
        limit,
    }
}

fn job_ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id).collect()
}

pub async fn jobs_enqueue_deduplicates(store: Arc<dyn Store>) {
    let first = store
        .enqueue(job("notify", "10:00:00").dedup("remind:1"), t("09:00:00"))
        .await
        .expect("enqueue");
    assert!(first.created);
    assert_eq!(first.job.state, JobState::Queued);
    assert_eq!(
        (first.job.attempts, first.job.max_attempts),
        (0, DEFAULT_MAX_ATTEMPTS)
    );
    assert_eq!(first.job.payload, serde_json::json!({ "n": "10:00:00" }));
    assert_eq!(first.job.created_at, t("09:00:00"));
    assert_eq!(store.get_job(first.job.id).await.expect("get"), first.job);
    // The same key again: nothing stored, the existing job returned, even once it is done.
    let again = store
        .enqueue(job("other", "11:00:00").dedup("remind:1"), t("09:30:00"))
        .await
        .expect("again");
    assert!(!again.created);
    assert_eq!(again.job, first.job);
    let claimed = store
        .claim(&claim("w1", "10:00:00", 10))
        .await
        .expect("claim");
    assert_eq!(job_ids(&claimed), [first.job.id]);
    assert!(
        store
            .complete(first.job.id, "w1", t("10:00:01"))
            .await
            .expect("complete")
    );
    let after_done = store
        .enqueue(job("notify", "12:00:00").dedup("remind:1"), t("12:00:00"))
        .await
        .expect("after done");
    assert!(!after_done.created);
    assert_eq!(after_done.job.state, JobState::Done);
    // Jobs without a key are never de-duplicated.
    let a = store
        .enqueue(job("notify", "10:00:00"), t("09:00:00"))
        .await
        .expect("a");
    let b = store
        .enqueue(job("notify", "10:00:00"), t("09:00:00"))
        .await
        .expect("b");
    assert!(a.created && b.created && a.job.id != b.job.id);
    // A batch skips known keys and keys repeated within it.
    let added = store
        .enqueue_many(
            vec![
                job("notify", "10:00:00").dedup("remind:1"),
                job("notify", "10:00:00").dedup("remind:2"),
                job("notify", "10:00:00").dedup("remind:2"),
                job("notify", "10:00:00").dedup("remind:3"),
                job("notify", "10:00:00"),
            ],
            t("09:00:00"),
        )
        .await
        .expect("batch");
    assert_eq!(added, 3);
    assert_eq!(
        store
            .enqueue_many(
                vec![job("notify", "10:00:00").dedup("remind:3")],
                t("09:00:00")
            )
            .await
            .expect("again"),
        0
    );
    // A bad job fails the whole batch, which writes nothing.
    let err = store
        .enqueue_many(
            vec![
                job("notify", "10:00:00").dedup("remind:4"),
                job("", "10:00:00"),
            ],
            t("09:00:00"),
        )
        .await
        .expect_err("bad kind");
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let all = store.list_jobs(&JobFilter::default()).await.expect("list");
    assert_eq!(all.len(), 6);
    assert!(
        all.iter()
            .all(|j| j.dedup_key.as_deref() != Some("remind:4"))
    );
}

pub async fn jobs_claim_in_run_at_order(store: Arc<dyn Store>) {
    let late = store
        .enqueue(job("notify", "10:30:00"), t("09:00:00"))
        .await
        .expect("late")
        .job;
    let early = store
        .enqueue(job("notify", "10:00:00"), t("09:00:00"))
        .await
        .expect("early")
        .job;
    let future = store
        .enqueue(job("notify", "12:00:00"), t("09:00:00"))
        .await
        .expect("future")
        .job;
    let other = store
        .enqueue(job("digest", "10:10:00"), t("09:00:00"))
        .await
        .expect("other kind")
        .job;
    // Nothing is due before its run_at.
    assert!(
        store
            .claim(&claim("w1", "09:59:59", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    // Only the kinds asked for; oldest run_at first; at most `limit`.
    let notify_only = Claim {
        kinds: Some(vec!["notify".to_owned()]),
        lease: SignedDuration::from_hours(8),
        ..claim("w1", "11:00:00", 1)
    };
    let got = store.claim(&notify_only).await.expect("claim");
    assert_eq!(job_ids(&got), [early.id]);
    assert_eq!(got[0].state, JobState::Running);
    assert_eq!(got[0].attempts, 1);
    assert_eq!(got[0].leased_by.as_deref(), Some("w1"));
    assert_eq!(got[0].lease_until, Some(t("19:00:00")));
    let got = store.claim(&notify_only).await.expect("claim");
    assert_eq!(job_ids(&got), [late.id]);
    assert!(store.claim(&notify_only).await.expect("claim").is_empty());
    let none = Claim {
        kinds: Some(Vec::new()),
        ..claim("w1", "13:00:00", 10)
    };
    assert!(store.claim(&none).await.expect("claim").is_empty());
    let got = store
        .claim(&claim("w2", "13:00:00", 10))
        .await
        .expect("claim");
    assert_eq!(job_ids(&got), [other.id, future.id]);
    // A lease must be positive, a worker named.
    let bad = Claim {
        lease: SignedDuration::ZERO,
        ..claim("w1", "13:00:00", 10)
    };
    assert!(matches!(
        store.claim(&bad).await.expect_err("no lease"),
        StoreError::Invalid(_)
    ));
    assert!(matches!(
        store
            .claim(&claim("", "13:00:00", 10))
            .await
            .expect_err("no worker"),
        StoreError::Invalid(_)
    ));
}

pub async fn jobs_concurrent_claims_never_share(store: Arc<dyn Store>) {
    let jobs: Vec<NewJob> = (0..200)
        .map(|i| {
            job("notify", "10:00:00")
                .dedup(format!("k{i}"))
                .max_attempts(1)
        })
        .collect();
    assert_eq!(
        store
            .enqueue_many(jobs, t("09:00:00"))
            .await
            .expect("batch"),
        200
    );
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim(&claim(&format!("w{w}"), "10:00:00", 7))
                        .await
                        .expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    for j in &got {
                        assert_eq!(j.leased_by.as_deref(), Some(format!("w{w}").as_str()));
                    }
                    mine.extend(job_ids(&got));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (200, 200), "a job was claimed twice");
}

pub async fn jobs_expired_leases_are_claimed_again(store: Arc<dyn Store>) {
    let j = store
        .enqueue(job("notify", "10:00:00").max_attempts(2), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    let first = store
        .claim(&claim("crashed", "10:00:00", 10))
        .await
        .expect("claim");
    assert_eq!(job_ids(&first), [j.id]);
    // While the lease runs, nobody else gets it.
    assert!(
        store
            .claim(&claim("w2", "10:04:59", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    // Once it ended, another worker takes it, with one more attempt.
    let second = store
        .claim(&claim("w2", "10:05:00", 10))
        .await
        .expect("claim");
    assert_eq!(job_ids(&second), [j.id]);
    assert_eq!(
        (second[0].attempts, second[0].leased_by.as_deref()),
        (2, Some("w2"))
    );
    // The crashed worker lost it: its completion changes nothing.
    assert!(
        !store
            .complete(j.id, "crashed", t("10:06:00"))
            .await
            .expect("late complete")
    );
    assert!(
        store
            .fail(j.id, "crashed", "late", t("10:06:00"))
            .await
            .expect("late fail")
            .is_none()
    );
    // The second worker vanishes too, on the last attempt: the job is parked, not run again.
    assert!(
        store
            .claim(&claim("w3", "10:20:00", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    let parked = store.get_job(j.id).await.expect("get");
    assert_eq!(parked.state, JobState::Parked);
    assert!(
        parked
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("w2")),
        "{parked:?}"
    );
}

pub async fn jobs_fail_backs_off_then_parks(store: Arc<dyn Store>) {
    let j = store
        .enqueue(job("notify", "10:00:00").max_attempts(3), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    store
        .claim(&claim("w1", "10:00:00", 10))
        .await
        .expect("claim");
    // Only the leaseholder may report a failure.
    assert!(
        store
            .fail(j.id, "w2", "not mine", t("10:00:10"))
            .await
            .expect("fail")
            .is_none()
    );
    let failed = store
        .fail(j.id, "w1", "smtp: connection refused", t("10:00:10"))
        .await
        .expect("fail")
        .expect("leaseholder");
    assert_eq!(failed.state, JobState::Queued);
    assert_eq!(failed.run_at, t("10:00:40"));
    assert_eq!(failed.lease_until, None);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("smtp: connection refused")
    );
    // Not before the backoff has passed.
    assert!(
        store
            .claim(&claim("w1", "10:00:39", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store
            .claim(&claim("w2", "10:00:40", 10))
            .await
            .expect("claim")
            .len(),
        1
    );
    // A failing job is listed for admins.
    let failing = store
        .list_jobs(&JobFilter {
            failing: true,
            ..JobFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(job_ids(&failing), [j.id]);
    let second = store
        .fail(j.id, "w2", "again", t("10:01:00"))
        .await
        .expect("fail")
        .expect("leaseholder");
    assert_eq!(
        (second.state, second.run_at),
        (JobState::Queued, t("10:02:00"))
    );
    store
        .claim(&claim("w1", "10:02:00", 10))
        .await
        .expect("claim");
    let parked = store
        .fail(j.id, "w1", &"x".repeat(5000), t("10:03:00"))
        .await
        .expect("fail")
        .expect("leaseholder");
    assert_eq!((parked.state, parked.attempts), (JobState::Parked, 3));
    assert!(parked.last_error.as_ref().is_some_and(|e| e.len() < 2100));
    assert!(
        store
            .claim(&claim("w1", "23:00:00", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    let listed = store
        .list_jobs(&JobFilter {
            states: vec![JobState::Parked],
            ..JobFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(listed, std::slice::from_ref(&parked));
    // An admin retries it: queued now, attempts reset, the last error kept.
    let retried = store.retry_job(j.id, t("11:00:00")).await.expect("retry");
    assert_eq!(
        (retried.state, retried.attempts, retried.run_at),
        (JobState::Queued, 0, t("11:00:00"))
    );
    assert_eq!(retried.last_error, parked.last_error);
    let got = store
        .claim(&claim("w1", "11:00:00", 10))
        .await
        .expect("claim");
    assert_eq!(job_ids(&got), [j.id]);
    // A running (or done) job is not retried; an unknown one is not found.
    assert!(matches!(
        store
            .retry_job(j.id, t("11:00:01"))
            .await
            .expect_err("running"),
        StoreError::Invalid(_)
    ));
    assert_not_found(
        store
            .retry_job(JobId(999), t("11:00:00"))
            .await
            .expect_err("unknown"),
        "job 999",
    );
}

pub async fn jobs_complete_is_for_the_leaseholder(store: Arc<dyn Store>) {
    let j = store
        .enqueue(job("notify", "10:00:00"), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    // Not claimed yet: nobody holds it.
    assert!(
        !store
            .complete(j.id, "w1", t("10:00:00"))
            .await
            .expect("complete")
    );
    store
        .claim(&claim("w1", "10:00:00", 10))
        .await
        .expect("claim");
    assert!(
        !store
            .complete(j.id, "w2", t("10:00:01"))
            .await
            .expect("other worker")
    );
    assert_eq!(
        store.get_job(j.id).await.expect("get").state,
        JobState::Running
    );
    assert!(
        store
            .complete(j.id, "w1", t("10:00:02"))
            .await
            .expect("leaseholder")
    );
    // Idempotent for the leaseholder: the first completion time stays.
    assert!(
        store
            .complete(j.id, "w1", t("10:00:03"))
            .await
            .expect("again")
    );
    assert!(
        !store
            .complete(j.id, "w2", t("10:00:03"))
            .await
            .expect("other worker")
    );
    let done = store.get_job(j.id).await.expect("get");
    assert_eq!(
        (done.state, done.finished_at, done.lease_until),
        (JobState::Done, Some(t("10:00:02")), None)
    );
    // A done job is never claimed again, even long after its lease would have ended.
    assert!(
        store
            .claim(&claim("w2", "23:00:00", 10))
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        store
            .fail(j.id, "w1", "too late", t("10:00:04"))
            .await
            .expect("fail")
            .is_none()
    );
    assert!(matches!(
        store
            .retry_job(j.id, t("11:00:00"))
            .await
            .expect_err("done"),
        StoreError::Invalid(_)
    ));
    assert_not_found(
        store
            .complete(JobId(999), "w1", t("10:00:00"))
            .await
            .expect_err("unknown"),
        "job 999",
    );
}

pub async fn followup_reads(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Queue backlog"))
        .await
        .expect("create");
    let mut ids = Vec::new();
    for (title, check_in) in [
        ("before the window", "2026-02-27"),
        ("first day", "2026-02-28"),
        ("inside", "2026-03-05"),
        ("last day", "2026-03-10"),
        ("after the window", "2026-03-11"),
    ] {
        let a = store
            .add_action(BY, p.key, action(title, "ada", check_in))
            .await
            .expect("action");
        ids.push(a.id);
    }
    let mut done = store.get_action(ids[2]).await.expect("get");
    done.fields.status = ActionStatus::Done;
    store
        .update_action(BY, done.id, done.version, done.fields)
        .await
        .expect("done");
    let mut started = store.get_action(ids[3]).await.expect("get");
    started.fields.status = ActionStatus::InProgress;
    store
        .update_action(BY, started.id, started.version, started.fields)
        .await
        .expect("in progress");
    let found = store
        .followup_actions(date("2026-02-28"), date("2026-03-10"))
        .await
        .expect("followup");
    let titles: Vec<String> = found.iter().map(|a| a.fields.title.to_string()).collect();
    assert_eq!(titles, ["first day", "last day"]);
    assert_eq!(found[0], store.get_action(ids[1]).await.expect("get"));

    // Only unpublished postmortems with a resolution and no meeting await their review.
    assert!(
        store
            .unreviewed_postmortems()
            .await
            .expect("unreviewed")
            .is_empty()
    );
    let mut resolved = fields("Resolved, no meeting");
    resolved.key_moments.resolved = Some(moment("2026-02-01 10:00"));
    let waiting = store
        .create_postmortem(BY, resolved.clone())
        .await
        .expect("create");
    let mut met = resolved.clone();
    met.title = "Resolved, meeting set".parse().expect("title");
    met.meeting.scheduled_at = Some(moment("2026-02-03 15:00"));
    store.create_postmortem(BY, met).await.expect("create");
    let mut published = resolved;
    published.title = "Resolved and published".parse().expect("title");
    let published = store
        .create_postmortem(BY, published)
        .await
        .expect("create");
    let in_review = store
        .change_status(BY, published.key, published.version, Status::InReview)
        .await
        .expect("review");
    store
        .change_status(BY, in_review.key, in_review.version, Status::Published)
        .await
        .expect("publish");
    let found = store.unreviewed_postmortems().await.expect("unreviewed");
    assert_eq!(
        found,
        [store.get_postmortem(waiting.key).await.expect("get")]
    );
}

// ---------------------------------------------------------------------------------------------
// Follow-through: when actions were finished, and postmortems that close themselves.

pub async fn actions_record_when_they_finished(store: Arc<dyn Store>) {
    let p = store
        .create_postmortem(BY, fields("Finish times"))
        .await
        .expect("create");
    // Added open: unfinished. Added done: finished as it is added.
    let a = store
        .add_action(
            BY,
            p.key,
            action("Alert on consumer lag", "Ada", "2024-06-01"),
        )
        .await
        .expect("add");
    assert_eq!(a.finished_at, None);
    let mut runbook = action("Runbook for failover", "Bo", "2024-06-02");
    runbook.status = ActionStatus::Done;
    let b = store.add_action(BY, p.key, runbook).await.expect("add");
    assert_eq!(b.finished_at, Some(b.created_at));
    assert_eq!(store.get_action(b.id).await.expect("get"), b);

    // In progress is not finished; done is, at the write that made it done.
    let mut f = a.fields.clone();
    f.status = ActionStatus::InProgress;
    let a = store
        .update_action(BY, a.id, a.version, f)
        .await
        .expect("start");
    assert_eq!(a.finished_at, None);
    let mut f = a.fields.clone();
    f.status = ActionStatus::Done;
    let a = store
        .update_action(BY, a.id, a.version, f)
        .await
        .expect("done");
    assert_eq!(a.finished_at, Some(a.updated_at));
    let done_at = a.updated_at;
    assert_eq!(store.get_action(a.id).await.expect("get"), a);

    // Edits and progress notes that leave it done keep when it was finished.
    let mut f = a.fields.clone();
    f.description = "Page when consumer lag passes 5 minutes".into();
    let a = store
        .update_action("bo", a.id, a.version, f)
        .await
        .expect("edit");
    assert!(a.updated_at > done_at);
    assert_eq!(a.finished_at, Some(done_at));
    let note = ProgressUpdate {
        at: moment("2024-06-03 09:00:00").at(),
        author: "Bo".parse().expect("name"),
        note: "Verified in a game day".parse().expect("line"),
        new_check_in: None,
    };
    let a = store
        .add_progress("bo", a.id, note)
        .await
        .expect("progress");
    assert_eq!(a.finished_at, Some(done_at));

    // Switching between done and declined finishes it anew; a new reason does not.
    let mut f = a.fields.clone();
    f.status = ActionStatus::Declined {
        reason: "Covered by the lag dashboard".parse().expect("line"),
    };
    let a = store
        .update_action(BY, a.id, a.version, f)
        .await
        .expect("decline");
    assert_eq!(a.finished_at, Some(a.updated_at));
    let declined_at = a.updated_at;
    assert!(declined_at > done_at);
    let mut f = a.fields.clone();
    f.status = ActionStatus::Declined {
        reason: "Covered by the lag dashboard (PM-3)".parse().expect("line"),
    };
    let a = store
        .update_action(BY, a.id, a.version, f)
        .await
        .expect("new reason");
    assert_eq!(a.finished_at, Some(declined_at));

    // Reopened, it is unfinished again; every read says so.
    let mut f = a.fields.clone();
    f.status = ActionStatus::Open;
    let a = store
        .update_action(BY, a.id, a.version, f)
        .await
        .expect("reopen");
    assert_eq!(a.finished_at, None);
    let listed = store
        .list_actions(&ActionFilter {
            postmortem: Some(p.key),
            ..ActionFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(listed, [a.clone(), b.clone()]);
    let due = store
        .followup_actions(date("2024-05-01"), date("2024-07-01"))
        .await
        .expect("followup");
    assert_eq!(due, [a]);

    // An imported action that is done or declined is finished at the import.
    let mut shipped = action("Shipped", "Cy", "2024-05-01");
    shipped.status = ActionStatus::Done;
    let mut dropped = action("Dropped", "Cy", "2024-05-02");
    dropped.status = ActionStatus::Declined {
        reason: "Not worth it".parse().expect("line"),
    };
    let pending = action("Pending", "Cy", "2024-05-03");
    let doc = PostmortemDocument {
        key: Some(key(9)),
        status: Status::Published,
        fields: fields("Imported with finished actions"),
        events: Vec::new(),
        actions: [shipped, dropped, pending]
            .into_iter()
            .map(|fields| debrief_core::ActionDocument {
                fields,
                progress: Vec::new(),
            })
            .collect(),
        participants: Vec::new(),
    };
    let imported = store
        .import_document("importer", doc)
        .await
        .expect("import");
    let finished: Vec<_> = store
        .list_actions(&ActionFilter {
            postmortem: Some(imported.key),
            ..ActionFilter::default()
        })
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.finished_at)
        .collect();
    assert_eq!(
        finished,
        [Some(imported.created_at), Some(imported.created_at), None]
    );
}

/// Finishes an action (done) as `by`, from its current version.
async fn finish(store: &Arc<dyn Store>, by: &str, id: debrief_core::ActionId) -> ActionItem {
    let current = store.get_action(id).await.expect("get");
    let mut f = current.fields;
    f.status = ActionStatus::Done;
    store
        .update_action(by, id, current.version, f)
        .await
        .expect("finish")
}

pub async fn postmortems_close_when_their_last_action_finishes(store: Arc<dyn Store>) {
    // In draft or in review, finishing every action closes nothing.
    let draft = store
        .create_postmortem(BY, fields("Still a draft"))
        .await
        .expect("create");
    let a = store
        .add_action(BY, draft.key, action("Fix the pool", "Ada", "2024-06-01"))
        .await
        .expect("add");
    finish(&store, BY, a.id).await;
    let still = store.get_postmortem(draft.key).await.expect("get");
    assert_eq!((still.status, still.version), (Status::Draft, Version(1)));
    let review = store
        .change_status(BY, draft.key, still.version, Status::InReview)
        .await
        .expect("review");
    let c = store
        .add_action(BY, review.key, action("Load test", "Bo", "2024-06-02"))
        .await
        .expect("add");
    finish(&store, BY, c.id).await;
    assert_eq!(store.get_postmortem(review.key).await.expect("get"), review);

    // Published: the action that finishes the last one closes it, recorded as a status change.
    let p = store
        .create_postmortem(BY, fields("Published"))
        .await
        .expect("create");
    let p = store
        .change_status(BY, p.key, p.version, Status::InReview)
        .await
        .expect("review");
    let a1 = store
        .add_action(BY, p.key, action("Alert on lag", "Ada", "2024-06-01"))
        .await
        .expect("add");
    let a2 = store
        .add_action(BY, p.key, action("Document failover", "Bo", "2024-06-02"))
        .await
        .expect("add");
    let p = store
        .change_status(BY, p.key, p.version, Status::Published)
        .await
        .expect("publish");
    finish(&store, "ada", a1.id).await;
    assert_eq!(store.get_postmortem(p.key).await.expect("get"), p);
    // A stale edit of the last one is refused and closes nothing.
    let mut last = a2.fields.clone();
    last.status = ActionStatus::Done;
    let err = store
        .update_action("bo", a2.id, Version(a2.version.0 + 7), last.clone())
        .await
        .expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(store.get_postmortem(p.key).await.expect("get"), p);
    store
        .update_action("bo", a2.id, a2.version, last)
        .await
        .expect("last one done");
    let closed = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.version, Version(p.version.0 + 1));
    assert_eq!(closed.fields, p.fields);
    let a2 = store.get_action(a2.id).await.expect("get");
    assert_eq!(closed.updated_at, a2.updated_at);
    let revs = store.revisions(p.key).await.expect("revisions");
    let [.., by_action, by_close] = revs.as_slice() else {
        panic!("{revs:?}")
    };
    assert_eq!(
        (by_action.entity, by_action.entity_id),
        (Entity::Action, Some(a2.id.0))
    );
    assert_eq!(by_close.actor, "bo");
    assert_eq!(
        (by_close.entity, by_close.entity_id),
        (Entity::Postmortem, None)
    );
    assert_eq!(by_close.at, a2.updated_at);
    assert!(
        by_close.summary.contains("published → closed")
            && by_close
                .summary
                .contains("every action is done or declined"),
        "{}",
        by_close.summary
    );
    assert_eq!(
        by_close.changes,
        [debrief_core::FieldChange {
            field: "status".into(),
            before: "published".into(),
            after: "closed".into(),
        }]
    );

    // Moved back to published, it stays published while an action is open, and closes again
    // when that one is finished. Editing an action that was already finished closes nothing.
    let back = store
        .change_status(BY, p.key, closed.version, Status::Published)
        .await
        .expect("back");
    let a3 = store
        .add_action(BY, p.key, action("One more", "Cy", "2024-06-03"))
        .await
        .expect("add");
    let a1 = store.get_action(a1.id).await.expect("get");
    let mut f = a1.fields.clone();
    f.description = "Alert when lag passes 5 minutes".into();
    store
        .update_action(BY, a1.id, a1.version, f)
        .await
        .expect("edit");
    assert_eq!(store.get_postmortem(p.key).await.expect("get"), back);
    let mut f = a3.fields.clone();
    f.status = ActionStatus::Declined {
        reason: "Covered by the failover runbook".parse().expect("line"),
    };
    store
        .update_action("cy", a3.id, a3.version, f)
        .await
        .expect("decline");
    let again = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(
        (again.status, again.version),
        (Status::Closed, Version(back.version.0 + 1))
    );

    // Published with every action already finished: only a write that finishes one closes it.
    let q = store
        .create_postmortem(BY, fields("Finished before publishing"))
        .await
        .expect("create");
    let q = store
        .change_status(BY, q.key, q.version, Status::InReview)
        .await
        .expect("review");
    let d = store
        .add_action(BY, q.key, action("Done early", "Ada", "2024-06-01"))
        .await
        .expect("add");
    let d = finish(&store, BY, d.id).await;
    let q = store
        .change_status(BY, q.key, q.version, Status::Published)
        .await
        .expect("publish");
    let mut f = d.fields.clone();
    f.description = "Shipped before the review".into();
    store
        .update_action(BY, d.id, d.version, f)
        .await
        .expect("edit");
    assert_eq!(store.get_postmortem(q.key).await.expect("get"), q);
}

// ---------------------------------------------------------------------------------------------
// Notification channels and preferences.

fn slack_channel(name: &str) -> ChannelFields {
    ChannelFields {
        name: name.parse().expect("name"),
        target: ChannelTarget::Slack {
            url: "https://hooks.example/services/T000/B000/XXXX"
                .parse()
                .expect("url"),
        },
        topics: Topics::all(),
        owners: Vec::new(),
        enabled: true,
    }
}

const WEBHOOK_SECRET: &str = "s3cret-s3cret-s3cret";

fn webhook_channel(name: &str) -> ChannelFields {
    ChannelFields {
        target: ChannelTarget::Webhook {
            url: "https://receiver.example/debrief".parse().expect("url"),
            secret: WEBHOOK_SECRET.into(),
        },
        topics: "reminders,escalations".parse().expect("topics"),
        owners: vec!["team:platform".parse().expect("owner")],
        ..slack_channel(name)
    }
}

fn email_channel(name: &str) -> ChannelFields {
    ChannelFields {
        target: ChannelTarget::Email(SmtpSettings {
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("debrief".into()),
            password: Some("hunter2-hunter2".into()),
            from: "Debrief <debrief@example.com>".into(),
            to: vec![email("platform@example.com")],
        }),
        topics: "digest".parse().expect("topics"),
        ..slack_channel(name)
    }
}

pub async fn channels_are_created_listed_updated_and_deleted(store: Arc<dyn Store>) {
    assert!(store.list_channels().await.expect("list").is_empty());
    let slack = store
        .create_channel(slack_channel("Platform-Slack"), t("09:00:00"))
        .await
        .expect("create");
    assert_eq!(slack.version, Version(1));
    assert_eq!(
        (slack.created_at, slack.updated_at),
        (t("09:00:00"), t("09:00:00"))
    );
    assert_eq!(slack.fields, slack_channel("Platform-Slack"));
    let mail = store
        .create_channel(email_channel("mail"), t("09:01:00"))
        .await
        .expect("create");
    let hook = store
        .create_channel(webhook_channel("receiver"), t("09:02:00"))
        .await
        .expect("create");
    assert_eq!(mail.fields, email_channel("mail"));
    assert_eq!(hook.fields, webhook_channel("receiver"));
    assert_eq!(store.get_channel(mail.id).await.expect("get"), mail);
    assert_eq!(
        store.list_channels().await.expect("list"),
        [slack.clone(), mail.clone(), hook.clone()]
    );

    // An edit made on the current version: the next version, updated now, created as before.
    let mut quieter = slack.fields.clone();
    quieter.topics = "digest".parse().expect("topics");
    quieter.owners = vec!["Ana Lima".parse().expect("owner")];
    quieter.enabled = false;
    let edited = store
        .update_channel(slack.id, slack.version, quieter.clone(), t("10:00:00"))
        .await
        .expect("update");
    assert_eq!(edited.version, Version(2));
    assert_eq!(edited.fields, quieter);
    assert_eq!(
        (edited.created_at, edited.updated_at),
        (t("09:00:00"), t("10:00:00"))
    );
    assert_eq!(store.get_channel(slack.id).await.expect("get"), edited);
    // The same fields again change nothing.
    let same = store
        .update_channel(slack.id, edited.version, quieter, t("11:00:00"))
        .await
        .expect("same");
    assert_eq!(same, edited);
    // Renaming to its own name in another case is fine.
    let mut renamed = edited.fields.clone();
    renamed.name = "platform-slack".parse().expect("name");
    let renamed = store
        .update_channel(slack.id, edited.version, renamed, t("11:00:00"))
        .await
        .expect("rename");
    assert_eq!(renamed.fields.name.as_str(), "platform-slack");
    assert_eq!(renamed.version, Version(3));

    // Deleted, it is gone and its name is free again.
    store.delete_channel(mail.id).await.expect("delete");
    assert_not_found(
        store.get_channel(mail.id).await.expect_err("deleted"),
        &format!("channel {}", mail.id),
    );
    assert_not_found(
        store.delete_channel(mail.id).await.expect_err("again"),
        &format!("channel {}", mail.id),
    );
    assert_eq!(
        store.list_channels().await.expect("list"),
        [renamed.clone(), hook]
    );
    let mail2 = store
        .create_channel(email_channel("MAIL"), t("12:00:00"))
        .await
        .expect("name free again");
    assert!(mail2.id > mail.id);
}

pub async fn channels_refuse_duplicates_stale_and_invalid_edits(store: Arc<dyn Store>) {
    let slack = store
        .create_channel(slack_channel("platform-slack"), t("09:00:00"))
        .await
        .expect("create");
    let hook = store
        .create_channel(webhook_channel("receiver"), t("09:00:00"))
        .await
        .expect("create");
    let before = store.list_channels().await.expect("list");

    // A name another channel has, in any case, is refused.
    let err = store
        .create_channel(webhook_channel("Platform-SLACK"), t("10:00:00"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Duplicate(ref what) if what == "a channel named Platform-SLACK"),
        "{err}"
    );
    let mut taken = hook.fields.clone();
    taken.name = "PLATFORM-slack".parse().expect("name");
    let err = store
        .update_channel(hook.id, hook.version, taken, t("10:00:00"))
        .await
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err}");

    // Fields a send would trip over are refused, naming the field.
    let mut short = webhook_channel("short-secret");
    short.target = ChannelTarget::Webhook {
        url: "https://receiver.example/x".parse().expect("url"),
        secret: "short".into(),
    };
    let err = store
        .create_channel(short.clone(), t("10:00:00"))
        .await
        .expect_err("invalid");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "secret"),
        "{err}"
    );
    short.name = hook.fields.name.clone();
    let err = store
        .update_channel(hook.id, hook.version, short, t("10:00:00"))
        .await
        .expect_err("invalid");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "secret"),
        "{err}"
    );
    let mut no_host = email_channel("mail");
    if let ChannelTarget::Email(smtp) = &mut no_host.target {
        smtp.host = " ".into();
    }
    let err = store
        .create_channel(no_host, t("10:00:00"))
        .await
        .expect_err("invalid");
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "host"),
        "{err}"
    );

    // An edit made on an old version is refused with the current channel, secrets redacted.
    let mut edit = hook.fields.clone();
    edit.topics = Topics::all();
    let hook2 = store
        .update_channel(hook.id, hook.version, edit.clone(), t("11:00:00"))
        .await
        .expect("update");
    let before_stale = store.list_channels().await.expect("list");
    edit.enabled = false;
    let err = store
        .update_channel(hook.id, hook.version, edit, t("12:00:00"))
        .await
        .expect_err("stale");
    let StoreError::Conflict {
        current_version,
        current,
        ..
    } = err
    else {
        panic!("expected a conflict, got {err}")
    };
    assert_eq!(current_version, hook2.version);
    assert_eq!(current["id"], hook.id.0);
    assert!(!current.to_string().contains(WEBHOOK_SECRET), "{current}");
    assert_eq!(store.list_channels().await.expect("list"), before_stale);
    assert_eq!(before_stale, [slack.clone(), hook2]);
    assert_eq!(before[0], slack);

    // Unknown channels are not found.
    assert_not_found(
        store
            .update_channel(
                ChannelId(999),
                Version(1),
                slack_channel("x"),
                t("12:00:00"),
            )
            .await
            .expect_err("unknown"),
        "channel 999",
    );
    assert_not_found(
        store
            .get_channel(ChannelId(999))
            .await
            .expect_err("unknown"),
        "channel 999",
    );
}

pub async fn preferences_default_to_every_topic_and_round_trip(store: Arc<dyn Store>) {
    let ana = store
        .create_user(new_user("Ana", "ana@example.com", UserRole::Editor), false)
        .await
        .expect("create");
    let bo = store
        .create_user(new_user("Bo", "bo@example.com", UserRole::Viewer), false)
        .await
        .expect("create");
    assert_eq!(
        store.preferences(ana.id).await.expect("prefs"),
        Preferences::default()
    );
    assert_eq!(
        store.preferences(ana.id).await.expect("prefs").topics,
        Topics::all()
    );
    let chosen = Preferences {
        topics: "reminders,digest".parse().expect("topics"),
    };
    store.set_preferences(ana.id, &chosen).await.expect("set");
    assert_eq!(store.preferences(ana.id).await.expect("prefs"), chosen);
    // Another user's stay the default; nothing else about the user changes.
    assert_eq!(
        store.preferences(bo.id).await.expect("prefs"),
        Preferences::default()
    );
    assert_eq!(store.get_user(ana.id).await.expect("get"), ana);
    let nothing = Preferences {
        topics: Topics::none(),
    };
    store.set_preferences(ana.id, &nothing).await.expect("set");
    assert_eq!(store.preferences(ana.id).await.expect("prefs"), nothing);
    assert_not_found(
        store.preferences(UserId(999)).await.expect_err("unknown"),
        "user 999",
    );
    assert_not_found(
        store
            .set_preferences(UserId(999), &chosen)
            .await
            .expect_err("unknown"),
        "user 999",
    );
}

// ---------------------------------------------------------------------------------------------
// Job queue housekeeping.

pub async fn jobs_purge_only_old_done_jobs_and_count_by_kind(store: Arc<dyn Store>) {
    let old = store
        .enqueue(job("notify", "10:00:00").dedup("remind:old"), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    let recent = store
        .enqueue(
            job("notify", "10:00:01").dedup("remind:recent"),
            t("09:00:00"),
        )
        .await
        .expect("enqueue")
        .job;
    let doomed = store
        .enqueue(job("digest", "10:00:02").max_attempts(1), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    let waiting = store
        .enqueue(job("notify", "20:00:00"), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    assert_eq!(
        job_ids(
            &store
                .claim(&claim("w1", "10:00:02", 10))
                .await
                .expect("claim")
        ),
        [old.id, recent.id, doomed.id]
    );
    assert!(
        store
            .complete(old.id, "w1", t("10:00:03"))
            .await
            .expect("done")
    );
    assert!(
        store
            .complete(recent.id, "w1", t("11:00:00"))
            .await
            .expect("done")
    );
    let parked = store
        .fail(doomed.id, "w1", "smtp: refused", t("10:00:04"))
        .await
        .expect("fail")
        .expect("leaseholder");
    assert_eq!(parked.state, JobState::Parked);
    let running = store
        .enqueue(job("digest", "10:30:00"), t("09:00:00"))
        .await
        .expect("enqueue")
        .job;
    assert_eq!(
        job_ids(
            &store
                .claim(&claim("w2", "10:30:00", 10))
                .await
                .expect("claim")
        ),
        [running.id]
    );

    assert_eq!(
        store.job_counts().await.expect("counts"),
        [
            ("digest".to_owned(), JobState::Running, 1),
            ("digest".to_owned(), JobState::Parked, 1),
            ("notify".to_owned(), JobState::Queued, 1),
            ("notify".to_owned(), JobState::Done, 2),
        ]
    );

    // Done before the cut: purged. Done at or after it, parked, queued and running: kept.
    assert_eq!(store.purge_jobs(t("11:00:00")).await.expect("purge"), 1);
    assert_not_found(
        store.get_job(old.id).await.expect_err("purged"),
        &format!("job {}", old.id),
    );
    for kept in [recent.id, doomed.id, waiting.id, running.id] {
        store.get_job(kept).await.expect("kept");
    }
    assert_eq!(store.purge_jobs(t("11:00:00")).await.expect("again"), 0);
    assert_eq!(store.purge_jobs(t("23:59:59")).await.expect("later"), 1);
    assert_eq!(
        store.get_job(doomed.id).await.expect("parked").state,
        JobState::Parked
    );
    assert_eq!(
        store.job_counts().await.expect("counts"),
        [
            ("digest".to_owned(), JobState::Running, 1),
            ("digest".to_owned(), JobState::Parked, 1),
            ("notify".to_owned(), JobState::Queued, 1),
        ]
    );
    // A purged job's key is free again.
    let again = store
        .enqueue(job("notify", "12:00:00").dedup("remind:old"), t("12:00:00"))
        .await
        .expect("enqueue");
    assert!(again.created);
}
