-- Alert groups: which postmortem each alert group (from a webhook) is open in.
--
-- `source` is the webhook's source (alertmanager, grafana, pagerduty, opsgenie); `group_key` the
-- key the source groups alerts by (Alertmanager's groupKey, PagerDuty's incident id, …). One row
-- per group: when its postmortem is published or closed, the group's next firing alert opens a
-- new draft and the row points at that one. Timestamps are BIGINT microseconds, as in 0001.

CREATE TABLE alert_groups (
    source        TEXT   NOT NULL,
    group_key     TEXT   NOT NULL,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    opened_at     BIGINT NOT NULL,
    PRIMARY KEY (source, group_key)
);
CREATE INDEX alert_groups_by_postmortem ON alert_groups (postmortem_id);
