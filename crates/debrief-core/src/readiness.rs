//! The readiness check: what is missing before the review meeting can be held well.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::participant::{ParticipantFields, Role};
use crate::postmortem::PostmortemFields;
use crate::timeline::{EventFields, EventKind};

/// Something missing before the review, with a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub code: &'static str,
    pub message: String,
}

fn gap(code: &'static str, message: impl Into<String>) -> Gap {
    Gap {
        code,
        message: message.into(),
    }
}

/// The meeting should be held within a week of resolution, while memories are fresh.
pub const MEETING_WITHIN: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Lists what is missing before the review. An empty list means ready. Hidden events do not count.
pub fn check<'a>(
    postmortem: &PostmortemFields,
    events: impl IntoIterator<Item = &'a EventFields>,
    participants: impl IntoIterator<Item = &'a ParticipantFields>,
) -> Vec<Gap> {
    let mut gaps = Vec::new();
    if postmortem.summary.trim().is_empty() {
        gaps.push(gap(
            "summary_missing",
            "Write a summary: a sentence or two on what is known and the customer impact.",
        ));
    }
    if postmortem.impact.trim().is_empty() {
        gaps.push(gap(
            "impact_missing",
            "Describe the impact: who or what was affected, and how much.",
        ));
    }

    let visible: Vec<&EventFields> = events.into_iter().filter(|e| !e.hidden).collect();
    let has = |kinds: &[EventKind]| visible.iter().any(|e| kinds.contains(&e.kind));
    if visible.is_empty() {
        gaps.push(gap(
            "timeline_empty",
            "Build a rough timeline: when it was reported and by whom, what was done, what was communicated.",
        ));
    } else {
        let reported = has(&[EventKind::Report, EventKind::Detection, EventKind::Alert])
            || visible.iter().any(|e| {
                matches!(
                    e.milestone,
                    Some(
                        crate::postmortem::KeyMoment::Detected
                            | crate::postmortem::KeyMoment::Acknowledged
                    )
                )
            });
        if !reported {
            gaps.push(gap(
                "timeline_no_report",
                "The timeline does not say when the issue was reported, and by whom or what process.",
            ));
        }
        if !has(&[EventKind::Action]) {
            gaps.push(gap(
                "timeline_no_actions",
                "The timeline has no actions: what was done during the response?",
            ));
        }
        if !has(&[EventKind::CommunicationIn, EventKind::CommunicationOut]) {
            gaps.push(gap(
                "timeline_no_communication",
                "The timeline has no communication into or out of the team.",
            ));
        }
    }
    for (a, b) in postmortem.key_moments.out_of_order() {
        gaps.push(gap(
            "key_moments_out_of_order",
            format!("The key moment '{b}' is before '{a}': check the times."),
        ));
    }

    let participants: Vec<&ParticipantFields> = participants.into_iter().collect();
    if participants.is_empty() {
        gaps.push(gap(
            "participants_missing",
            "Add the participants: everyone who worked the issue.",
        ));
    } else if !participants.iter().any(|p| p.role == Role::CustomerSupport) {
        gaps.push(gap(
            "customer_support_missing",
            "No one from customer support is listed: they often saw the impact first.",
        ));
    }
    let invited_stakeholders: Vec<&str> = participants
        .iter()
        .filter(|p| p.role == Role::Stakeholder && p.invited)
        .map(|p| p.name.as_str())
        .collect();
    if !invited_stakeholders.is_empty() {
        gaps.push(gap(
            "stakeholders_invited",
            format!(
                "Stakeholders are invited to the review ({}): keep the meeting safe and send them the summary afterwards.",
                invited_stakeholders.join(", ")
            ),
        ));
    }

    match (&postmortem.meeting.scheduled_at, &postmortem.key_moments.resolved) {
        (None, _) => gaps.push(gap(
            "meeting_not_scheduled",
            "Schedule the review meeting, within a week of resolution.",
        )),
        (Some(meeting), Some(resolved)) => {
            if meeting.at() < resolved.at() {
                gaps.push(gap(
                    "meeting_before_resolution",
                    format!(
                        "The meeting ({meeting}) is before the incident was resolved ({resolved}): check both times."
                    ),
                ));
            } else if meeting.at().duration_since(resolved.at()) > MEETING_WITHIN {
                gaps.push(gap(
                    "meeting_too_late",
                    format!(
                        "The meeting ({meeting}) is more than a week after resolution ({resolved}): memories fade."
                    ),
                ));
            }
        }
        (Some(_), None) => gaps.push(gap(
            "resolved_missing",
            "Record when the incident was resolved, so the meeting can be held within a week of it.",
        )),
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Moment, Zone};

    fn m(s: &str) -> Moment {
        Moment::parse(s, &Zone::utc()).expect("moment")
    }

    fn codes(g: &[Gap]) -> Vec<&'static str> {
        g.iter().map(|g| g.code).collect()
    }

    #[test]
    fn a_fresh_postmortem_lacks_everything() {
        let pm = PostmortemFields::new("Checkout down".parse().expect("t"), Default::default());
        let gaps = check(&pm, [], []);
        assert_eq!(
            codes(&gaps),
            vec![
                "summary_missing",
                "impact_missing",
                "timeline_empty",
                "participants_missing",
                "meeting_not_scheduled"
            ]
        );
    }

    #[test]
    fn a_detected_milestone_says_when_it_was_reported() {
        let pm = PostmortemFields::new("Checkout down".parse().expect("t"), Default::default());
        let mut detected = EventFields::new(
            m("2024-05-01 11:00"),
            EventKind::Milestone,
            "Alert fired".parse().expect("text"),
        );
        let plain = detected.clone();
        assert!(codes(&check(&pm, [&plain], [])).contains(&"timeline_no_report"));
        detected.milestone = Some(crate::postmortem::KeyMoment::Detected);
        assert!(!codes(&check(&pm, [&detected], [])).contains(&"timeline_no_report"));
    }

    #[test]
    fn a_prepared_postmortem_is_ready() {
        let mut pm = PostmortemFields::new("Checkout down".parse().expect("t"), Default::default());
        pm.summary = "Checkout failed for 40 minutes.".into();
        pm.impact = "12% of orders failed.".into();
        pm.key_moments.resolved = Some(m("2024-05-01 12:00"));
        pm.meeting.scheduled_at = Some(m("2024-05-03 15:00"));
        let ev = |kind, text: &str| {
            EventFields::new(m("2024-05-01 11:00"), kind, text.parse().expect("text"))
        };
        let events = [
            ev(EventKind::Report, "Support reported failed payments"),
            ev(EventKind::Action, "Rolled back the release"),
            ev(EventKind::CommunicationOut, "Status page updated"),
        ];
        let people = [
            ParticipantFields::new("Ada".parse().expect("n"), Role::IncidentLead),
            ParticipantFields::new("Sam".parse().expect("n"), Role::CustomerSupport),
            ParticipantFields::new("VP".parse().expect("n"), Role::Stakeholder),
        ];
        assert!(check(&pm, &events, &people).is_empty());

        // A late meeting, an invited stakeholder and a hidden report are each named.
        pm.meeting.scheduled_at = Some(m("2024-05-09 12:01"));
        let mut people = people.clone();
        people[2].invited = true;
        let mut events = events.clone();
        events[0].hidden = true;
        assert_eq!(
            codes(&check(&pm, &events, &people)),
            vec![
                "timeline_no_report",
                "stakeholders_invited",
                "meeting_too_late"
            ]
        );
    }
}
