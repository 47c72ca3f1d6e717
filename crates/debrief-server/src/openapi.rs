//! The OpenAPI 3.1 document of `/api/v1/`, built in code from one table of operations so that it
//! cannot drift from the router: a test checks that every routed path and method is documented,
//! enum values are taken from the domain types themselves, and a snapshot test keeps the document
//! under review.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use debrief_core::notify::{ChannelKind, SmtpSecurity, Topic};

use debrief_core::{
    ActorKind, EventKind, FactorCategory, LinkKind, Outcome, Precision, Priority, Question, Role,
    Scope, Status, UserRole,
};

pub async fn serve() -> Response {
    axum::Json(document()).into_response()
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn names<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Value {
    Value::Array(all.iter().map(|v| Value::from(f(*v))).collect())
}

fn string_enum(values: Value, description: &str) -> Value {
    json!({ "type": "string", "enum": values, "description": description })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props, "additionalProperties": false })
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn schemas() -> Value {
    let moment = obj(
        &["at", "zone", "precision"],
        json!({
            "at": { "type": "string", "format": "date-time", "description": "The instant, RFC 3339 in UTC." },
            "zone": text("IANA time zone the moment was given in (`Europe/Berlin`, `UTC`)."),
            "precision": string_enum(names(&Precision::ALL, Precision::as_str), "How precisely the time is known."),
        }),
    );
    let line = text("One line of text.");
    let labels = array(text("A lower-case label: letters, digits and - _ . / :"));
    json!({
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": text("Stable error code: invalid, bad_request, not_found, conflict, duplicate, transition_refused, version_required, unauthenticated, forbidden, too_large, unsupported_media_type, rate_limited, internal."),
                "message": text("What went wrong, for people."),
                "field": text("The input at fault: a body field path (`actions[2].owner`), a query parameter or a header."),
                "current_version": { "type": "integer", "description": "On a conflict: the version now stored." },
                "current": { "type": "object", "description": "On a conflict: the record as it is now." }
            }
        },
        "Moment": moment,
        "Severity": { "type": "string", "pattern": "^SEV[1-9]$", "description": "SEV1 (worst) to SEV4 by default." },
        "Status": string_enum(names(Status::ALL, Status::as_str), "draft → in_review → published → closed; one step forward, any step back; closed only when every action is done or declined."),
        "KeyMoments": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "started": r("Moment"), "detected": r("Moment"), "acknowledged": r("Moment"),
                "mitigated": r("Moment"), "resolved": r("Moment")
            }
        },
        "ThreeRs": obj(&[], json!({
            "regret": text("Regret: that it happened."), "reason": text("Reason: why, in plain words."),
            "remedy": text("Remedy: what is being done.")
        })),
        "ContributingFactor": obj(&["category", "text"], json!({
            "category": string_enum(json!(FactorCategory::DEFAULTS), "Where the factor lies (the default taxonomy)."),
            "text": line
        })),
        "Lessons": obj(&[], json!({
            "what_helped": array(line.clone()), "what_slowed_us": array(line.clone()),
            "do_differently": array(line.clone()), "know_now": array(line.clone()), "got_lucky": array(line.clone())
        })),
        "RemediationIdea": obj(&["question", "text"], json!({
            "question": string_enum(names(Question::ALL, Question::as_str), "Which of the five questions it answers."),
            "text": line
        })),
        "Link": obj(&["kind", "url"], json!({
            "kind": string_enum(names(LinkKind::ALL, LinkKind::as_str), "What the link points at."),
            "url": { "type": "string", "format": "uri" },
            "title": line
        })),
        "Meeting": obj(&[], json!({
            "scheduled_at": r("Moment"), "location": line, "facilitator": text("A name."), "notes": text("Markdown.")
        })),
        "PostmortemFields": obj(&["title", "severity"], json!({
            "title": text("At most 200 characters, one line."),
            "summary": text("Markdown."), "impact": text("Markdown."),
            "severity": r("Severity"),
            "services": labels, "tags": labels,
            "key_moments": r("KeyMoments"),
            "customer_statement": r("ThreeRs"),
            "incident_cost": line,
            "factors": array(r("ContributingFactor")),
            "lessons": r("Lessons"),
            "ideas": array(r("RemediationIdea")),
            "links": array(r("Link")),
            "notes": text("Markdown."),
            "meeting": r("Meeting")
        })),
        "Postmortem": {
            "allOf": [
                r("PostmortemFields"),
                { "type": "object", "required": ["key", "version", "status", "created_at", "updated_at"], "properties": {
                    "key": text("PM-1, PM-2, …"), "version": { "type": "integer" }, "status": r("Status"),
                    "created_at": { "type": "string", "format": "date-time" },
                    "updated_at": { "type": "string", "format": "date-time" }
                }}
            ]
        },
        "PostmortemSummary": obj(&["key", "version", "title", "status", "severity", "occurred_at"], json!({
            "key": text("PM-n"), "version": { "type": "integer" }, "title": line, "status": r("Status"),
            "severity": r("Severity"), "services": labels,
            "occurred_at": { "type": "string", "format": "date-time" },
            "created_at": { "type": "string", "format": "date-time" },
            "updated_at": { "type": "string", "format": "date-time" }
        })),
        "SearchHit": {
            "allOf": [r("PostmortemSummary"), { "type": "object", "properties": {
                "rank": { "type": "number" }, "snippet": text("The best-matching line, matches in [brackets].")
            }}]
        },
        "Actor": obj(&["kind", "name"], json!({
            "kind": string_enum(names(ActorKind::ALL, ActorKind::as_str), "Who or what acted."),
            "name": text("A name.")
        })),
        "Account": obj(&[], json!({
            "knew": text("What the person knew at the time."),
            "expected": text("What they expected to happen."),
            "assumed": text("What they assumed.")
        })),
        "EventFields": obj(&["happened_at", "kind", "description"], json!({
            "happened_at": r("Moment"),
            "kind": string_enum(names(EventKind::ALL, EventKind::as_str), "What kind of moment this is."),
            "milestone": text("started, detected, acknowledged, mitigated or resolved: sets that key moment."),
            "actor": r("Actor"),
            "description": text("Markdown."),
            "source": text("manual, slack, alertmanager, … (default manual)."),
            "source_id": text("The source's own id; (source, source_id) is unique on a timeline."),
            "account_of": text("Whose account this is, when several people remember the moment differently."),
            "account": r("Account"),
            "outcome": string_enum(names(Outcome::ALL, Outcome::as_str), "As discussed in the review."),
            "differently": text("What could we do differently."),
            "links": array(r("Link")),
            "hidden": { "type": "boolean" }, "pinned": { "type": "boolean" }
        })),
        "TimelineEvent": {
            "allOf": [r("EventFields"), { "type": "object", "required": ["id", "version", "recorded_at"], "properties": {
                "id": { "type": "integer" }, "version": { "type": "integer" },
                "recorded_at": { "type": "string", "format": "date-time" }
            }}]
        },
        "BulkOutcome": obj(&["added", "already_present"], json!({
            "added": { "type": "integer" }, "already_present": { "type": "integer" }
        })),
        "ActionFields": {
            "type": "object",
            "required": ["title", "category", "owner", "check_in", "priority", "status"],
            "properties": {
                "title": line, "description": text("Markdown."),
                "category": string_enum(names(Question::ALL, Question::as_str), "Which of the five questions it answers."),
                "owner": text("A person or a team. Required."),
                "check_in": { "type": "string", "format": "date", "description": "When measurable progress is reported. Required." },
                "due": { "type": "string", "format": "date" },
                "priority": string_enum(names(Priority::ALL, Priority::as_str), "Priority."),
                "status": { "type": "string", "enum": ["open", "in_progress", "done", "declined"] },
                "reason": text("Why it was declined (required with status declined)."),
                "volunteer": { "type": "boolean" },
                "estimated_cost": line,
                "tracker": { "type": "string", "format": "uri" },
                "smart": { "type": "object", "description": "SMART checks: specific, measurable, achievable, relevant, time_bound (booleans)." }
            }
        },
        "ProgressUpdate": obj(&["note"], json!({
            "note": line,
            "new_check_in": { "type": "string", "format": "date" }
        })),
        "ActionItem": {
            "allOf": [r("ActionFields"), { "type": "object", "required": ["id", "postmortem", "version"], "properties": {
                "id": { "type": "integer" }, "postmortem": text("PM-n"), "version": { "type": "integer" },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "progress": array(json!({ "type": "object", "properties": {
                    "at": { "type": "string", "format": "date-time" }, "author": line, "note": line,
                    "new_check_in": { "type": "string", "format": "date" }
                }}))
            }}]
        },
        "ParticipantFields": obj(&["name", "role", "invited"], json!({
            "name": text("A name."), "contact": line,
            "role": string_enum(names(Role::ALL, Role::as_str), "Role in the incident."),
            "invited": { "type": "boolean", "description": "Invited to the review (stakeholders are not by default)." },
            "attended": { "type": "boolean" },
            "circumstances": text("Paged at night, off hours, …")
        })),
        "Participant": {
            "allOf": [r("ParticipantFields"), { "type": "object", "required": ["id", "version"], "properties": {
                "id": { "type": "integer" }, "version": { "type": "integer" }
            }}]
        },
        "Revision": obj(&["id", "at", "actor", "entity", "summary", "changes"], json!({
            "id": { "type": "integer" }, "at": { "type": "string", "format": "date-time" },
            "actor": text("Who made the change."),
            "entity": { "type": "string", "enum": ["postmortem", "event", "action", "participant"] },
            "entity_id": { "type": "integer" },
            "summary": text("created, updated, status draft → in_review, …"),
            "changes": array(obj(&["field", "before", "after"], json!({
                "field": text("Dotted path of the changed field."), "before": {}, "after": {}
            })))
        })),
        "Readiness": obj(&["ready", "gaps", "durations"], json!({
            "ready": { "type": "boolean" },
            "gaps": array(obj(&["code", "message"], json!({ "code": text("Stable code."), "message": text("What to do.") }))),
            "durations": { "type": "object", "description": "time_to_detect, time_to_acknowledge, time_to_mitigate, time_to_resolve as ISO 8601 durations, when the key moments give them." }
        })),
        "PostmortemDocument": { "type": "object", "description": "A whole postmortem: `postmortem` fields with key and status, `events`, `actions`, `participants` — what GET …/document answers and POST /postmortems/import accepts." },
        "LintRequest": obj(&["text"], json!({
            "text": text("The text to check (Markdown)."),
            "section": text("summary, impact, timeline, factors, lessons, actions, ideas, customer_statement, notes, …; without it the text is a whole postmortem."),
            "postmortem": text("PM-n, so its participants' names are known."),
            "participants": array(text("More names of people."))
        })),
        "LintAnswer": obj(&["findings"], json!({
            "findings": array(obj(&["rule", "level", "line", "column", "message", "suggestion"], json!({
                "rule": text("blame/counterfactual, blame/human-error, …, structure/…"),
                "level": { "type": "string", "enum": ["hint", "warning", "error"] },
                "line": { "type": "integer" }, "column": { "type": "integer" },
                "end_line": { "type": "integer" }, "end_column": { "type": "integer" },
                "range": { "type": "object", "description": "Byte range: start, end." },
                "section": text("The section the text is in."),
                "matched": text("The text found."),
                "message": text("Why it matters, in blameless terms."),
                "suggestion": text("A rephrasing.")
            })))
        })),
        "User": obj(&["id", "name", "email", "role", "disabled", "created_at"], json!({
            "id": { "type": "integer" }, "name": text("A name."), "email": { "type": "string", "format": "email" },
            "role": string_enum(names(UserRole::ALL, UserRole::as_str), "viewer < editor < admin."),
            "disabled": { "type": "boolean" }, "created_at": { "type": "string", "format": "date-time" }
        })),
        "NewUser": obj(&["name", "email", "role", "password"], json!({
            "name": text("A name."), "email": { "type": "string", "format": "email" },
            "role": string_enum(names(UserRole::ALL, UserRole::as_str), "Role."),
            "password": text("At least 10 characters.")
        })),
        "UserPatch": obj(&[], json!({
            "name": text("A name."), "role": string_enum(names(UserRole::ALL, UserRole::as_str), "Role."),
            "disabled": { "type": "boolean" }, "password": text("At least 10 characters.")
        })),
        "ApiToken": obj(&["id", "user_id", "name", "scope", "created_at"], json!({
            "id": { "type": "integer" }, "user_id": { "type": "integer" }, "name": line,
            "scope": string_enum(names(Scope::ALL, Scope::as_str), "read < write < admin; never more than the user's role."),
            "created_at": { "type": "string", "format": "date-time" },
            "expires_at": { "type": "string", "format": "date-time" },
            "last_used_at": { "type": "string", "format": "date-time" },
            "revoked_at": { "type": "string", "format": "date-time" }
        })),
        "NewToken": obj(&["name", "scope"], json!({
            "name": line, "scope": string_enum(names(Scope::ALL, Scope::as_str), "Scope."),
            "expires_in_days": { "type": "integer", "minimum": 1, "maximum": 3650 }
        })),
        "CreatedToken": {
            "allOf": [r("ApiToken"), { "type": "object", "required": ["token"], "properties": {
                "token": text("The secret, shown this once: send it as `Authorization: Bearer …`.")
            }}]
        },
        "HookAnswer": obj(&["postmortem", "created", "added", "already_present", "ignored", "rejected", "postmortems", "notes", "message"], json!({
            "postmortem": { "type": ["string", "null"], "description": "PM-n the events went to (the first, when several); null when they were recorded nowhere." },
            "created": { "type": "boolean", "description": "Whether this delivery opened a draft postmortem." },
            "added": { "type": "integer", "description": "Events added to a timeline." },
            "already_present": { "type": "integer", "description": "Events already there: a repeated delivery adds nothing." },
            "ignored": { "type": "integer", "description": "Alerts or events recorded nowhere: no open postmortem for their group and the draft rule did not match, or the URL names no postmortem." },
            "rejected": array(obj(&["location", "reason"], json!({ "location": text("Where in the payload (`alerts[2].startsAt`)."), "reason": text("Why it was refused.") }))),
            "postmortems": array(text("PM-n")),
            "notes": array(text("What the parser noted: retries kept once, alerts the sender left out, …")),
            "message": text("What happened, in a sentence.")
        })),
        "ChannelFields": {
            "type": "object",
            "required": ["name", "kind"],
            "description": "A notification channel. kind email: host, port, security, from (username and password both or neither; to: a team's addresses); kind slack: url (a Slack-compatible incoming webhook); kind webhook: url and secret (at least 16 characters; requests carry X-Debrief-Signature: sha256=<hex HMAC-SHA256 of \"<X-Debrief-Timestamp>.<body>\">). Secrets read back as ********; sending ******** back keeps the stored one.",
            "properties": {
                "name": text("A short unique name."),
                "kind": string_enum(names(ChannelKind::ALL, ChannelKind::as_str), "Where it delivers."),
                "topics": array(string_enum(names(Topic::ALL, Topic::as_str), "A topic it carries.")),
                "owners": array(text("An action owner whose notifications and digest it receives; none: every owner.")),
                "enabled": { "type": "boolean" },
                "host": text("email: the SMTP server."),
                "port": { "type": "integer", "minimum": 1, "maximum": 65535 },
                "security": string_enum(names(SmtpSecurity::ALL, SmtpSecurity::as_str), "email: starttls (587), tls (465) or none."),
                "username": text("email: login."),
                "password": text("email: login password."),
                "from": text("email: Name <address> or address."),
                "to": array(json!({ "type": "string", "format": "email" })),
                "url": { "type": "string", "format": "uri" },
                "secret": text("webhook: the HMAC key.")
            }
        },
        "Channel": {
            "allOf": [r("ChannelFields"), { "type": "object", "required": ["id", "version", "created_at", "updated_at", "description"], "properties": {
                "id": { "type": "integer" }, "version": { "type": "integer" },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "description": text("Where it goes, in words, without secrets.")
            }}]
        },
        "ChannelTest": obj(&[], json!({ "to": { "type": "string", "format": "email", "description": "email channels: where to send the test (default: you)." } })),
        "ChannelTestAnswer": obj(&["sent", "channel"], json!({ "sent": { "type": "boolean" }, "channel": text("Its name."), "to": text("The address, for email.") })),
        "Job": obj(&["id", "kind", "payload", "run_at", "attempts", "max_attempts", "state", "created_at"], json!({
            "id": { "type": "integer" },
            "kind": text("notify (a reminder), send (one message to one destination), digest."),
            "payload": { "type": "object", "description": "What the job works on." },
            "run_at": { "type": "string", "format": "date-time" },
            "attempts": { "type": "integer" }, "max_attempts": { "type": "integer" },
            "lease_until": { "type": "string", "format": "date-time" },
            "leased_by": text("The worker that claimed it last."),
            "last_error": text("Why the last attempt failed."),
            "state": { "type": "string", "enum": ["queued", "running", "done", "parked"] },
            "dedup_key": text("What makes it unique (a reminder, a send, a week's digest)."),
            "created_at": { "type": "string", "format": "date-time" },
            "finished_at": { "type": "string", "format": "date-time" }
        })),
        "Preferences": obj(&["topics"], json!({
            "topics": array(string_enum(names(Topic::ALL, Topic::as_str), "A topic you receive."))
        })),
        "PreferencesAnswer": obj(&["topics", "available"], json!({
            "topics": array(string_enum(names(Topic::ALL, Topic::as_str), "A topic you receive.")),
            "available": array(obj(&["topic", "description"], json!({ "topic": text("The topic."), "description": text("What it is.") })))
        })),
        "FollowThrough": obj(&["actions", "on_time", "late", "declined", "open", "overdue", "median_days_overdue"], json!({
            "actions": { "type": "integer" },
            "on_time": { "type": "integer", "description": "Done by their check-in date." },
            "late": { "type": "integer", "description": "Done after it." },
            "declined": { "type": "integer" },
            "open": { "type": "integer", "description": "Not finished." },
            "overdue": { "type": "integer", "description": "Open and past the check-in date (a part of open)." },
            "median_days_overdue": { "type": ["number", "null"], "description": "Median days past the check-in date of the late and the overdue actions." }
        })),
        "FollowThroughReport": obj(&["today", "all", "postmortems"], json!({
            "today": { "type": "string", "format": "date" },
            "all": r("FollowThrough"),
            "postmortems": array(json!({ "allOf": [r("FollowThrough"), { "type": "object", "properties": { "key": text("PM-n"), "title": text("Its title."), "status": text("Its status.") } }] }))
        })),
        "Me": obj(&["user", "signed_in_with"], json!({
            "user": r("User"), "signed_in_with": { "type": "string", "enum": ["session", "token"] },
            "scope": string_enum(names(Scope::ALL, Scope::as_str), "The token's scope.")
        }))
    })
}

