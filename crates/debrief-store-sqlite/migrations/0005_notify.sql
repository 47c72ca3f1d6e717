-- Follow-through and notifications: when each action was finished, the notification channels
-- admins configure, and each user's notification preferences. Instants are microseconds since the
-- Unix epoch (INTEGER), as in 0001.

-- When an action was last marked done or declined; NULL while it is open or in progress. Actions
-- finished before this column existed take their last update as the best known time.
ALTER TABLE actions ADD COLUMN finished_at INTEGER;
UPDATE actions SET finished_at = updated_at WHERE status IN ('done', 'declined');

-- Where notifications go. `body` is the JSON ChannelFields (name, target, topics, owners,
-- enabled); `name` and `enabled` are copies for listing, `name_key` the name in lower case
-- (computed by Debrief, so both databases fold case alike) that makes names unique without regard
-- to case.
CREATE TABLE channels (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL UNIQUE,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    version    INTEGER NOT NULL CHECK (version > 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body       TEXT    NOT NULL
);

-- A user's notification preferences: JSON Preferences; NULL means the default (every topic).
ALTER TABLE users ADD COLUMN preferences TEXT;

-- What purging reads: done jobs by completion time.
CREATE INDEX jobs_done_by_finish ON jobs (finished_at) WHERE state = 'done';
