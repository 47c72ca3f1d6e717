//! Reading a Markdown postmortem: the exact inverse of [`crate::export`], and forgiving of the
//! things people change by hand (whitespace, heading case, section order, table alignment rows,
//! column order, empty template fields).

use std::collections::BTreeMap;

use debrief_core::action::SmartChecks;
use debrief_core::text::normalize_text;
use debrief_core::time::parse_date;
use debrief_core::{
    Account, ActionDocument, ActionFields, ActionStatus, Actor, ContributingFactor, EventFields,
    EventKind, FactorCategory, Key, KeyMoment, Label, LessonKind, Line, Link, LinkKind, Moment,
    Name, Outcome, ParseError, ParticipantFields, PostmortemDocument, PostmortemFields, Priority,
    ProgressUpdate, Question, RemediationIdea, Role, Severity, Source, Status, Text, Title, Url,
    Zone,
};
use jiff::civil::Date;

use crate::ImportError;
use crate::syntax::{self, Section};

type Result<T> = std::result::Result<T, ImportError>;

fn err(line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        message: message.into(),
    }
}

/// A core parse error at a line, under a context such as `action item 2`.
fn at(line: usize, context: &str, e: ParseError) -> ImportError {
    if context.is_empty() {
        err(line, e.to_string())
    } else {
        err(line, format!("{context}: {e}"))
    }
}

const NOT_A_POSTMORTEM: &str =
    "not a Debrief postmortem: expected a first heading \"# PM-<n>: <title>\" or \"# <title>\"";

/// Reads a Markdown postmortem.
///
/// Errors name the 1-based line and what was expected there.
pub fn import(text: &str) -> Result<PostmortemDocument> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, *l)).collect();
    Parser::default().parse(&numbered)
}

/// The index of the first line that is neither blank nor inside an HTML comment (files kept in
/// git often start with a licence or provenance comment).
fn first_content_line(lines: &[(usize, &str)]) -> Option<usize> {
    let mut in_comment = false;
    for (i, (_, line)) in lines.iter().enumerate() {
        let t = line.trim();
        if in_comment || t.starts_with("<!--") {
            in_comment = !t.contains("-->");
        } else if !t.is_empty() {
            return Some(i);
        }
    }
    None
}

#[derive(Default)]
struct Parser {
    zone: Option<Zone>,
}

impl Parser {
    fn zone(&self) -> Zone {
        self.zone.clone().unwrap_or_else(Zone::utc)
    }

    fn parse(mut self, lines: &[(usize, &str)]) -> Result<PostmortemDocument> {
        let Some(first) = first_content_line(lines) else {
            return Err(err(1, NOT_A_POSTMORTEM));
        };
        let (title_line, title_text) = lines.get(first).copied().unwrap_or((1, ""));
        let Some((1, heading)) = syntax::heading(title_text) else {
            return Err(err(title_line, NOT_A_POSTMORTEM));
        };
        let (key, title) = parse_title(title_line, heading)?;

        let rest = lines.get(first + 1..).unwrap_or(&[]);
        let first_section = rest
            .iter()
            .position(|(_, l)| matches!(syntax::heading(l), Some((2, _))))
            .unwrap_or(rest.len());
        let (meta_lines, mut rest) = rest.split_at(first_section);
        let meta = self.metadata(title_line, meta_lines)?;

        let mut doc = PostmortemDocument {
            key,
            status: meta.status,
            fields: PostmortemFields::new(title, meta.severity),
            events: Vec::new(),
            actions: Vec::new(),
            participants: Vec::new(),
        };
        doc.fields.services = meta.services;
        doc.fields.tags = meta.tags;
        doc.fields.incident_cost = meta.incident_cost;

        let mut seen: Vec<(Section, usize)> = Vec::new();
        while let Some(((line, text), body_and_more)) = rest.split_first() {
            let name = match syntax::heading(text) {
                Some((2, name)) => name,
                _ => return Err(err(*line, "expected a ## section heading")),
            };
            let section = Section::named(name).ok_or_else(|| {
                err(
                    *line,
                    format!(
                        "unknown section {name:?}: expected one of {}",
                        Section::all_titles()
                    ),
                )
            })?;
            if let Some((_, first_at)) = seen.iter().find(|(s, _)| *s == section) {
                return Err(err(
                    *line,
                    format!(
                        "section \"{}\" appears twice (first at line {first_at})",
                        section.title()
                    ),
                ));
            }
            seen.push((section, *line));
            let end = body_and_more
                .iter()
                .position(|(_, l)| {
                    if section.is_free_text() {
                        syntax::section_heading(l).is_some()
                    } else {
                        matches!(syntax::heading(l), Some((2, _)))
                    }
                })
                .unwrap_or(body_and_more.len());
            let (body, after) = body_and_more.split_at(end);
            self.section(section, *line, body, &mut doc)?;
            rest = after;
        }
        Ok(doc)
    }