/// One documented operation.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    tag: &'static str,
    /// Request body schema, if any.
    body: Option<Value>,
    /// Success status and schema (`None`: no JSON body).
    ok: (&'static str, Option<Value>),
    /// Sends `If-Match`.
    versioned: bool,
    query: &'static [(&'static str, &'static str)],
}

const FILTERS: &[(&str, &str)] = &[
    ("status", "draft, in_review, published or closed"),
    ("severity", "SEV1 … SEV4"),
    ("service", "a service label"),
    (
        "from",
        "incidents that started at or after this date or time",
    ),
    ("until", "… and before this date or time"),
    ("limit", "at most this many (1–1000, default 100)"),
];

fn ops() -> Vec<Op> {
    let pm = || Some(r("Postmortem"));
    let op =
        |method, path, id, summary, tag, body: Option<Value>, ok: (&'static str, Option<Value>)| {
            Op {
                method,
                path,
                id,
                summary,
                tag,
                body,
                ok,
                versioned: false,
                query: &[],
            }
        };
    let mut v = vec![
        op(
            "get",
            "/api/v1/me",
            "me",
            "Who am I",
            "accounts",
            None,
            ("200", Some(r("Me"))),
        ),
        Op {
            query: FILTERS,
            ..op(
                "get",
                "/api/v1/postmortems",
                "listPostmortems",
                "List postmortems (drafts only for editors and participants)",
                "postmortems",
                None,
                ("200", Some(array(r("PostmortemSummary")))),
            )
        },
        op(
            "post",
            "/api/v1/postmortems",
            "createPostmortem",
            "Create a draft postmortem",
            "postmortems",
            Some(r("PostmortemFields")),
            ("201", pm()),
        ),
        op(
            "post",
            "/api/v1/postmortems/import",
            "importPostmortem",
            "Import a whole postmortem (JSON document, or Debrief Markdown with Content-Type text/markdown)",
            "postmortems",
            Some(r("PostmortemDocument")),
            ("201", pm()),
        ),
        op(
            "get",
            "/api/v1/postmortems/{key}",
            "getPostmortem",
            "Read a postmortem (ETag: its version)",
            "postmortems",
            None,
            ("200", pm()),
        ),
        Op {
            versioned: true,
            ..op(
                "put",
                "/api/v1/postmortems/{key}",
                "replacePostmortem",
                "Replace a postmortem's fields",
                "postmortems",
                Some(r("PostmortemFields")),
                ("200", pm()),
            )
        },
        Op {
            versioned: true,
            ..op(
                "patch",
                "/api/v1/postmortems/{key}",
                "patchPostmortem",
                "Change some fields (JSON merge patch)",
                "postmortems",
                Some(json!({"type": "object"})),
                ("200", pm()),
            )
        },
        Op {
            versioned: true,
            ..op(
                "post",
                "/api/v1/postmortems/{key}/status",
                "changeStatus",
                "Move to another status",
                "postmortems",
                Some(obj(&["status"], json!({"status": r("Status")}))),
                ("200", pm()),
            )
        },
        op(
            "get",
            "/api/v1/postmortems/{key}/document",
            "getDocument",
            "The whole postmortem as one document (ETag: its newest revision; If-None-Match with it answers 304)",
            "postmortems",
            None,
            ("200", Some(r("PostmortemDocument"))),
        ),
        Op {
            query: &[
                ("format", "markdown (default) or json"),
                ("zone", "IANA zone for times (default the server's)"),
            ],
            ..op(
                "get",
                "/api/v1/postmortems/{key}/export",
                "exportPostmortem",
                "Export as Markdown or JSON",
                "postmortems",
                None,
                ("200", None),
            )
        },
        op(
            "get",
            "/api/v1/postmortems/{key}/readiness",
            "readiness",
            "What is missing before the review, and the durations",
            "postmortems",
            None,
            ("200", Some(r("Readiness"))),
        ),
        op(
            "get",
            "/api/v1/postmortems/{key}/revisions",
            "revisions",
            "Every recorded change, oldest first",
            "postmortems",
            None,
            ("200", Some(array(r("Revision")))),
        ),
        Op {
            versioned: true,
            ..op(
                "post",
                "/api/v1/postmortems/{key}/restore",
                "restore",
                "Restore the postmortem's fields as they were after a revision",
                "postmortems",
                Some(obj(&["revision"], json!({"revision": {"type": "integer"}}))),
                ("200", pm()),
            )
        },
        Op {
            query: &[("hidden", "true to include hidden events")],
            ..op(
                "get",
                "/api/v1/postmortems/{key}/events",
                "listEvents",
                "The timeline, in time order",
                "timeline",
                None,
                ("200", Some(array(r("TimelineEvent")))),
            )
        },
        op(
            "post",
            "/api/v1/postmortems/{key}/events",
            "addEvent",
            "Add a timeline event",
            "timeline",
            Some(r("EventFields")),
            ("201", Some(r("TimelineEvent"))),
        ),
        op(
            "post",
            "/api/v1/postmortems/{key}/events/bulk",
            "bulkEvents",
            "Add many events; (source, source_id) already present are skipped; all or nothing",
            "timeline",
            Some(array(r("EventFields"))),
            ("200", Some(r("BulkOutcome"))),
        ),
        op(
            "get",
            "/api/v1/postmortems/{key}/events/{id}",
            "getEvent",
            "Read one event",
            "timeline",
            None,
            ("200", Some(r("TimelineEvent"))),
        ),
        Op {
            versioned: true,
            ..op(
                "put",
                "/api/v1/postmortems/{key}/events/{id}",
                "replaceEvent",
                "Replace an event",
                "timeline",
                Some(r("EventFields")),
                ("200", Some(r("TimelineEvent"))),
            )
        },
        Op {
            versioned: true,
            ..op(
                "patch",
                "/api/v1/postmortems/{key}/events/{id}",
                "patchEvent",
                "Change some of an event's fields (JSON merge patch)",
                "timeline",
                Some(json!({"type": "object"})),
                ("200", Some(r("TimelineEvent"))),
            )
        },
        op(
            "post",
            "/api/v1/postmortems/{key}/events/{id}/hidden",
            "hideEvent",
            "Hide or show an event",
            "timeline",
            Some(obj(&["hidden"], json!({"hidden": {"type": "boolean"}}))),
            ("200", Some(r("TimelineEvent"))),
        ),
        op(
            "get",
            "/api/v1/postmortems/{key}/participants",
            "listParticipants",
            "Participants",
            "participants",
            None,
            ("200", Some(array(r("Participant")))),
        ),
        op(
            "post",
            "/api/v1/postmortems/{key}/participants",
            "addParticipant",
            "Add a participant",
            "participants",
            Some(r("ParticipantFields")),
            ("201", Some(r("Participant"))),
        ),
        Op {
            versioned: true,
            ..op(
                "put",
                "/api/v1/postmortems/{key}/participants/{id}",
                "replaceParticipant",
                "Replace a participant",
                "participants",
                Some(r("ParticipantFields")),
                ("200", Some(r("Participant"))),
            )
        },
        Op {
            versioned: true,
            ..op(
                "patch",
                "/api/v1/postmortems/{key}/participants/{id}",
                "patchParticipant",
                "Change some of a participant's fields",
                "participants",
                Some(json!({"type": "object"})),
                ("200", Some(r("Participant"))),
            )
        },
        op(
            "get",
            "/api/v1/postmortems/{key}/actions",
            "listPostmortemActions",
            "A postmortem's action items",
            "actions",
            None,
            ("200", Some(array(r("ActionItem")))),
        ),
        op(
            "post",
            "/api/v1/postmortems/{key}/actions",
            "addAction",
            "Add an action item (owner and check-in date required)",
            "actions",
            Some(r("ActionFields")),
            ("201", Some(r("ActionItem"))),
        ),
        Op {
            query: &[
                ("owner", "owner name, any case"),
                ("status", "open, in_progress, done or declined"),
                (
                    "overdue_on",
                    "unfinished with a check-in before this date (YYYY-MM-DD or today)",
                ),
                ("postmortem", "PM-n"),
            ],
            ..op(
                "get",
                "/api/v1/actions",
                "listActions",
                "The action board across all postmortems",
                "actions",
                None,
                ("200", Some(array(r("ActionItem")))),
            )
        },
        op(
            "get",
            "/api/v1/actions/{id}",
            "getAction",
            "Read an action item",
            "actions",
            None,
            ("200", Some(r("ActionItem"))),
        ),
        Op {
            versioned: true,
            ..op(
                "put",
                "/api/v1/actions/{id}",
                "replaceAction",
                "Replace an action item",
                "actions",
                Some(r("ActionFields")),
                ("200", Some(r("ActionItem"))),
            )
        },
        Op {
            versioned: true,
            ..op(
                "patch",
                "/api/v1/actions/{id}",
                "patchAction",
                "Change some of an action's fields",
                "actions",
                Some(json!({"type": "object"})),
                ("200", Some(r("ActionItem"))),
            )
        },
        op(
            "post",
            "/api/v1/actions/{id}/progress",
            "addProgress",
            "Add a dated progress note, optionally with a new check-in date",
            "actions",
            Some(r("ProgressUpdate")),
            ("200", Some(r("ActionItem"))),
        ),
        Op {
            query: &[
                ("q", "words; \"a phrase\" in quotes"),
                ("status", "filter"),
                ("severity", "filter"),
                ("service", "filter"),
                ("from", "filter"),
                ("until", "filter"),
                ("limit", "1–1000"),
            ],
            ..op(
                "get",
                "/api/v1/search",
                "search",
                "Full-text search, best match first",
                "postmortems",
                None,
                ("200", Some(array(r("SearchHit")))),
            )
        },
        op(
            "post",
            "/api/v1/lint",
            "lint",
            "Check text for blaming language: one field (with its section) or a whole Markdown postmortem",
            "lint",
            Some(r("LintRequest")),
            ("200", Some(r("LintAnswer"))),
        ),
        op(
            "get",
            "/api/v1/users",
            "listUsers",
            "Users (admins)",
            "accounts",
            None,
            ("200", Some(array(r("User")))),
        ),
        op(
            "post",
            "/api/v1/users",
            "addUser",
            "Add a user (admins)",
            "accounts",
            Some(r("NewUser")),
            ("201", Some(r("User"))),
        ),
        op(
            "patch",
            "/api/v1/users/{id}",
            "changeUser",
            "Change, disable or re-enable a user (admins)",
            "accounts",
            Some(r("UserPatch")),
            ("200", Some(r("User"))),
        ),
        Op {
            query: &[("all", "true: every user's tokens (admins)")],
            ..op(
                "get",
                "/api/v1/tokens",
                "listTokens",
                "Your API tokens",
                "accounts",
                None,
                ("200", Some(array(r("ApiToken")))),
            )
        },
        op(
            "post",
            "/api/v1/tokens",
            "createToken",
            "Create an API token; its secret is in the answer, once",
            "accounts",
            Some(r("NewToken")),
            ("201", Some(r("CreatedToken"))),
        ),
        op(
            "delete",
            "/api/v1/tokens/{id}",
            "revokeToken",
            "Revoke a token",
            "accounts",
            None,
            ("200", Some(r("ApiToken"))),
        ),
        Op {
            query: &[
                ("owner", "owner name, any case"),
                ("status", "open, in_progress, done or declined"),
                ("postmortem", "PM-n"),
            ],
            ..op(
                "get",
                "/api/v1/actions/stats",
                "followThrough",
                "Follow-through: actions done on time, late, declined, open; overall and per postmortem",
                "actions",
                None,
                ("200", Some(r("FollowThroughReport"))),
            )
        },
        op(
            "get",
            "/api/v1/me/preferences",
            "getPreferences",
            "The notification topics you receive",
            "notifications",
            None,
            ("200", Some(r("PreferencesAnswer"))),
        ),
        op(
            "put",
            "/api/v1/me/preferences",
            "setPreferences",
            "Choose the notification topics you receive",
            "notifications",
            Some(r("Preferences")),
            ("200", Some(r("PreferencesAnswer"))),
        ),
        op(
            "get",
            "/api/v1/channels",
            "listChannels",
            "Notification channels (admins)",
            "notifications",
            None,
            ("200", Some(array(r("Channel")))),
        ),
        op(
            "post",
            "/api/v1/channels",
            "addChannel",
            "Add a notification channel (admins); checked before it is stored",
            "notifications",
            Some(r("ChannelFields")),
            ("201", Some(r("Channel"))),
        ),
        op(
            "get",
            "/api/v1/channels/{id}",
            "getChannel",
            "Read a notification channel (admins)",
            "notifications",
            None,
            ("200", Some(r("Channel"))),
        ),
        Op {
            versioned: true,
            ..op(
                "patch",
                "/api/v1/channels/{id}",
                "patchChannel",
                "Change a notification channel (admins)",
                "notifications",
                Some(json!({"type": "object"})),
                ("200", Some(r("Channel"))),
            )
        },
        op(
            "delete",
            "/api/v1/channels/{id}",
            "deleteChannel",
            "Remove a notification channel (admins)",
            "notifications",
            None,
            ("204", None),
        ),
        op(
            "post",
            "/api/v1/channels/{id}/test",
            "testChannel",
            "Send a test message through a channel now (admins); 502 says why it failed",
            "notifications",
            Some(r("ChannelTest")),
            ("200", Some(r("ChannelTestAnswer"))),
        ),
        Op {
            query: &[
                (
                    "state",
                    "queued, running, done, parked (comma-separated); without state or failing: parked and failing jobs",
                ),
                ("failing", "true: failed at least once and not done"),
                ("kind", "notify, send or digest"),
                ("limit", "1–1000, default 100"),
            ],
            ..op(
                "get",
                "/api/v1/jobs",
                "listJobs",
                "Background jobs, newest first (admins): by default those parked or failing",
                "notifications",
                None,
                ("200", Some(array(r("Job")))),
            )
        },
        op(
            "post",
            "/api/v1/jobs/{id}/retry",
            "retryJob",
            "Queue a parked or waiting job again now, its attempts reset (admins)",
            "notifications",
            None,
            ("200", Some(r("Job"))),
        ),
        op(
            "get",
            "/api/v1/openapi.json",
            "openapi",
            "This document",
            "meta",
            None,
            ("200", None),
        ),
    ];
    v.sort_by_key(|o| (o.path, o.method));
    v
}

