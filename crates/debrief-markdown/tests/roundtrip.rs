//! Export → import round trips on arbitrary postmortems.

use debrief_core::action::SmartChecks;
use debrief_core::text::normalize_text;
use debrief_core::{
    Account, ActionDocument, ActionFields, ActionStatus, Actor, ActorKind, ContributingFactor,
    EventFields, EventKind, FactorCategory, Key, KeyMoment, KeyMoments, Label, LessonKind, Lessons,
    Line, Link, LinkKind, Meeting, Moment, Name, Outcome, ParticipantFields, PostmortemDocument,
    PostmortemFields, Precision, Priority, ProgressUpdate, Question, RemediationIdea, Role,
    Severity, Source, Status, Text, ThreeRs, Title, Url, Zone,
};
use debrief_markdown::{export, import};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use proptest::sample::select;

const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/Los_Angeles", "+05:30"];

fn zone() -> impl Strategy<Value = Zone> {
    select(ZONES.to_vec()).prop_map(|z| z.parse::<Zone>().expect("zone"))
}

/// Line fragments chosen to collide with the format: headings, tables, fences, escapes, bullets.
const FRAGMENTS: &[&str] = &[
    "## Timeline",
    "## timeline  ",
    "\\## Notes",
    "\\\\## Summary",
    "  ## Action items",
    "## Background",
    "# Heading",
    "### Event 1",
    "| a | b |",
    "|---|:--:|",
    "\\|",
    "```",
    "```rust",
    "~~~",
    "- **Knew:** x",
    "- item",
    "* star",
    "  indented",
    "    code",
    "\tTabbed",
    "`tick` ``double``",
    "<br>",
    "<BR/> \\<br>",
    "\\",
    "a \\ b",
    "**Bold:**",
    "[link](https://x.example)",
    "](",
    "\"quoted\"",
    "PM-7: keyed",
    "pm-12 :",
    "ünïcødé ✓ 🚒 日本語",
    "trailing  ",
    "(time to detect: 5m)",
    "",
    " ",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(FRAGMENTS).prop_map(str::to_owned),
        2 => "\\PC{0,24}",
        1 => "[ -~]{0,24}",
        1 => "[\t\u{0}\u{b}\u{85}\u{2028}a-c ]{0,6}",
    ]
}

/// One line: several fragments joined with spaces.
fn one_line() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 1..4)
        .prop_map(|parts| parts.join(" ").replace(['\n', '\r'], " "))
}

/// Free Markdown text in its stored form (trimmed, LF line ends, no control characters but line
/// breaks and tabs — the domain refuses the others).
fn free_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        3 => prop::collection::vec(prop_oneof![2 => fragment(), 1 => one_line()], 1..8)
            .prop_map(|lines| {
                let text: String = lines
                    .join("\n")
                    .chars()
                    .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                    .collect();
                normalize_text(&text)
            }),
    ]
}

fn parsed<T>(s: impl Strategy<Value = String>) -> impl Strategy<Value = T>
where
    T: std::str::FromStr + std::fmt::Debug,
{
    s.prop_filter_map("valid", |v| v.parse::<T>().ok())
}

/// Like `parsed`, but an invalid value (empty, too long…) becomes `fallback` instead of a reject.
fn parsed_or<T>(
    s: impl Strategy<Value = String>,
    fallback: &'static str,
) -> impl Strategy<Value = T>
where
    T: std::str::FromStr + std::fmt::Debug,
    T::Err: std::fmt::Debug,
{
    s.prop_map(move |v| {
        v.parse::<T>()
            .unwrap_or_else(|_| fallback.parse::<T>().expect("fallback"))
    })
}

fn line() -> impl Strategy<Value = Line> {
    parsed_or(one_line(), "a line")
}

fn name() -> impl Strategy<Value = Name> {
    parsed_or(
        one_line().prop_map(|s| s.chars().take(100).collect::<String>()),
        "Ana",
    )
}

fn title() -> impl Strategy<Value = Title> {
    parsed_or(
        one_line().prop_map(|s| s.chars().take(150).collect::<String>()),
        "A title",
    )
}

fn text() -> impl Strategy<Value = Text> {
    parsed_or(free_text(), "Something happened")
}

fn label() -> impl Strategy<Value = Label> {
    parsed("[a-z0-9][a-z0-9._/:-]{0,10}")
}

fn url() -> impl Strategy<Value = Url> {
    parsed("https?://[a-z0-9.-]{1,12}(/[!-~]{0,16})?")
}

fn date() -> impl Strategy<Value = Date> {
    (0i32..20_000).prop_map(|d| {
        Date::constant(2000, 1, 1)
            .checked_add(d.days())
            .expect("date")
    })
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        946_684_800i64..2_208_988_800,
        prop_oneof![Just(0i32), 0i32..1_000_000_000],
    )
        .prop_map(|(s, n)| Timestamp::new(s, n).expect("timestamp"))
}

fn precision() -> impl Strategy<Value = Precision> {
    select(Precision::ALL.to_vec())
}

