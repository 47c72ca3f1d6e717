-- Debrief on SQLite, first schema.
-- Written content lives as JSON in `body` columns (the serde form of the domain types); the columns
-- that filters, order and constraints need are real columns. Instants are microseconds since the
-- Unix epoch (INTEGER), so order is time order.

CREATE TABLE postmortems (
    id          INTEGER PRIMARY KEY,
    number      INTEGER NOT NULL UNIQUE CHECK (number > 0),
    version     INTEGER NOT NULL CHECK (version > 0),
    status      TEXT    NOT NULL CHECK (status IN ('draft', 'in_review', 'published', 'closed')),
    severity    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    services    TEXT    NOT NULL,          -- JSON array, in the order people wrote them
    occurred_at INTEGER NOT NULL,          -- the incident's start, else created_at
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    body        TEXT    NOT NULL           -- JSON PostmortemFields
);
CREATE INDEX postmortems_by_occurrence ON postmortems (occurred_at DESC, number DESC);
CREATE INDEX postmortems_by_status ON postmortems (status, occurred_at DESC);

CREATE TABLE postmortem_services (
    service       TEXT    NOT NULL,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    PRIMARY KEY (service, postmortem_id)
) WITHOUT ROWID;

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    happened_at   INTEGER NOT NULL,
    recorded_at   INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    source_id     TEXT,
    hidden        INTEGER NOT NULL CHECK (hidden IN (0, 1)),
    body          TEXT    NOT NULL           -- JSON EventFields
);
CREATE INDEX events_timeline ON events (postmortem_id, happened_at, id);
CREATE UNIQUE INDEX events_source_once ON events (postmortem_id, source, source_id)
    WHERE source_id IS NOT NULL;

CREATE TABLE actions (
    id            INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    owner_key     TEXT    NOT NULL,          -- the owner, lowercased, for case-insensitive filters
    status        TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'declined')),
    check_in      TEXT    NOT NULL,          -- YYYY-MM-DD, so text order is date order
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    body          TEXT    NOT NULL,          -- JSON ActionFields
    progress      TEXT    NOT NULL           -- JSON array of ProgressUpdate
);
CREATE INDEX actions_by_check_in ON actions (check_in, id);
CREATE INDEX actions_by_owner ON actions (owner_key, check_in);
CREATE INDEX actions_by_postmortem ON actions (postmortem_id, check_in);

CREATE TABLE participants (
    id            INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    body          TEXT    NOT NULL           -- JSON ParticipantFields
);
CREATE INDEX participants_by_postmortem ON participants (postmortem_id, id);

CREATE TABLE revisions (
    id            INTEGER PRIMARY KEY,
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    entity        TEXT    NOT NULL,
    entity_id     INTEGER,
    summary       TEXT    NOT NULL,
    changes       TEXT    NOT NULL           -- JSON array of FieldChange
);
CREATE INDEX revisions_by_postmortem ON revisions (postmortem_id, id);

-- Full-text search: one row per postmortem (rowid = postmortems.id), rebuilt in the transaction of
-- every write that changes indexed text.
CREATE VIRTUAL TABLE postmortem_search USING fts5 (
    title, summary, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