/// One webhook: its source, what it reads, and whether the URL names where its events go.
struct Hook {
    source: &'static str,
    id: &'static str,
    summary: &'static str,
    payload: &'static str,
    /// GitHub signs the body instead of sending a bearer secret.
    signed: bool,
    /// Event hooks take `postmortem` or `service` from the query; alert hooks open drafts.
    targeted: bool,
}

fn hooks() -> Vec<Hook> {
    let alert = |source, id, summary, payload| Hook {
        source,
        id,
        summary,
        payload,
        signed: false,
        targeted: false,
    };
    vec![
        alert(
            "alertmanager",
            "hookAlertmanager",
            "Prometheus Alertmanager webhook (version 4)",
            "An Alertmanager webhook notification, version 4 (another version gets 422).",
        ),
        alert(
            "grafana",
            "hookGrafana",
            "Grafana alerting webhook (unified or legacy)",
            "A Grafana alerting webhook notification.",
        ),
        alert(
            "pagerduty",
            "hookPagerduty",
            "PagerDuty webhook (v3, or v2 with log entries)",
            "A PagerDuty webhook: v3 `{event: …}` or v2 `{messages: […]}`.",
        ),
        alert(
            "opsgenie",
            "hookOpsgenie",
            "Opsgenie webhook",
            "An Opsgenie webhook: `{action, alert, source}`.",
        ),
        Hook {
            source: "github",
            id: "hookGithub",
            summary: "GitHub deployment_status webhook",
            payload: "A GitHub `deployment_status` (or `deployment`) webhook; `ping` is answered, other events are recorded nowhere.",
            signed: true,
            targeted: true,
        },
        Hook {
            source: "generic",
            id: "hookGeneric",
            summary: "Timeline events as JSON lines",
            payload: "JSON lines: one object per line with time, description and optionally actor, kind, id, milestone, link.",
            signed: false,
            targeted: true,
        },
    ]
}

