#![recursion_limit = "256"]
//! Debrief's web app and JSON API (axum): server-rendered pages for the whole postmortem practice,
//! the `/api/v1/` JSON API with its OpenAPI document, accounts (users, sessions, API tokens),
//! health and Prometheus metrics.
//!
//! Architecture invariant: the server knows the storage port ([`debrief_store::Store`]) and never
//! which database is behind it; it holds an `Arc<dyn Store>`. Every rule about postmortems lives
//! in `debrief-core` or the store; handlers parse, authorise, call one use case and render.

pub mod api;
pub mod auth;
pub mod cache;
pub mod demo;
pub mod error;
pub mod hooks;
pub mod jobs;
pub mod limit;
pub mod markdown;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod pages;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use state::{AppState, Clock, Config, SystemClock};

use debrief_store::DynStore;

/// The Content-Security-Policy of every response: only our own scripts, styles and forms.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    let max_body = state.config().max_body;
    Router::new()
        .merge(api::routes())
        .merge(hooks::routes())
        .merge(pages::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(pages::assets::css))
        .route("/static/app.js", get(pages::assets::js))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Adds the security headers to every response and records request metrics.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    state.metrics().record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().count_users().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    state.metrics().render(&mut out);
    let today = api::actions::today(&state);
    match state.store().stats(today).await {
        Ok(stats) => {
            out.push_str("# HELP debrief_postmortems Postmortems by status.\n");
            out.push_str("# TYPE debrief_postmortems gauge\n");
            for (status, n) in &stats.postmortems_by_status {
                out.push_str(&format!("debrief_postmortems{{status=\"{status}\"}} {n}\n"));
            }
            out.push_str("# HELP debrief_action_items_open Action items not done or declined.\n");
            out.push_str("# TYPE debrief_action_items_open gauge\n");
            out.push_str(&format!(
                "debrief_action_items_open {}\n",
                stats.open_actions
            ));
            out.push_str(
                "# HELP debrief_action_items_overdue Open action items past their check-in date.\n",
            );
            out.push_str("# TYPE debrief_action_items_overdue gauge\n");
            out.push_str(&format!(
                "debrief_action_items_overdue {}\n",
                stats.overdue_actions
            ));
        }
        Err(e) => tracing::error!(error = %e, "metrics: could not read counts"),
    }
    match state.store().job_counts().await {
        Ok(counts) => {
            out.push_str(
                "# HELP debrief_jobs Background jobs (reminders, sends, digests) by kind and state; parked ones need an admin.\n",
            );
            out.push_str("# TYPE debrief_jobs gauge\n");
            for (kind, job_state, n) in counts {
                out.push_str(&format!(
                    "debrief_jobs{{kind=\"{}\",state=\"{job_state}\"}} {n}\n",
                    metrics::label(&kind)
                ));
            }
        }
        Err(e) => tracing::error!(error = %e, "metrics: could not read job counts"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        error::ApiError::not_found(format!("{} {}", req.method(), req.uri().path())).into_response()
    } else {
        pages::not_found_page().into_response()
    }
}

/// Binds `addr`, prints where Debrief listens (and, with no users yet, the one-time setup link),
/// and serves until Ctrl-C or SIGTERM.
pub async fn serve(store: DynStore, mut config: Config, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    if config.public_url.is_empty() {
        config.public_url = format!("http://{bound}");
    }
    let state = AppState::new(store, config, Arc::new(SystemClock));
    println!("Debrief is listening on {}", state.config().public_url);
    match state.store().count_users().await {
        Ok(0) => match state.new_setup_token() {
            Ok(token) => println!(
                "No users yet. Open this one-time link to create the first admin:\n  {}/setup/{token}",
                state.config().public_url
            ),
            Err(e) => eprintln!("error: cannot make a setup link: {}", e.message),
        },
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot count users: {e}"),
    }
    if state.config().worker.enabled {
        // Logged, not printed: whoever reads stdout for the setup link may have stopped reading.
        let worker = jobs::spawn(&state);
        tracing::info!(
            worker = %worker,
            "follow-through: {}",
            jobs::describe(&state.config().followup, &state.config().worker)
        );
    }
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
}

pub(crate) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