    fn metadata(&mut self, title_line: usize, lines: &[(usize, &str)]) -> Result<Meta> {
        let mut status = None;
        let mut severity = None;
        let mut services = Vec::new();
        let mut tags = Vec::new();
        let mut incident_cost = None;
        let mut seen = Fields::new("the metadata list");
        for block in blocks(lines, "the metadata list")? {
            let b = match block {
                Block::Bullet(b) => b,
                Block::Table(t) => {
                    return Err(err(t.line, "unexpected table in the metadata list"));
                }
                Block::Sub { line, .. } => {
                    return Err(err(
                        line,
                        "unexpected ### heading in the metadata list: sections start with ##",
                    ));
                }
            };
            let (label, value) = b.field("the metadata list")?;
            let value = b.line_value(value);
            match seen.take(
                b.line,
                &label,
                &[
                    "status",
                    "severity",
                    "services",
                    "tags",
                    "incident cost",
                    "times in",
                ],
            )? {
                "status" => {
                    status = Some(
                        value
                            .parse::<Status>()
                            .map_err(|e| at(b.line, "", e.within("status")))?,
                    );
                }
                "severity" => {
                    severity = Some(value.parse::<Severity>().map_err(|e| at(b.line, "", e))?);
                }
                "services" => services = labels(b.line, "services", &value)?,
                "tags" => tags = labels(b.line, "tags", &value)?,
                "incident cost" => {
                    incident_cost = optional::<Line>(b.line, "incident cost", &value)?
                }
                _ => {
                    self.zone = Some(
                        value
                            .parse::<Zone>()
                            .map_err(|e| at(b.line, "", e.within("times in")))?,
                    );
                }
            }
        }
        let severity = severity.ok_or_else(|| {
            err(
                title_line,
                "the metadata list after the title needs a severity: \"- **Severity:** SEV<n>\"",
            )
        })?;
        Ok(Meta {
            status: status.unwrap_or(Status::Draft),
            severity,
            services,
            tags,
            incident_cost,
        })
    }

    fn section(
        &self,
        section: Section,
        heading_line: usize,
        body: &[(usize, &str)],
        doc: &mut PostmortemDocument,
    ) -> Result<()> {
        if section.is_free_text() {
            let lines: Vec<String> = body
                .iter()
                .map(|(_, l)| syntax::unescape_free_line(l))
                .collect();
            let text = normalize_text(&lines.join("\n"));
            match section {
                Section::Summary => doc.fields.summary = text,
                Section::Impact => doc.fields.impact = text,
                _ => doc.fields.notes = text,
            }
            return Ok(());
        }
        let what = format!("section \"{}\"", section.title());
        let blocks = blocks(body, &what)?;
        match section {
            Section::KeyMoments => self.key_moments(&blocks, doc),
            Section::CustomerStatement => customer_statement(&blocks, doc),
            Section::Factors => factors(&blocks, doc),
            Section::Lessons => lessons(&blocks, doc),
            Section::Ideas => ideas(&blocks, doc),
            Section::Timeline => self.timeline(heading_line, &blocks, doc),
            Section::Actions => self.actions(heading_line, &blocks, doc),
            Section::Participants => participants(heading_line, &blocks, doc),
            Section::Links => links(&blocks, doc),
            Section::Meeting => self.meeting(&blocks, doc),
            Section::Summary | Section::Impact | Section::Notes => Ok(()),
        }
    }

    fn moment(&self, line: usize, context: &str, field: &str, value: &str) -> Result<Moment> {
        Moment::parse(value, &self.zone()).map_err(|e| at(line, context, e.within(field)))
    }

    fn key_moments(&self, blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
        let mut seen = Fields::new("key moments");
        for b in only_bullets(blocks, "key moments")? {
            let (label, value) = b.field("key moments")?;
            let name = seen.take(
                b.line,
                &label,
                &[
                    "started",
                    "detected",
                    "acknowledged",
                    "mitigated",
                    "resolved",
                ],
            )?;
            let which = name.parse::<KeyMoment>().map_err(|e| at(b.line, "", e))?;
            // The derived duration in parentheses is shown for people and ignored here.
            let value = b.line_value(value);
            let value = value.split('(').next().unwrap_or("").trim();
            let moment = if value.is_empty() {
                None
            } else {
                Some(self.moment(b.line, "key moments", name, value)?)
            };
            doc.fields.key_moments.set(which, moment);
        }
        Ok(())
    }