/// The webhooks' operations: authenticated by each hook's own secret, not by an account.
fn hook_paths(paths: &mut Map<String, Value>) {
    for h in hooks() {
        let path = format!("/api/v1/hooks/{}", h.source);
        let params: Vec<Value> = if h.targeted {
            vec![
                json!({ "name": "postmortem", "in": "query", "required": false, "description": "PM-n: append the events to this postmortem", "schema": { "type": "string" } }),
                json!({ "name": "service", "in": "query", "required": false, "description": "append the events to every open postmortem (draft or in review) of this service", "schema": { "type": "string" } }),
            ]
        } else {
            Vec::new()
        };
        let answer = |description: &str| json!({ "description": description, "content": { "application/json": { "schema": r("HookAnswer") } } });
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            answer("The events were appended (or were already there)"),
        );
        if !h.targeted {
            responses.insert(
                "201".into(),
                answer("A firing alert passed the draft rule and opened a draft postmortem"),
            );
        }
        responses.insert(
            "202".into(),
            answer("Accepted and recorded nowhere: no open postmortem, and nothing passed the draft rule (or the URL names no postmortem)"),
        );
        responses.insert("400".into(), error_response("The body is not valid JSON"));
        responses.insert(
            "401".into(),
            error_response(if h.signed {
                "X-Hub-Signature-256 is missing or does not match the body and the hook's secret"
            } else {
                "The bearer secret is missing or not the hook's"
            }),
        );
        responses.insert(
            "404".into(),
            error_response("The hook is disabled: it has no secret"),
        );
        responses.insert("413".into(), error_response("The body is too large"));
        responses.insert(
            "422".into(),
            error_response("The payload is not this format (a wrong version, a missing field); `field` names it"),
        );
        let media = if h.source == "generic" {
            json!({ "application/x-ndjson": { "schema": { "type": "string", "description": h.payload } } })
        } else {
            json!({ "application/json": { "schema": { "type": "object", "description": h.payload } } })
        };
        let security = if h.signed {
            json!([{ "githubSignature": [] }])
        } else {
            json!([{ "hookSecret": [] }])
        };
        let mut item = Map::new();
        item.insert(
            "post".into(),
            json!({
                "operationId": h.id,
                "summary": h.summary,
                "tags": ["hooks"],
                "parameters": params,
                "requestBody": { "required": true, "content": media },
                "responses": responses,
                "security": security,
            }),
        );
        paths.insert(path, Value::Object(item));
    }
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": r("Error") } } })
}

