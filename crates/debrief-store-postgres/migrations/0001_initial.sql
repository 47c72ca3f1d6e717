-- Debrief on PostgreSQL, first schema.
--
-- Each record's written content is a JSON document in `body` (the serde form of the domain's
-- *Fields types); the columns next to it exist to filter, order and constrain. Timestamps are
-- BIGINT microseconds since the Unix epoch (the zone and precision live in the JSON).

CREATE TABLE postmortems (
    id          BIGSERIAL PRIMARY KEY,
    number      BIGINT NOT NULL UNIQUE CHECK (number > 0),
    version     BIGINT NOT NULL,
    status      TEXT NOT NULL,
    severity    SMALLINT NOT NULL,
    title       TEXT NOT NULL,
    -- When the incident started, else when the postmortem was created.
    occurred_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    body        JSONB NOT NULL
);
CREATE INDEX postmortems_by_occurred ON postmortems (occurred_at DESC, number DESC);
CREATE INDEX postmortems_by_status ON postmortems (status);
CREATE INDEX postmortems_by_severity ON postmortems (severity);

CREATE TABLE postmortem_services (
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    service       TEXT NOT NULL,
    PRIMARY KEY (service, postmortem_id)
);
CREATE INDEX postmortem_services_by_postmortem ON postmortem_services (postmortem_id);

CREATE TABLE events (
    id            BIGSERIAL PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    happened_at   BIGINT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    source        TEXT NOT NULL,
    source_id     TEXT,
    hidden        BOOLEAN NOT NULL,
    body          JSONB NOT NULL
);
CREATE INDEX events_by_time ON events (postmortem_id, happened_at, id);
CREATE UNIQUE INDEX events_by_source_id ON events (postmortem_id, source, source_id)
    WHERE source_id IS NOT NULL;

CREATE TABLE actions (
    id            BIGSERIAL PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    -- The owner in lower case, for the case-insensitive owner filter.
    owner_key     TEXT NOT NULL,
    status        TEXT NOT NULL,
    check_in      DATE NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    body          JSONB NOT NULL,
    progress      JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX actions_by_check_in ON actions (check_in, id);
CREATE INDEX actions_by_owner ON actions (owner_key, check_in);
CREATE INDEX actions_by_postmortem ON actions (postmortem_id, check_in);

CREATE TABLE participants (
    id            BIGSERIAL PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    body          JSONB NOT NULL
);
CREATE INDEX participants_by_postmortem ON participants (postmortem_id, id);

CREATE TABLE revisions (
    id            BIGSERIAL PRIMARY KEY,
    postmortem_id BIGINT NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     BIGINT,
    summary       TEXT NOT NULL,
    changes       JSONB NOT NULL
);
CREATE INDEX revisions_by_postmortem ON revisions (postmortem_id, id);

-- The full-text index: one row per postmortem, rebuilt in the transaction of every write that
-- changes indexed text.
CREATE TABLE postmortem_search (
    postmortem_id BIGINT PRIMARY KEY REFERENCES postmortems (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    body          TEXT NOT NULL,
    document      TSVECTOR NOT NULL
);
CREATE INDEX postmortem_search_document ON postmortem_search USING GIN (document);
