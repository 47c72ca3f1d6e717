//! Writing a postmortem as Markdown.

use debrief_core::action::SmartChecks;
use debrief_core::postmortem::human_duration;
use debrief_core::{
    ActionDocument, ActionStatus, EventFields, KeyMoment, KeyMoments, LessonKind, Link, Moment,
    ParticipantFields, PostmortemDocument, Zone,
};
use jiff::Timestamp;

use crate::syntax::{self, Section};

/// Column headers as export writes them (import also accepts other orders and a few aliases).
pub(crate) const TIMELINE_COLUMNS: [&str; 7] = [
    "#",
    "Time",
    "Kind",
    "Actor",
    "Description",
    "Outcome",
    "Source",
];
pub(crate) const ACTION_COLUMNS: [&str; 8] = [
    "#", "Title", "Owner", "Check-in", "Due", "Priority", "Status", "Category",
];
pub(crate) const PARTICIPANT_COLUMNS: [&str; 6] =
    ["#", "Name", "Role", "Invited", "Attended", "Contact"];
pub(crate) const PROGRESS_COLUMNS: [&str; 4] = ["Progress at", "By", "Note", "New check-in"];

/// Writes `doc` as a readable Markdown postmortem, with every time shown in `zone`.
///
/// [`crate::import`] reads the result back into the same document (times known to the minute or
/// the second come back in `zone`; days come back unchanged, in their own zone).
pub fn export(doc: &PostmortemDocument, zone: &Zone) -> String {
    let mut w = Writer {
        out: String::new(),
        zone,
    };
    w.header(doc);
    w.free_section(Section::Summary, &doc.fields.summary);
    w.free_section(Section::Impact, &doc.fields.impact);
    w.key_moments(&doc.fields.key_moments);
    w.customer_statement(doc);
    w.factors(doc);
    w.lessons(doc);
    w.ideas(doc);
    w.timeline(&doc.events);
    w.actions(&doc.actions);
    w.participants(&doc.participants);
    w.links(&doc.fields.links);
    w.meeting(doc);
    w.free_section(Section::Notes, &doc.fields.notes);
    w.out
}

struct Writer<'a> {
    out: String,
    zone: &'a Zone,
}

/// `- **Label:** value` for a one-line value.
fn field(out: &mut String, label: &str, value: &str) {
    out.push_str("- **");
    out.push_str(label);
    out.push_str(":** ");
    out.push_str(value);
    out.push('\n');
}