fn build() -> Value {
    let mut paths = Map::new();
    for o in ops() {
        let mut params: Vec<Value> = Vec::new();
        for segment in o.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
            }
        }
        for (name, description) in o.query {
            params.push(json!({ "name": name, "in": "query", "required": *name == "q", "description": description, "schema": { "type": "string" } }));
        }
        if o.versioned {
            params.push(json!({ "name": "If-Match", "in": "header", "required": true, "description": "The version you edit, as its ETag (\"3\").", "schema": { "type": "string" } }));
        }
        let mut responses = Map::new();
        let ok = match &o.ok.1 {
            Some(schema) => {
                json!({ "description": "OK", "content": { "application/json": { "schema": schema } } })
            }
            None => json!({ "description": "OK" }),
        };
        responses.insert(o.ok.0.to_owned(), ok);
        responses.insert(
            "401".into(),
            error_response("Not signed in, or the token is unknown, revoked or expired"),
        );
        responses.insert(
            "403".into(),
            error_response("Your role or the token's scope does not allow this"),
        );
        if o.path.contains('{') {
            responses.insert(
                "404".into(),
                error_response("Not found (or not visible to you)"),
            );
        }
        if o.body.is_some() {
            responses.insert("400".into(), error_response("The body is not valid JSON"));
            responses.insert("413".into(), error_response("The body is too large"));
            responses.insert(
                "422".into(),
                error_response("A field is invalid; `field` names it"),
            );
        }
        if o.versioned {
            responses.insert(
                "409".into(),
                error_response(
                    "Someone else changed it first; `current` holds the record as it is now",
                ),
            );
            responses.insert("428".into(), error_response("If-Match is missing"));
        }
        let mut operation = json!({
            "operationId": o.id,
            "summary": o.summary,
            "tags": [o.tag],
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = o.body {
            operation["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": body } } });
        }
        if o.path == "/api/v1/openapi.json" {
            operation["security"] = json!([]);
        }
        let item = paths
            .entry(o.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        item[o.method] = operation;
    }
    hook_paths(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Debrief API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Blameless postmortems: capture, review, act, publish, follow through. Updates carry the version they edit in If-Match; a stale one gets 409 with the current record."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API token (`dbf_…`), made with `debrief token create` or on your tokens page." },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "The web app's session; requests that change anything must also send X-CSRF-Token." },
                "hookSecret": { "type": "http", "scheme": "bearer", "description": "A webhook's own secret (`debrief serve --hook-secret SOURCE=SECRET`), not an API token." },
                "githubSignature": { "type": "apiKey", "in": "header", "name": "X-Hub-Signature-256", "description": "sha256=<hex HMAC-SHA256 of the body keyed with the github hook's secret>, as GitHub sends it." }
            },
            "schemas": schemas()
        }
    })
}

/// Every (method, path) of the API router (`api::routes`) the document describes, for the router
/// check. The webhooks are listed by [`documented_hooks`].
pub fn documented() -> Vec<(String, String)> {
    ops()
        .into_iter()
        .map(|o| (o.method.to_uppercase(), o.path.to_owned()))
        .collect()
}

/// Every (method, path) of the webhooks (`hooks::routes`) the document describes.
pub fn documented_hooks() -> Vec<(String, String)> {
    hooks()
        .into_iter()
        .map(|h| ("POST".to_owned(), format!("/api/v1/hooks/{}", h.source)))
        .collect()
}
