//! What every request handler shares: the store, the configuration, the clock, metrics, the
//! sign-in limiter and the one-time setup token.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

use debrief_core::Zone;
use debrief_store::{DynStore, Store};

use crate::limit::LoginLimiter;
use crate::metrics::Metrics;

/// Where the time comes from: the system clock, or a fixed one in tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address people use to reach Debrief, for links it prints (`http://127.0.0.1:7878`);
    /// empty: the address it listens on.
    pub public_url: String,
    /// Mark cookies `Secure` (set when Debrief is served over HTTPS).
    pub secure_cookies: bool,
    /// How long a browser session lasts.
    pub session_ttl: SignedDuration,
    /// The zone pages show times in.
    pub zone: Zone,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            public_url: String::new(),
            secure_cookies: false,
            session_ttl: SignedDuration::from_hours(12),
            zone: Zone::utc(),
            max_body: 2 * 1024 * 1024,
        }
    }
}

#[derive(Debug)]
struct Inner {
    store: DynStore,
    config: Config,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    limiter: LoginLimiter,
    setup: Mutex<Option<String>>,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(store: DynStore, config: Config, clock: Arc<dyn Clock>) -> AppState {
        AppState(Arc::new(Inner {
            store,
            config,
            clock,
            metrics: Metrics::default(),
            limiter: LoginLimiter::default(),
            setup: Mutex::new(None),
        }))
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn limiter(&self) -> &LoginLimiter {
        &self.0.limiter
    }

    /// Makes a new one-time setup token, valid while no user exists; returns it.
    pub fn new_setup_token(&self) -> crate::error::ApiResult<String> {
        let token = crate::auth::secret()?;
        if let Ok(mut slot) = self.0.setup.lock() {
            *slot = Some(token.clone());
        }
        Ok(token)
    }

    /// Whether `token` is this process's setup token.
    pub fn is_setup_token(&self, token: &str) -> bool {
        self.0
            .setup
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .is_some_and(|t| crate::auth::same(&t, token))
    }

    /// Forgets the setup token once it has been used.
    pub fn clear_setup_token(&self) {
        if let Ok(mut slot) = self.0.setup.lock() {
            *slot = None;
        }
    }
}