    fn timeline(
        &self,
        heading_line: usize,
        blocks: &[Block<'_>],
        doc: &mut PostmortemDocument,
    ) -> Result<()> {
        let split = split_details(blocks, "timeline", "event", false)?;
        let Some(table) = split.table else {
            if let Some((line, _)) = split.details.first() {
                return Err(err(
                    *line,
                    "timeline: details come after the timeline table, which is missing",
                ));
            }
            return Err(err(
                heading_line,
                "timeline: expected a table | # | Time | Kind | Actor | Description | Outcome | Source |",
            ));
        };
        let cols = Columns::map(table, "timeline", &TIMELINE)?;
        let mut events: Vec<(usize, usize, EventFields)> = Vec::new();
        let numbers = cols.numbers(table, "timeline", "event")?;
        for (row, number) in table.rows.iter().zip(numbers) {
            let ctx = format!("timeline event {number}");
            let c = |key: &str| cols.cell(row, key);
            let happened_at = self.moment(row.line, &ctx, "time", c("time").unwrap_or(""))?;
            let (kind, milestone) =
                parse_kind(c("kind").unwrap_or("")).map_err(|e| at(row.line, &ctx, e))?;
            let description = c("description")
                .unwrap_or("")
                .parse::<Text>()
                .map_err(|e| at(row.line, &ctx, e.within("description")))?;
            let mut e = EventFields::new(happened_at, kind, description);
            e.milestone = milestone;
            if let Some(actor) = c("actor").filter(|a| !a.is_empty()) {
                e.actor = Some(Actor::parse(actor).map_err(|er| at(row.line, &ctx, er))?);
            }
            if let Some(outcome) = c("outcome").filter(|a| !a.is_empty()) {
                e.outcome = Some(
                    outcome
                        .parse::<Outcome>()
                        .map_err(|er| at(row.line, &ctx, er.within("outcome")))?,
                );
            }
            if let Some(source) = c("source").filter(|a| !a.is_empty()) {
                e.source = source
                    .parse::<Source>()
                    .map_err(|er| at(row.line, &ctx, er))?;
            }
            events.push((number, row.line, e));
        }
        for (number, (line, bullets)) in &split.details {
            let Some((_, _, e)) = events.iter_mut().find(|(n, _, _)| n == number) else {
                return Err(err(
                    *line,
                    format!("there is no event {number} in the timeline table"),
                ));
            };
            event_details(&format!("timeline event {number}"), bullets, e)?;
        }
        for (number, line, e) in events {
            e.validate()
                .map_err(|er| at(line, &format!("timeline event {number}"), er))?;
            doc.events.push(e);
        }
        Ok(())
    }

    fn actions(
        &self,
        heading_line: usize,
        blocks: &[Block<'_>],
        doc: &mut PostmortemDocument,
    ) -> Result<()> {
        let split = split_details(blocks, "action items", "action", true)?;
        let Some(table) = split.table else {
            if let Some((line, _)) = split.details.first() {
                return Err(err(
                    *line,
                    "action items: details come after the action items table, which is missing",
                ));
            }
            return Err(err(
                heading_line,
                "action items: expected a table | # | Title | Owner | Check-in | Due | Priority | Status | Category |",
            ));
        };
        let cols = Columns::map(table, "action items", &ACTIONS)?;
        let numbers = cols.numbers(table, "action items", "action item")?;
        let mut rows = Vec::new();
        for (row, number) in table.rows.iter().zip(numbers) {
            let ctx = format!("action item {number}");
            let c = |key: &str| cols.cell(row, key).unwrap_or("");
            let title = c("title")
                .parse::<Title>()
                .map_err(|e| at(row.line, &ctx, e.within("title")))?;
            let owner = c("owner")
                .parse::<Name>()
                .map_err(|e| at(row.line, &ctx, e.within("owner")))?;
            let check_in = parse_date(c("check-in")).map_err(|e| {
                let e = if c("check-in").is_empty() {
                    ParseError::new(
                        "",
                        "must not be empty: every action has a check-in date (YYYY-MM-DD)",
                    )
                } else {
                    e
                };
                at(row.line, &ctx, e.within("check-in"))
            })?;
            let category = c("category")
                .parse::<Question>()
                .map_err(|e| at(row.line, &ctx, e.within("category")))?;
            let mut fields = ActionFields::new(title, category, owner, check_in);
            fields.due = optional_date(row.line, &ctx, "due", c("due"))?;
            if !c("priority").is_empty() {
                fields.priority = c("priority")
                    .parse::<Priority>()
                    .map_err(|e| at(row.line, &ctx, e.within("priority")))?;
            }
            let status = if c("status").is_empty() {
                "open"
            } else {
                c("status")
            };
            rows.push((
                number,
                row.line,
                status.to_owned(),
                fields,
                None::<String>,
                Vec::new(),
            ));
        }
        for (number, (line, blocks)) in &split.details {
            let Some((_, _, _, fields, reason, progress)) =
                rows.iter_mut().find(|r| r.0 == *number)
            else {
                return Err(err(
                    *line,
                    format!("there is no action item {number} in the action items table"),
                ));
            };
            let ctx = format!("action item {number}");
            *reason = self.action_details(&ctx, blocks, fields, progress)?;
        }
        for (number, line, status, mut fields, reason, progress) in rows {
            let ctx = format!("action item {number}");
            let name = status.trim().to_ascii_lowercase();
            if reason.is_some() && name != "declined" {
                return Err(err(
                    line,
                    format!(
                        "{ctx}: a \"Declined because\" reason is given but the status is {status:?}, not declined"
                    ),
                ));
            }
            fields.status =
                ActionStatus::parse(&status, reason.as_deref()).map_err(|e| at(line, &ctx, e))?;
            fields.validate().map_err(|e| at(line, &ctx, e))?;
            doc.actions.push(ActionDocument { fields, progress });
        }
        Ok(())
    }

    /// Applies an action's details; returns the decline reason, if given.
    fn action_details(
        &self,
        ctx: &str,
        blocks: &[Block<'_>],
        fields: &mut ActionFields,
        progress: &mut Vec<ProgressUpdate>,
    ) -> Result<Option<String>> {
        let mut reason = None;
        let mut seen = Fields::new(ctx);
        let mut had_table = false;
        for block in blocks {
            let b = match block {
                Block::Bullet(b) => b,
                Block::Table(t) => {
                    if had_table {
                        return Err(err(
                            t.line,
                            format!("{ctx}: only one progress table is expected"),
                        ));
                    }
                    had_table = true;
                    *progress = self.progress(ctx, t)?;
                    continue;
                }
                Block::Sub { line, .. } => {
                    return Err(err(*line, format!("{ctx}: unexpected heading")));
                }
            };
            let (label, value) = b.field(ctx)?;
            let l = b.line;
            match seen.take(
                l,
                &label,
                &[
                    "description",
                    "declined because",
                    "smart checks met",
                    "success criterion",
                    "estimated cost",
                    "tracker",
                    "volunteer",
                ],
            )? {
                "description" => fields.description = b.text_value(value),
                "declined because" => {
                    let v = b.line_value(value);
                    if !v.is_empty() {
                        reason = Some(v);
                    }
                }
                "smart checks met" => {
                    smart_checks(l, ctx, &b.line_value(value), &mut fields.smart)?
                }
                "success criterion" => fields.smart.success_criterion = b.text_value(value),
                "estimated cost" => {
                    fields.estimated_cost = optional::<Line>(
                        l,
                        &format!("{ctx}: estimated cost"),
                        &b.line_value(value),
                    )?
                }
                "tracker" => {
                    fields.tracker =
                        optional::<Url>(l, &format!("{ctx}: tracker"), &b.line_value(value))?
                }
                _ => {
                    fields.volunteer = syntax::parse_bool(&b.line_value(value))
                        .map_err(|e| at(l, ctx, e.within("volunteer")))?;
                }
            }
        }
        Ok(reason)
    }

    fn progress(&self, ctx: &str, table: &Table) -> Result<Vec<ProgressUpdate>> {
        let what = format!("{ctx}: progress");
        let cols = Columns::map(table, &what, &PROGRESS)?;
        let mut out = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let rctx = format!("{ctx}: progress update {}", i + 1);
            let c = |key: &str| cols.cell(row, key).unwrap_or("");
            let at_ = self.moment(row.line, &rctx, "time", c("progress at"))?.at();
            let author = c("by")
                .parse::<Name>()
                .map_err(|e| at(row.line, &rctx, e.within("by")))?;
            let note = c("note")
                .parse::<Line>()
                .map_err(|e| at(row.line, &rctx, e.within("note")))?;
            let new_check_in = optional_date(row.line, &rctx, "new check-in", c("new check-in"))?;
            out.push(ProgressUpdate {
                at: at_,
                author,
                note,
                new_check_in,
            });
        }
        Ok(out)
    }

    fn meeting(&self, blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
        let mut seen = Fields::new("meeting");
        let m = &mut doc.fields.meeting;
        for b in only_bullets(blocks, "meeting")? {
            let (label, value) = b.field("meeting")?;
            let l = b.line;
            match seen.take(
                l,
                &label,
                &["scheduled", "location", "facilitator", "notes"],
            )? {
                "scheduled" => {
                    let v = b.line_value(value);
                    m.scheduled_at = if v.is_empty() {
                        None
                    } else {
                        Some(self.moment(l, "meeting", "scheduled", &v)?)
                    };
                }
                "location" => {
                    m.location = optional::<Line>(l, "meeting: location", &b.line_value(value))?
                }
                "facilitator" => {
                    m.facilitator =
                        optional::<Name>(l, "meeting: facilitator", &b.line_value(value))?
                }
                _ => m.notes = b.text_value(value),
            }
        }
        Ok(())
    }
}

struct Meta {
    status: Status,
    severity: Severity,
    services: Vec<Label>,
    tags: Vec<Label>,
    incident_cost: Option<Line>,
}

fn parse_title(line: usize, heading: &str) -> Result<(Option<Key>, Title)> {
    let (key, title) = if let Some(unescaped) = heading
        .strip_prefix('\\')
        .filter(|_| syntax::looks_keyed(heading))
    {
        (None, unescaped)
    } else if syntax::looks_keyed(heading) {
        let (key, title) = heading.split_once(':').unwrap_or((heading, ""));
        let key = key.parse::<Key>().map_err(|e| at(line, "", e))?;
        (Some(key), title)
    } else {
        (None, heading)
    };
    let title = title
        .parse::<Title>()
        .map_err(|e| at(line, "", e.within("title")))?;
    Ok((key, title))
}

fn labels(line: usize, field: &str, value: &str) -> Result<Vec<Label>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Label>()
                .map_err(|e| at(line, "", e.within(field)))
        })
        .collect()
}