fn moment(zone: impl Strategy<Value = Zone>) -> impl Strategy<Value = Moment> {
    (timestamp(), zone, precision()).prop_map(|(at, z, p)| Moment::new(at, z, p).expect("moment"))
}

fn enum_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    select(all)
}

fn link() -> impl Strategy<Value = Link> {
    (enum_of(LinkKind::ALL), url(), prop::option::of(line())).prop_map(|(kind, url, title)| Link {
        kind,
        url,
        title,
    })
}

fn event(z: BoxedStrategy<Zone>) -> impl Strategy<Value = EventFields> {
    let head = (
        moment(z),
        enum_of(EventKind::ALL),
        prop::option::of(enum_of(KeyMoment::ALL)),
        prop::option::of(
            (enum_of(ActorKind::ALL), name()).prop_map(|(kind, name)| Actor { kind, name }),
        ),
        text(),
        parsed::<Source>("[a-z0-9_.-]{1,10}"),
        prop::option::of("[^\n\r]{1,20}"),
    );
    let tail = (
        prop::option::of(name()),
        (free_text(), free_text(), free_text()),
        prop::option::of(enum_of(Outcome::ALL)),
        free_text(),
        prop::collection::vec(link(), 0..3),
        any::<bool>(),
        any::<bool>(),
    );
    (head, tail).prop_map(
        |(
            (happened_at, kind, milestone, actor, description, source, source_id),
            (account_of, (knew, expected, assumed), outcome, differently, links, hidden, pinned),
        )| EventFields {
            happened_at,
            kind,
            milestone: if kind == EventKind::Milestone {
                milestone
            } else {
                None
            },
            actor,
            description,
            source,
            source_id,
            account_of,
            account: Account {
                knew,
                expected,
                assumed,
            },
            outcome,
            differently,
            links,
            hidden,
            pinned,
        },
    )
}

fn action() -> impl Strategy<Value = ActionDocument> {
    let status = prop_oneof![
        Just(ActionStatus::Open),
        Just(ActionStatus::InProgress),
        Just(ActionStatus::Done),
        line().prop_map(|reason| ActionStatus::Declined { reason }),
    ];
    let head = (
        title(),
        free_text(),
        enum_of(Question::ALL),
        name(),
        date(),
        prop::option::of(0i32..400),
        enum_of(Priority::ALL),
        status,
    );
    let tail = (
        any::<bool>(),
        prop::option::of(line()),
        prop::option::of(url()),
        (any::<bool>(), free_text(), any::<bool>(), any::<bool>()),
        prop::collection::vec(
            (timestamp(), name(), line(), prop::option::of(date())).prop_map(
                |(at, author, note, new_check_in)| ProgressUpdate {
                    at,
                    author,
                    note,
                    new_check_in,
                },
            ),
            0..3,
        ),
    );
    (head, tail).prop_map(
        |(
            (title, description, category, owner, check_in, due_after, priority, status),
            (
                volunteer,
                estimated_cost,
                tracker,
                (specific, success_criterion, agreed_by_owner, realistic),
                progress,
            ),
        )| ActionDocument {
            fields: ActionFields {
                title,
                description,
                category,
                owner,
                check_in,
                due: due_after.map(|d| check_in.checked_add(d.days()).expect("due")),
                priority,
                status,
                volunteer,
                estimated_cost,
                tracker,
                smart: SmartChecks {
                    specific,
                    success_criterion,
                    agreed_by_owner,
                    realistic,
                },
            },
            progress,
        },
    )
}

fn participant() -> impl Strategy<Value = ParticipantFields> {
    (
        name(),
        prop::option::of(line()),
        enum_of(Role::ALL),
        any::<bool>(),
        any::<bool>(),
        free_text(),
    )
        .prop_map(|(name, contact, role, invited, attended, circumstances)| {
            ParticipantFields {
                name,
                contact,
                role,
                invited,
                attended,
                circumstances,
            }
        })
}

fn key_moments(z: BoxedStrategy<Zone>) -> impl Strategy<Value = KeyMoments> {
    let m = || prop::option::of(moment(z.clone()));
    (m(), m(), m(), m(), m()).prop_map(|(started, detected, acknowledged, mitigated, resolved)| {
        KeyMoments {
            started,
            detected,
            acknowledged,
            mitigated,
            resolved,
        }
    })
}

fn lessons() -> impl Strategy<Value = Lessons> {
    let l = || prop::collection::vec(line(), 0..3);
    (l(), l(), l(), l(), l()).prop_map(|(a, b, c, d, e)| {
        let mut lessons = Lessons::default();
        for (kind, items) in LessonKind::ALL.iter().zip([a, b, c, d, e]) {
            *lessons.of_mut(*kind) = items;
        }
        lessons
    })
}

