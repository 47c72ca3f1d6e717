//! `debrief jobs …`: what admins see of the job queue — parked and failing jobs — and the retry
//! that queues a parked job again.

use debrief_store::{Job, JobFilter, JobId, JobState};

use super::Ctx;
use crate::cli::JobsCommand;
use crate::error::Result;
use crate::render;

pub async fn run(ctx: &Ctx, command: JobsCommand) -> Result<()> {
    match command {
        JobsCommand::List(a) => {
            let mut filter = JobFilter {
                limit: Some(a.limit),
                ..JobFilter::default()
            };
            let mut jobs = if a.all || !a.state.is_empty() {
                filter.states = a.state;
                ctx.store.list_jobs(&filter).await?
            } else {
                // Parked, and queued ones that failed at least once: the two kinds that need an
                // eye. Newest first across both.
                filter.states = vec![JobState::Parked];
                let mut jobs = ctx.store.list_jobs(&filter).await?;
                filter.states = vec![JobState::Queued, JobState::Running];
                filter.failing = true;
                jobs.extend(ctx.store.list_jobs(&filter).await?);
                jobs
            };
            jobs.sort_by_key(|j| std::cmp::Reverse(j.id));
            jobs.truncate(usize::try_from(a.limit).unwrap_or(usize::MAX));
            if a.json.json {
                render::emit(&render::json(&jobs)?)
            } else if jobs.is_empty() {
                render::emit("No jobs to show: nothing is parked or failing.\n")
            } else {
                render::emit(&rows(ctx, &jobs))
            }
        }
        JobsCommand::Retry(a) => {
            let now = jiff::Timestamp::now();
            let job = ctx.store.retry_job(JobId(a.id), now).await?;
            render::emit(&format!(
                "Job {} ({}) is queued again; a worker will run it shortly.\n",
                job.id,
                job.dedup_key.as_deref().unwrap_or(&job.kind)
            ))
        }
    }
}

fn rows(ctx: &Ctx, jobs: &[Job]) -> String {
    let when = |t: jiff::Timestamp| {
        t.to_zoned(ctx.zone.tz().clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.state.to_string(),
                j.dedup_key.clone().unwrap_or_else(|| j.kind.clone()),
                format!("{}/{}", j.attempts, j.max_attempts),
                when(j.run_at),
                j.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    render::table(
        &["ID", "STATE", "JOB", "TRIES", "RUN AT", "LAST ERROR"],
        &rows,
    )
}