/// An optional one-line value: empty means absent.
fn optional<T>(line: usize, context: &str, value: &str) -> Result<Option<T>>
where
    T: std::str::FromStr<Err = ParseError>,
{
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .parse::<T>()
        .map(Some)
        .map_err(|e| at(line, context, e))
}

fn optional_date(line: usize, context: &str, field: &str, value: &str) -> Result<Option<Date>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_date(value)
        .map(Some)
        .map_err(|e| at(line, context, e.within(field)))
}

/// `milestone (detected)` or just `alert`.
fn parse_kind(cell: &str) -> std::result::Result<(EventKind, Option<KeyMoment>), ParseError> {
    let (kind, milestone) = match cell.split_once('(') {
        Some((kind, rest)) => {
            let moment = rest.trim().strip_suffix(')').ok_or_else(|| {
                ParseError::new(
                    "kind",
                    format!("{cell:?}: expected a kind, or \"milestone (<key moment>)\""),
                )
            })?;
            (
                kind,
                Some(
                    moment
                        .parse::<KeyMoment>()
                        .map_err(|e| e.within("milestone"))?,
                ),
            )
        }
        None => (cell, None),
    };
    Ok((
        kind.parse::<EventKind>().map_err(|e| e.within("kind"))?,
        milestone,
    ))
}

