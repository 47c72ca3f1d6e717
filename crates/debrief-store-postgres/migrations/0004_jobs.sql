-- The durable job queue, shared by every instance (reminders, and later notifications).
-- A job is queued until a worker claims it (SELECT … FOR UPDATE SKIP LOCKED inside one UPDATE);
-- claiming sets it running with a lease (lease_until, leased_by) and counts an attempt; the worker
-- then marks it done, or a failure queues it again after a backoff (run_at) or parks it once it
-- has used max_attempts. A running job whose lease ended is claimable again. dedup_key makes
-- enqueuing idempotent: one job per key, ever (done jobs are kept for their keys). Timestamps are
-- BIGINT microseconds, as in 0001.

CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      JSONB   NOT NULL,
    run_at       BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    lease_until  BIGINT,
    leased_by    TEXT,
    last_error   TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'parked')),
    dedup_key    TEXT    UNIQUE,
    created_at   BIGINT  NOT NULL,
    finished_at  BIGINT
);
-- What claiming reads: unfinished jobs by run_at. Partial, so done jobs never slow it down.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'running');
-- Running jobs by the end of their lease: what claiming parks when a worker vanished.
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
-- What admins list: parked and failing jobs, newest first.
CREATE INDEX jobs_by_state ON jobs (state, id);
-- What the reminder scan reads: unfinished actions by check-in date.
CREATE INDEX actions_unfinished_by_check_in ON actions (check_in, id)
    WHERE status IN ('open', 'in_progress');