/// `- **Label:** text` for free text: one line inline, several lines indented below the label.
/// Empty text writes nothing.
fn field_text(out: &mut String, label: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    if !text.contains('\n') {
        field(out, label, text);
        return;
    }
    out.push_str("- **");
    out.push_str(label);
    out.push_str(":**\n");
    for line in text.split('\n') {
        if !line.is_empty() {
            out.push_str("  ");
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    out.push_str(&syntax::row(&header));
    out.push('\n');
    out.push('|');
    for h in &header {
        out.push_str(if h == "#" { "--:|" } else { "---|" });
    }
    out.push('\n');
    for r in rows {
        out.push_str(&syntax::row(r));
        out.push('\n');
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn opt<T: ToString>(value: Option<&T>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

impl Writer<'_> {
    /// A blank line before the next block, unless there is one already.
    fn gap(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn heading(&mut self, level: usize, text: &str) {
        self.gap();
        self.out.push_str(&"#".repeat(level));
        self.out.push(' ');
        self.out.push_str(text);
        self.out.push('\n');
        self.out.push('\n');
    }

    fn section(&mut self, section: Section) {
        self.heading(2, section.title());
    }

    /// A sub-section with the given body, written only when the body is not empty.
    fn sub(&mut self, title: &str, body: &str) {
        if body.is_empty() {
            return;
        }
        self.heading(3, title);
        self.out.push_str(body);
    }

    /// The moment as shown in the export zone: minutes and seconds converted to it, a day kept
    /// in its own zone (see [`Moment::in_zone`]).
    fn in_zone(&self, m: &Moment) -> Moment {
        m.in_zone(self.zone).unwrap_or_else(|_| m.clone())
    }

    /// The moment as written: in the export zone, or for a day in another zone, its own date with
    /// its zone in brackets (`2024-05-01[Europe/Berlin]`), so that import gives the same day back.
    fn moment(&self, m: &Moment) -> String {
        m.display_in(self.zone)
    }

    fn stamp(&self, at: Timestamp) -> String {
        Moment::exact(at, self.zone.clone()).display_local()
    }

    fn header(&mut self, doc: &PostmortemDocument) {
        let title = doc.fields.title.as_str();
        let heading = match doc.key {
            Some(key) => format!("{key}: {title}"),
            // A title that reads like "PM-7: …" gets a backslash so it is not taken for a key.
            None if syntax::looks_keyed(title) => format!("\\{title}"),
            None => title.to_owned(),
        };
        self.heading(1, &heading);
        let f = &doc.fields;
        let out = &mut self.out;
        field(out, "Status", doc.status.as_str());
        field(out, "Severity", &f.severity.to_string());
        if !f.services.is_empty() {
            let list: Vec<&str> = f.services.iter().map(|s| s.as_str()).collect();
            field(out, "Services", &list.join(", "));
        }
        if !f.tags.is_empty() {
            let list: Vec<&str> = f.tags.iter().map(|s| s.as_str()).collect();
            field(out, "Tags", &list.join(", "));
        }
        if let Some(cost) = &f.incident_cost {
            field(out, "Incident cost", cost.as_str());
        }
        field(out, "Times in", self.zone.name());
    }

    fn free_section(&mut self, section: Section, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.section(section);
        self.out.push_str(&syntax::escape_free_text(text));
        self.out.push('\n');
    }

    fn key_moments(&mut self, km: &KeyMoments) {
        let mut shown = KeyMoments::default();
        for k in KeyMoment::ALL {
            shown.set(*k, km.get(*k).map(|m| self.in_zone(m)));
        }
        if KeyMoment::ALL.iter().all(|k| shown.get(*k).is_none()) {
            return;
        }
        // Derived from the moments as shown, so that a re-export shows the same durations.
        let d = shown.durations();
        self.section(Section::KeyMoments);
        for k in KeyMoment::ALL {
            let Some(m) = shown.get(*k) else { continue };
            let derived = match k {
                KeyMoment::Started => None,
                KeyMoment::Detected => d.time_to_detect.map(|x| ("time to detect", x)),
                KeyMoment::Acknowledged => {
                    d.time_to_acknowledge.map(|x| ("time to acknowledge", x))
                }
                KeyMoment::Mitigated => d.time_to_mitigate.map(|x| ("time to mitigate", x)),
                KeyMoment::Resolved => d.time_to_resolve.map(|x| ("time to resolve", x)),
            };
            let mut value = self.moment(m);
            if let Some((what, duration)) = derived {
                value.push_str(&format!(" ({what}: {})", human_duration(duration)));
            }
            field(&mut self.out, &capitalized(k.as_str()), &value);
        }
    }

    fn customer_statement(&mut self, doc: &PostmortemDocument) {
        let s = &doc.fields.customer_statement;
        if s.is_empty() {
            return;
        }
        self.section(Section::CustomerStatement);
        field_text(&mut self.out, "Regret", &s.regret);
        field_text(&mut self.out, "Reason", &s.reason);
        field_text(&mut self.out, "Remedy", &s.remedy);
    }

    fn factors(&mut self, doc: &PostmortemDocument) {
        if doc.fields.factors.is_empty() {
            return;
        }
        self.section(Section::Factors);
        for f in &doc.fields.factors {
            field(&mut self.out, f.category.as_str(), f.text.as_str());
        }
    }

    fn lessons(&mut self, doc: &PostmortemDocument) {
        let lessons = &doc.fields.lessons;
        if lessons.is_empty() {
            return;
        }
        self.section(Section::Lessons);
        for kind in LessonKind::ALL {
            let items = lessons.of(*kind);
            if items.is_empty() {
                continue;
            }
            self.heading(3, kind.prompt());
            for item in items {
                self.out.push_str("- ");
                self.out.push_str(item.as_str());
                self.out.push('\n');
            }
        }
    }

    fn ideas(&mut self, doc: &PostmortemDocument) {
        let ideas = &doc.fields.ideas;
        if ideas.is_empty() {
            return;
        }
        self.section(Section::Ideas);
        // One heading per run of ideas under the same question, so the order is kept exactly
        // (ideas kept in question order get one heading per question).
        let mut current = None;
        for idea in ideas {
            if current != Some(idea.question) {
                current = Some(idea.question);
                self.heading(3, idea.question.prompt());
            }
            self.out.push_str("- ");
            self.out.push_str(idea.text.as_str());
            self.out.push('\n');
        }
    }

    fn timeline(&mut self, events: &[EventFields]) {
        if events.is_empty() {
            return;
        }
        self.section(Section::Timeline);
        let rows: Vec<Vec<String>> = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let kind = match e.milestone {
                    Some(m) => format!("{} ({m})", e.kind),
                    None => e.kind.to_string(),
                };
                vec![
                    (i + 1).to_string(),
                    self.moment(&e.happened_at),
                    kind,
                    e.actor.as_ref().map(actor_text).unwrap_or_default(),
                    e.description.to_string(),
                    opt(e.outcome.as_ref()),
                    e.source.to_string(),
                ]
            })
            .collect();
        table(&mut self.out, &TIMELINE_COLUMNS, &rows);
        for (i, e) in events.iter().enumerate() {
            let body = event_details(e);
            self.sub(&format!("Event {}", i + 1), &body);
        }
    }

    fn actions(&mut self, actions: &[ActionDocument]) {
        if actions.is_empty() {
            return;
        }
        self.section(Section::Actions);
        let rows: Vec<Vec<String>> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let f = &a.fields;
                vec![
                    (i + 1).to_string(),
                    f.title.to_string(),
                    f.owner.to_string(),
                    f.check_in.to_string(),
                    opt(f.due.as_ref()),
                    f.priority.to_string(),
                    f.status.name().to_owned(),
                    f.category.to_string(),
                ]
            })
            .collect();
        table(&mut self.out, &ACTION_COLUMNS, &rows);
        for (i, a) in actions.iter().enumerate() {
            let body = self.action_details(a);
            self.sub(&format!("Action {}", i + 1), &body);
        }
    }

    fn action_details(&self, a: &ActionDocument) -> String {
        let f = &a.fields;
        let mut out = String::new();
        field_text(&mut out, "Description", &f.description);
        if let ActionStatus::Declined { reason } = &f.status {
            field(&mut out, "Declined because", reason.as_str());
        }
        let met = smart_met(&f.smart);
        if !met.is_empty() {
            field(&mut out, "SMART checks met", &met.join(", "));
        }
        field_text(&mut out, "Success criterion", &f.smart.success_criterion);
        if let Some(cost) = &f.estimated_cost {
            field(&mut out, "Estimated cost", cost.as_str());
        }
        if let Some(tracker) = &f.tracker {
            field(&mut out, "Tracker", tracker.as_str());
        }
        if f.volunteer {
            field(&mut out, "Volunteer", "yes");
        }
        if !a.progress.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            let rows: Vec<Vec<String>> = a
                .progress
                .iter()
                .map(|p| {
                    vec![
                        self.stamp(p.at),
                        p.author.to_string(),
                        p.note.to_string(),
                        opt(p.new_check_in.as_ref()),
                    ]
                })
                .collect();
            table(&mut out, &PROGRESS_COLUMNS, &rows);
        }
        out
    }

    fn participants(&mut self, participants: &[ParticipantFields]) {
        if participants.is_empty() {
            return;
        }
        self.section(Section::Participants);
        let rows: Vec<Vec<String>> = participants
            .iter()
            .enumerate()
            .map(|(i, p)| {
                vec![
                    (i + 1).to_string(),
                    p.name.to_string(),
                    p.role.to_string(),
                    syntax::yes_no(p.invited),
                    syntax::yes_no(p.attended),
                    opt(p.contact.as_ref()),
                ]
            })
            .collect();
        table(&mut self.out, &PARTICIPANT_COLUMNS, &rows);
        for (i, p) in participants.iter().enumerate() {
            let mut body = String::new();
            field_text(&mut body, "Circumstances", &p.circumstances);
            self.sub(&format!("Participant {}", i + 1), &body);
        }
    }

    fn links(&mut self, links: &[Link]) {
        if links.is_empty() {
            return;
        }
        self.section(Section::Links);
        for link in links {
            field(
                &mut self.out,
                link.kind.as_str(),
                &syntax::link_target(link),
            );
        }
    }

    fn meeting(&mut self, doc: &PostmortemDocument) {
        let m = &doc.fields.meeting;
        let mut body = String::new();
        if let Some(at) = &m.scheduled_at {
            field(&mut body, "Scheduled", &self.moment(at));
        }
        if let Some(location) = &m.location {
            field(&mut body, "Location", location.as_str());
        }
        if let Some(facilitator) = &m.facilitator {
            field(&mut body, "Facilitator", facilitator.as_str());
        }
        field_text(&mut body, "Notes", &m.notes);
        if body.is_empty() {
            return;
        }
        self.section(Section::Meeting);
        self.out.push_str(&body);
    }
}