/// A document whose moments are in zones drawn from `z`.
fn document(z: BoxedStrategy<Zone>) -> impl Strategy<Value = PostmortemDocument> {
    let head = (
        prop::option::of((1u32..100_000).prop_map(|n| Key::new(n).expect("key"))),
        enum_of(Status::ALL),
        title(),
        free_text(),
        free_text(),
        (1u8..=4).prop_map(|n| format!("SEV{n}").parse::<Severity>().expect("severity")),
        prop::collection::vec(label(), 0..3),
        prop::collection::vec(label(), 0..3),
        key_moments(z.clone()),
        (free_text(), free_text(), free_text()),
        prop::option::of(line()),
    );
    let body = (
        prop::collection::vec(
            (
                "[a-z0-9_]{1,12}".prop_filter_map("category", |c| FactorCategory::try_from(c).ok()),
                line(),
            )
                .prop_map(|(category, text)| ContributingFactor { category, text }),
            0..3,
        ),
        lessons(),
        prop::collection::vec(
            (enum_of(Question::ALL), line())
                .prop_map(|(question, text)| RemediationIdea { question, text }),
            0..4,
        ),
        prop::collection::vec(link(), 0..3),
        free_text(),
        (
            prop::option::of(moment(z.clone())),
            prop::option::of(line()),
            prop::option::of(name()),
            free_text(),
        )
            .prop_map(|(scheduled_at, location, facilitator, notes)| Meeting {
                scheduled_at,
                location,
                facilitator,
                notes,
            }),
    );
    let lists = (
        prop::collection::vec(event(z), 0..4),
        prop::collection::vec(action(), 0..3),
        prop::collection::vec(participant(), 0..3),
    );
    (head, body, lists).prop_map(
        |(
            (
                key,
                status,
                title,
                summary,
                impact,
                severity,
                services,
                tags,
                key_moments,
                (regret, reason, remedy),
                incident_cost,
            ),
            (factors, lessons, ideas, links, notes, meeting),
            (events, actions, participants),
        )| PostmortemDocument {
            key,
            status,
            fields: PostmortemFields {
                title,
                summary,
                impact,
                severity,
                services,
                tags,
                key_moments,
                customer_statement: ThreeRs {
                    regret,
                    reason,
                    remedy,
                },
                incident_cost,
                factors,
                lessons,
                ideas,
                links,
                notes,
                meeting,
            },
            events,
            actions,
            participants,
        },
    )
}

/// What an export in `z` brings back for `m`: a day unchanged, a minute or a second as the same
/// instant in `z`. Spelled out here rather than with `Moment::in_zone`, so that this is what is
/// tested.
fn as_exported(m: &Moment, z: &Zone) -> Moment {
    match m.precision() {
        Precision::Day => m.clone(),
        p => Moment::new(m.at(), z.clone(), p).expect("moment in the export zone"),
    }
}

/// A zone and a document whose moments are all in it.
fn same_zone_document() -> impl Strategy<Value = (Zone, PostmortemDocument)> {
    zone().prop_flat_map(|z| (Just(z.clone()), document(Just(z).boxed())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn export_then_import_is_identity((z, doc) in same_zone_document()) {
        let md = export(&doc, &z);
        let back = import(&md).map_err(|e| TestCaseError::fail(format!("{e}\n{md}")))?;
        prop_assert_eq!(&back, &doc, "{}", md);
        prop_assert_eq!(export(&back, &z), md);
    }

    #[test]
    fn export_in_any_zone_is_stable(doc in document(zone().boxed()), z in zone()) {
        let md = export(&doc, &z);
        let back = import(&md).map_err(|e| TestCaseError::fail(format!("{e}\n{md}")))?;
        prop_assert_eq!(&export(&back, &z), &md);
        // A day comes back as it was (same instant, zone and precision: its date never moves with
        // the export zone); a minute or a second comes back as it reads in the export zone.
        for (a, b) in doc.events.iter().zip(&back.events) {
            prop_assert_eq!(&b.happened_at, &as_exported(&a.happened_at, &z), "{}", md);
        }
        for k in KeyMoment::ALL {
            let a = doc.fields.key_moments.get(*k).map(|m| as_exported(m, &z));
            prop_assert_eq!(back.fields.key_moments.get(*k), a.as_ref(), "{}", md);
        }
        let a = doc.fields.meeting.scheduled_at.as_ref().map(|m| as_exported(m, &z));
        prop_assert_eq!(back.fields.meeting.scheduled_at.as_ref(), a.as_ref(), "{}", md);
        for (a, b) in doc.actions.iter().zip(&back.actions) {
            prop_assert_eq!(&a.progress, &b.progress);
        }
    }

    #[test]
    fn import_never_panics(s in "(\\PC|\n){0,400}") {
        let _ = import(&s);
    }

    /// Hand edits gone wrong: an exported file with a piece cut out and something pasted in.
    #[test]
    fn import_never_panics_on_edited_exports(
        (z, doc) in same_zone_document(),
        cut in any::<prop::sample::Index>(),
        len in 0usize..40,
        paste in prop_oneof![fragment(), Just("\n".to_owned()), Just("|".to_owned())],
    ) {
        let md = export(&doc, &z);
        let chars: Vec<char> = md.chars().collect();
        let start = cut.index(chars.len() + 1);
        let end = (start + len).min(chars.len());
        let edited: String = chars[..start].iter().chain(paste.chars().collect::<Vec<_>>().iter()).chain(chars[end..].iter()).collect();
        let _ = import(&edited);
    }
}