fn smart_checks(line: usize, ctx: &str, value: &str, smart: &mut SmartChecks) -> Result<()> {
    for item in value
        .split(',')
        .map(normalize_label)
        .filter(|s| !s.is_empty())
    {
        match item.as_str() {
            "specific" => smart.specific = true,
            "agreed" | "agreed by owner" | "agreed_by_owner" => smart.agreed_by_owner = true,
            "realistic" => smart.realistic = true,
            // Measurable is the success criterion; time-bound is the check-in date.
            "measurable" | "time-bound" | "time bound" => {}
            other => {
                return Err(err(
                    line,
                    format!(
                        "{ctx}: SMART checks met: {other:?} is not a check: expected specific, agreed by owner, realistic"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn customer_statement(blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
    let mut seen = Fields::new("customer statement");
    let s = &mut doc.fields.customer_statement;
    for b in only_bullets(blocks, "customer statement")? {
        let (label, value) = b.field("customer statement")?;
        let text = b.text_value(value);
        match seen.take(b.line, &label, &["regret", "reason", "remedy"])? {
            "regret" => s.regret = text,
            "reason" => s.reason = text,
            _ => s.remedy = text,
        }
    }
    Ok(())
}

fn factors(blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
    for (i, b) in only_bullets(blocks, "contributing factors")?
        .into_iter()
        .enumerate()
    {
        let ctx = format!("contributing factor {}", i + 1);
        let Some((category, value)) = b.try_field() else {
            return Err(err(
                b.line,
                format!("{ctx}: expected \"- **<category>:** <text>\""),
            ));
        };
        // The default taxonomy first (it forgives case and spaces); a category from a team's own
        // taxonomy is kept when it has the shape of one.
        let category = category
            .parse::<FactorCategory>()
            .or_else(|e| FactorCategory::try_from(category.trim().to_owned()).map_err(|_| e))
            .map_err(|e| at(b.line, &ctx, e))?;
        let text = b
            .line_value(value)
            .parse::<Line>()
            .map_err(|e| at(b.line, &ctx, e.within("text")))?;
        doc.fields
            .factors
            .push(ContributingFactor { category, text });
    }
    Ok(())
}

/// Bullets under `###` headings, grouped by the heading.
fn grouped<'b, 'a>(
    blocks: &'b [Block<'a>],
    what: &str,
) -> Result<Vec<(usize, &'a str, Vec<&'b Bullet<'a>>)>> {
    let mut groups: Vec<(usize, &'a str, Vec<&'b Bullet<'a>>)> = Vec::new();
    for block in blocks {
        match block {
            Block::Sub { line, title } => groups.push((*line, title, Vec::new())),
            Block::Bullet(b) => match groups.last_mut() {
                Some((_, _, items)) => items.push(b),
                None => {
                    return Err(err(
                        b.line,
                        format!("{what}: expected a ### heading before the first item"),
                    ));
                }
            },
            Block::Table(t) => return Err(err(t.line, format!("{what}: unexpected table"))),
        }
    }
    Ok(groups)
}

/// The text of a list item, as one line; empty items are skipped.
fn item_line<T>(b: &Bullet<'_>, ctx: &str) -> Result<Option<T>>
where
    T: std::str::FromStr<Err = ParseError>,
{
    optional::<T>(b.line, ctx, &b.line_value(b.raw))
}

fn lessons(blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
    for (line, title, items) in grouped(blocks, "lessons learned")? {
        let wanted = normalize_label(title);
        let kind = LessonKind::ALL
            .iter()
            .copied()
            .find(|k| {
                normalize_label(k.prompt()) == wanted || k.as_str() == wanted.replace(' ', "_")
            })
            .ok_or_else(|| {
                let prompts: Vec<&str> = LessonKind::ALL.iter().map(|k| k.prompt()).collect();
                err(
                    line,
                    format!(
                        "lessons learned: unknown heading {title:?}: expected one of {}",
                        prompts.join("; ")
                    ),
                )
            })?;
        for b in items {
            if let Some(text) =
                item_line::<Line>(b, &format!("lessons learned: {}", kind.prompt()))?
            {
                doc.fields.lessons.of_mut(kind).push(text);
            }
        }
    }
    Ok(())
}

fn ideas(blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
    for (line, title, items) in grouped(blocks, "remediation ideas")? {
        let wanted = normalize_label(title);
        let short = normalize_label(title.split(':').next().unwrap_or(""));
        let question = Question::ALL
            .iter()
            .copied()
            .find(|q| {
                let prompt = q.prompt();
                normalize_label(prompt) == wanted
                    || normalize_label(prompt.split(':').next().unwrap_or("")) == short
                    || q.as_str() == short.replace(' ', "_")
            })
            .ok_or_else(|| {
                let names: Vec<&str> = Question::ALL
                    .iter()
                    .map(|q| q.prompt().split(':').next().unwrap_or(""))
                    .collect();
                err(
                    line,
                    format!(
                        "remediation ideas: unknown heading {title:?}: expected one of {}",
                        names.join(", ")
                    ),
                )
            })?;
        for b in items {
            if let Some(text) = item_line::<Line>(b, &format!("remediation idea ({question})"))? {
                doc.fields.ideas.push(RemediationIdea { question, text });
            }
        }
    }
    Ok(())
}

fn participants(
    heading_line: usize,
    blocks: &[Block<'_>],
    doc: &mut PostmortemDocument,
) -> Result<()> {
    let split = split_details(blocks, "participants", "participant", false)?;
    let Some(table) = split.table else {
        if let Some((line, _)) = split.details.first() {
            return Err(err(
                *line,
                "participants: details come after the participants table, which is missing",
            ));
        }
        return Err(err(
            heading_line,
            "participants: expected a table | # | Name | Role | Invited | Attended | Contact |",
        ));
    };
    let cols = Columns::map(table, "participants", &PARTICIPANTS)?;
    let numbers = cols.numbers(table, "participants", "participant")?;
    let mut people = Vec::new();
    for (row, number) in table.rows.iter().zip(numbers) {
        let ctx = format!("participant {number}");
        let c = |key: &str| cols.cell(row, key);
        let name = c("name")
            .unwrap_or("")
            .parse::<Name>()
            .map_err(|e| at(row.line, &ctx, e.within("name")))?;
        let role = c("role")
            .unwrap_or("")
            .parse::<Role>()
            .map_err(|e| at(row.line, &ctx, e.within("role")))?;
        let mut p = ParticipantFields::new(name, role);
        if let Some(invited) = c("invited").filter(|v| !v.is_empty()) {
            p.invited =
                syntax::parse_bool(invited).map_err(|e| at(row.line, &ctx, e.within("invited")))?;
        }
        if let Some(attended) = c("attended") {
            p.attended = syntax::parse_bool(attended)
                .map_err(|e| at(row.line, &ctx, e.within("attended")))?;
        }
        p.contact = optional::<Line>(
            row.line,
            &format!("{ctx}: contact"),
            c("contact").unwrap_or(""),
        )?;
        people.push((number, p));
    }
    for (number, (line, blocks)) in &split.details {
        let Some((_, p)) = people.iter_mut().find(|(n, _)| n == number) else {
            return Err(err(
                *line,
                format!("there is no participant {number} in the participants table"),
            ));
        };
        let ctx = format!("participant {number}");
        let mut seen = Fields::new(&ctx);
        for b in only_bullets(blocks, &ctx)? {
            let (label, value) = b.field(&ctx)?;
            seen.take(b.line, &label, &["circumstances"])?;
            p.circumstances = b.text_value(value);
        }
    }
    doc.participants.extend(people.into_iter().map(|(_, p)| p));
    Ok(())
}

fn links(blocks: &[Block<'_>], doc: &mut PostmortemDocument) -> Result<()> {
    for (i, b) in only_bullets(blocks, "links")?.into_iter().enumerate() {
        let ctx = format!("link {}", i + 1);
        let (kind, target) = match b.try_field() {
            Some((kind, value)) => (
                kind.parse::<LinkKind>()
                    .map_err(|e| at(b.line, &ctx, e.within("kind")))?,
                b.line_value(value),
            ),
            None => (LinkKind::Other, b.line_value(b.raw)),
        };
        if target.is_empty() {
            continue;
        }
        let (url, title) = syntax::parse_link_target(&target).map_err(|e| at(b.line, &ctx, e))?;
        doc.fields.links.push(Link { kind, url, title });
    }
    Ok(())
}

/// `logs: [title](url)`, or a bare link (kind `other`).
fn event_link(line: usize, ctx: &str, value: &str) -> Result<Link> {
    let value = value.trim();
    let bare = value.starts_with('[')
        || value
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("http"));
    let (kind, target) = if bare {
        (LinkKind::Other, value)
    } else {
        let (kind, target) = value.split_once(':').ok_or_else(|| {
            err(
                line,
                format!("{ctx}: link: expected \"<kind>: [title](https://…)\""),
            )
        })?;
        let kind = kind
            .parse::<LinkKind>()
            .map_err(|e| at(line, ctx, e.within("link kind")))?;
        (kind, target)
    };
    let (url, title) =
        syntax::parse_link_target(target).map_err(|e| at(line, ctx, e.within("link")))?;
    Ok(Link { kind, url, title })
}

fn event_details(ctx: &str, blocks: &[Block<'_>], e: &mut EventFields) -> Result<()> {
    let mut seen = Fields::new(ctx);
    let mut account = Account::default();
    for b in only_bullets(blocks, ctx)? {
        let (label, value) = b.field(ctx)?;
        let l = b.line;
        if normalize_label(&label) == "link" {
            let v = b.line_value(value);
            if !v.is_empty() {
                e.links.push(event_link(l, ctx, &v)?);
            }
            continue;
        }
        match seen.take(
            l,
            &label,
            &[
                "account of",
                "knew",
                "expected",
                "assumed",
                "could do differently",
                "source id",
                "hidden",
                "pinned",
                "link",
            ],
        )? {
            "account of" => {
                e.account_of =
                    optional::<Name>(l, &format!("{ctx}: account of"), &b.line_value(value))?
            }
            "knew" => account.knew = b.text_value(value),
            "expected" => account.expected = b.text_value(value),
            "assumed" => account.assumed = b.text_value(value),
            "could do differently" => e.differently = b.text_value(value),
            "source id" => {
                let v = b.line_value(value);
                e.source_id = if v.is_empty() {
                    None
                } else {
                    Some(syntax::unquote(&v))
                };
            }
            "hidden" => {
                e.hidden = syntax::parse_bool(&b.line_value(value))
                    .map_err(|er| at(l, ctx, er.within("hidden")))?
            }
            _ => {
                e.pinned = syntax::parse_bool(&b.line_value(value))
                    .map_err(|er| at(l, ctx, er.within("pinned")))?
            }
        }
    }
    e.account = account;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Blocks: the bullets, tables and ### headings of a structured section.

#[derive(Clone)]
struct Bullet<'a> {
    line: usize,
    /// The text after the list marker, trimmed.
    raw: &'a str,
    /// Indented continuation lines, with their indentation removed.
    more: Vec<&'a str>,
}

#[derive(Clone)]
struct Row {
    line: usize,
    cells: Vec<String>,
}

#[derive(Clone)]
struct Table {
    line: usize,
    header: Vec<String>,
    rows: Vec<Row>,
}

enum Block<'a> {
    Bullet(Bullet<'a>),
    Table(Table),
    Sub { line: usize, title: &'a str },
}

fn normalize_label(s: &str) -> String {
    syntax::normalize_name(s.trim().trim_end_matches(':'))
}

impl<'a> Bullet<'a> {
    /// `**Label:** value` (or `**Label**: value`).
    fn try_field(&self) -> Option<(String, &'a str)> {
        let after = self.raw.strip_prefix("**")?;
        let close = after.find("**")?;
        let label = after.get(..close)?;
        let rest = after.get(close + 2..)?;
        if let Some(label) = label.strip_suffix(':') {
            Some((normalize_label(label), rest.trim()))
        } else {
            rest.strip_prefix(':')
                .map(|v| (normalize_label(label), v.trim()))
        }
    }

    fn field(&self, what: &str) -> Result<(String, &'a str)> {
        self.try_field().ok_or_else(|| {
            err(
                self.line,
                format!(
                    "{what}: expected \"- **<field>:** <value>\", found \"- {}\"",
                    self.raw
                ),
            )
        })
    }

    /// A one-line value: continuation lines (a bullet wrapped by hand) are joined with spaces.
    fn line_value(&self, inline: &str) -> String {
        let mut parts = vec![inline.trim()];
        parts.extend(self.more.iter().map(|l| l.trim()).filter(|l| !l.is_empty()));
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }

    /// Free text: the inline part, then the continuation lines as they are.
    fn text_value(&self, inline: &str) -> String {
        let inline = inline.trim();
        let mut parts: Vec<&str> = Vec::new();
        if !inline.is_empty() {
            parts.push(inline);
        }
        parts.extend(self.more.iter().copied());
        normalize_text(&parts.join("\n"))
    }
}

fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for marker in ['-', '*', '+'] {
        if let Some(rest) = t.strip_prefix(marker) {
            if rest.is_empty() {
                return Some("");
            }
            if rest.starts_with([' ', '\t']) {
                return Some(rest.trim());
            }
        }
    }
    None
}

fn dedent(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix("  ") {
        rest
    } else if let Some(rest) = line.strip_prefix('\t') {
        rest
    } else {
        line.trim_start()
    }
}

fn blocks<'a>(body: &[(usize, &'a str)], what: &str) -> Result<Vec<Block<'a>>> {
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(&(line, text)) = body.get(k) {
        k += 1;
        if text.trim().is_empty() {
            continue;
        }
        if let Some((level, title)) = syntax::heading(text) {
            if level == 3 {
                out.push(Block::Sub { line, title });
                continue;
            }
            return Err(err(
                line,
                format!(
                    "unexpected heading in {what}: only ### headings belong inside a section, and sections start with ##"
                ),
            ));
        }
        if let Some(raw) = bullet(text) {
            let mut more = Vec::new();
            while let Some(&(_, next)) = body.get(k) {
                if next.trim().is_empty() || next.starts_with([' ', '\t']) {
                    more.push(dedent(next));
                    k += 1;
                } else {
                    break;
                }
            }
            while more.last().is_some_and(|l| l.trim().is_empty()) {
                more.pop();
            }
            out.push(Block::Bullet(Bullet { line, raw, more }));
            continue;
        }
        if text.trim_start().starts_with('|') {
            let header = syntax::split_row(text);
            if body
                .get(k)
                .is_some_and(|(_, l)| syntax::is_delimiter_row(l))
            {
                k += 1;
            }
            let mut rows = Vec::new();
            while let Some(&(row_line, next)) = body.get(k) {
                if !next.trim_start().starts_with('|') {
                    break;
                }
                rows.push(Row {
                    line: row_line,
                    cells: syntax::split_row(next),
                });
                k += 1;
            }
            out.push(Block::Table(Table { line, header, rows }));
            continue;
        }
        return Err(err(
            line,
            format!(
                "unexpected text in {what}: expected a \"- \" list item, a table or a ### heading"
            ),
        ));
    }
    Ok(out)
}

fn only_bullets<'b, 'a>(blocks: &'b [Block<'a>], what: &str) -> Result<Vec<&'b Bullet<'a>>> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Bullet(b) => Ok(b),
            Block::Table(t) => Err(err(t.line, format!("{what}: unexpected table"))),
            Block::Sub { line, .. } => Err(err(*line, format!("{what}: unexpected ### heading"))),
        })
        .collect()
}

/// Field names seen so far in one list, to refuse a field given twice and name unknown ones.
struct Fields {
    what: String,
    seen: Vec<(String, usize)>,
}

impl Fields {
    fn new(what: &str) -> Fields {
        Fields {
            what: what.to_owned(),
            seen: Vec::new(),
        }
    }

    /// The known name `label` stands for (`known` holds normalized names).
    fn take(&mut self, line: usize, label: &str, known: &[&'static str]) -> Result<&'static str> {
        let wanted = normalize_label(label);
        let wanted = match wanted.as_str() {
            "time zone" | "zone" | "timezone" => "times in".to_owned(),
            "cost" => "incident cost".to_owned(),
            "scheduled at" | "when" => "scheduled".to_owned(),
            "differently" | "what we could do differently" => "could do differently".to_owned(),
            "source_id" => "source id".to_owned(),
            "reason" | "decline reason" if known.contains(&"declined because") => {
                "declined because".to_owned()
            }
            "smart" | "smart checks" => "smart checks met".to_owned(),
            "measurable" => "success criterion".to_owned(),
            _ => wanted,
        };
        let Some(name) = known.iter().copied().find(|k| *k == wanted) else {
            return Err(err(
                line,
                format!(
                    "{}: unknown field {label:?}: expected one of {}",
                    self.what,
                    known.join(", ")
                ),
            ));
        };
        if let Some((_, first)) = self.seen.iter().find(|(n, _)| n == name) {
            return Err(err(
                line,
                format!(
                    "{}: {name} is given twice (first at line {first})",
                    self.what
                ),
            ));
        }
        self.seen.push((name.to_owned(), line));
        Ok(name)
    }
}

// ---------------------------------------------------------------------------------------------
// Tables with details: one table, then `### Event 3` sub-sections.

type Details<'a> = Vec<(usize, (usize, Vec<Block<'a>>))>;

struct Split<'b, 'a> {
    table: Option<&'b Table>,
    details: Details<'a>,
}

fn split_details<'b, 'a>(
    blocks: &'b [Block<'a>],
    what: &str,
    noun: &str,
    tables_in_details: bool,
) -> Result<Split<'b, 'a>> {
    let mut table = None;
    let mut details: Details<'a> = Vec::new();
    for block in blocks {
        match block {
            Block::Sub { line, title } => {
                let n = sub_number(title, noun).ok_or_else(|| {
                    err(
                        *line,
                        format!(
                            "{what}: unexpected heading {title:?}: expected \"### {} <n>\"",
                            syntax_noun(noun)
                        ),
                    )
                })?;
                if let Some((_, (first, _))) = details.iter().find(|(d, _)| *d == n) {
                    return Err(err(
                        *line,
                        format!(
                            "{what}: details for {noun} {n} are given twice (first at line {first})"
                        ),
                    ));
                }
                details.push((n, (*line, Vec::new())));
            }
            Block::Bullet(b) => match details.last_mut() {
                Some((_, (_, items))) => items.push(Block::Bullet(b.clone())),
                None => {
                    return Err(err(
                        b.line,
                        format!(
                            "{what}: a list item needs a \"### {} <n>\" heading above it",
                            syntax_noun(noun)
                        ),
                    ));
                }
            },
            Block::Table(t) => match details.last_mut() {
                None if table.is_none() => table = Some(t),
                None => return Err(err(t.line, format!("{what}: only one table is expected"))),
                Some((_, (_, items))) if tables_in_details => items.push(Block::Table(t.clone())),
                Some(_) => {
                    return Err(err(
                        t.line,
                        format!("{what}: unexpected table in the details"),
                    ));
                }
            },
        }
    }
    Ok(Split { table, details })
}

fn syntax_noun(noun: &str) -> String {
    let mut c = noun.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `Event 3`, `event #3` → 3.
fn sub_number(title: &str, noun: &str) -> Option<usize> {
    let t = title.trim();
    let rest = t
        .get(..noun.len())
        .filter(|p| p.eq_ignore_ascii_case(noun))
        .and_then(|_| t.get(noun.len()..))?;
    let rest = rest.trim().trim_start_matches('#').trim();
    rest.parse::<usize>().ok().filter(|n| *n > 0)
}

struct Col {
    key: &'static str,
    aliases: &'static [&'static str],
    required: bool,
}

const fn col(key: &'static str, aliases: &'static [&'static str], required: bool) -> Col {
    Col {
        key,
        aliases,
        required,
    }
}

const TIMELINE: [Col; 7] = [
    col("#", &["no", "n"], false),
    col("time", &["when", "happenedat"], true),
    col("kind", &["type"], true),
    col("actor", &["who"], false),
    col("description", &["what"], true),
    col("outcome", &[], false),
    col("source", &[], false),
];

const ACTIONS: [Col; 8] = [
    col("#", &["no", "n"], false),
    col("title", &["action"], true),
    col("owner", &[], true),
    col("check-in", &["checkindate"], true),
    col("due", &["duedate"], false),
    col("priority", &[], false),
    col("status", &[], false),
    col("category", &["question"], true),
];

const PARTICIPANTS: [Col; 6] = [
    col("#", &["no", "n"], false),
    col("name", &[], true),
    col("role", &[], true),
    col("invited", &[], false),
    col("attended", &[], false),
    col("contact", &[], false),
];

const PROGRESS: [Col; 4] = [
    col("progress at", &["time", "at", "when", "date"], true),
    col("by", &["author"], true),
    col("note", &["progress"], true),
    col("new check-in", &[], false),
];

fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || *c == '#')
        .flat_map(char::to_lowercase)
        .collect()
}