/// The actor as written in the table: a bare name for a person, `kind:name` otherwise, and
/// `person:name` when a person's name would read as another kind.
fn actor_text(actor: &debrief_core::Actor) -> String {
    let plain = actor.to_string();
    if debrief_core::Actor::parse(&plain).as_ref() == Ok(actor) {
        plain
    } else {
        format!("{}:{}", actor.kind, actor.name)
    }
}

fn smart_met(s: &SmartChecks) -> Vec<&'static str> {
    let mut met = Vec::new();
    if s.specific {
        met.push("specific");
    }
    if s.agreed_by_owner {
        met.push("agreed by owner");
    }
    if s.realistic {
        met.push("realistic");
    }
    met
}

fn event_details(e: &EventFields) -> String {
    let mut out = String::new();
    if let Some(name) = &e.account_of {
        field(&mut out, "Account of", name.as_str());
    }
    field_text(&mut out, "Knew", &e.account.knew);
    field_text(&mut out, "Expected", &e.account.expected);
    field_text(&mut out, "Assumed", &e.account.assumed);
    field_text(&mut out, "Could do differently", &e.differently);
    for link in &e.links {
        field(
            &mut out,
            "Link",
            &format!("{}: {}", link.kind, syntax::link_target(link)),
        );
    }
    if let Some(id) = &e.source_id {
        field(&mut out, "Source id", &syntax::quote_if_needed(id));
    }
    if e.hidden {
        field(&mut out, "Hidden", "yes");
    }
    if e.pinned {
        field(&mut out, "Pinned", "yes");
    }
    out
}