struct Columns {
    /// For each spec column (by key), its index in the table.
    index: Vec<(&'static str, usize)>,
}

impl Columns {
    fn map(table: &Table, what: &str, spec: &[Col]) -> Result<Columns> {
        let mut index: Vec<(&'static str, usize)> = Vec::new();
        let expected = || spec.iter().map(|c| c.key).collect::<Vec<_>>().join(" | ");
        for (i, h) in table.header.iter().enumerate() {
            let k = header_key(h);
            let Some(c) = spec
                .iter()
                .find(|c| header_key(c.key) == k || c.aliases.contains(&k.as_str()))
            else {
                return Err(err(
                    table.line,
                    format!(
                        "{what}: unknown column {h:?}: expected the columns {}",
                        expected()
                    ),
                ));
            };
            if index.iter().any(|(key, _)| *key == c.key) {
                return Err(err(
                    table.line,
                    format!("{what}: column {h:?} appears twice"),
                ));
            }
            index.push((c.key, i));
        }
        for c in spec.iter().filter(|c| c.required) {
            if !index.iter().any(|(key, _)| *key == c.key) {
                return Err(err(
                    table.line,
                    format!(
                        "{what}: the table needs a {:?} column (expected {})",
                        c.key,
                        expected()
                    ),
                ));
            }
        }
        let want = table.header.len();
        for row in &table.rows {
            if row.cells.len() != want {
                return Err(err(
                    row.line,
                    format!(
                        "{what}: this row has {} cells but the header has {want} ({}); escape a | inside a cell as \\|",
                        row.cells.len(),
                        table.header.join(" | ")
                    ),
                ));
            }
        }
        Ok(Columns { index })
    }

    fn cell<'r>(&self, row: &'r Row, key: &str) -> Option<&'r str> {
        let (_, i) = self.index.iter().find(|(k, _)| *k == key)?;
        row.cells.get(*i).map(String::as_str)
    }

    /// The row numbers: the `#` column when present (each a distinct positive number), else the
    /// position.
    fn numbers(&self, table: &Table, what: &str, noun: &str) -> Result<Vec<usize>> {
        let mut out: BTreeMap<usize, usize> = BTreeMap::new();
        let mut numbers = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let n = match self.cell(row, "#") {
                None => i + 1,
                Some(cell) => cell
                    .trim()
                    .trim_start_matches('#')
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        err(
                            row.line,
                            format!(
                                "{what}: \"#\" must be a {noun} number (1, 2, …), found {cell:?}"
                            ),
                        )
                    })?,
            };
            if let Some(first) = out.insert(n, row.line) {
                return Err(err(
                    row.line,
                    format!("{what}: {noun} number {n} is used twice (first at line {first})"),
                ));
            }
            numbers.push(n);
        }
        Ok(numbers)
    }
}
