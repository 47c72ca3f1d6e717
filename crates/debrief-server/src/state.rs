//! What every request handler shares: the store, the configuration, the clock, metrics, the
//! sign-in limiter and the one-time setup token.

use std::collections::BTreeMap;
use std::fmt;
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
    /// The webhooks: which are enabled with which secret, and which alerts open a draft.
    pub hooks: HookConfig,
    /// When reminders are due (lead time, grace period, …).
    pub followup: debrief_core::FollowupConfig,
    /// How the reminder scan and the job worker run.
    pub worker: crate::jobs::WorkerConfig,
    /// The most bytes of rendered postmortems (JSON documents, pages) kept between requests;
    /// 0 keeps none. See [`crate::cache`].
    pub cache_bytes: usize,
    /// How long a caller found by their session or token is trusted without asking the
    /// database again; zero: every request asks. See [`crate::auth::CallerCache`].
    pub caller_ttl: std::time::Duration,
    /// Certificate authorities trusted for SMTP and webhooks besides the public ones.
    pub ca: crate::notify::TrustedRoots,
}

impl Config {
    /// An absolute link to `path` (`/pm/PM-3`) at the address people use.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            public_url: String::new(),
            secure_cookies: false,
            session_ttl: SignedDuration::from_hours(12),
            zone: Zone::utc(),
            max_body: 2 * 1024 * 1024,
            hooks: HookConfig::default(),
            followup: debrief_core::FollowupConfig::default(),
            worker: crate::jobs::WorkerConfig::default(),
            cache_bytes: 16 * 1024 * 1024,
            caller_ttl: std::time::Duration::from_secs(2),
            ca: crate::notify::TrustedRoots::default(),
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
    linter: Arc<debrief_lint::Linter>,
    deliver: Arc<dyn crate::notify::Deliver>,
    docs: crate::cache::DocCache,
    callers: crate::auth::CallerCache,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(store: DynStore, config: Config, clock: Arc<dyn Clock>) -> AppState {
        let deliver = Arc::new(crate::notify::ChannelSender::new(&config.ca));
        AppState(Arc::new(Inner {
            store,
            docs: crate::cache::DocCache::new(config.cache_bytes),
            callers: crate::auth::CallerCache::new(config.caller_ttl),
            config,
            clock,
            metrics: Metrics::default(),
            limiter: LoginLimiter::default(),
            setup: Mutex::new(None),
            linter: Arc::new(debrief_lint::Linter::builtin()),
            deliver,
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

    /// Rendered postmortems, valid for one revision each.
    pub fn docs(&self) -> &crate::cache::DocCache {
        &self.0.docs
    }

    /// Callers recently found by their session or token.
    pub fn callers(&self) -> &crate::auth::CallerCache {
        &self.0.callers
    }

    /// The blameless linter (built-in rules unless [`AppState::with_linter`] set others).
    pub fn linter(&self) -> &debrief_lint::Linter {
        &self.0.linter
    }

    /// The same state with a linter of a team's own rules.
    #[must_use]
    pub fn with_linter(self, linter: debrief_lint::Linter) -> AppState {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.linter = Arc::new(linter);
                // Pages show the linter's findings: nothing drawn with the old rules stays.
                inner.docs = crate::cache::DocCache::new(inner.config.cache_bytes);
                AppState(Arc::new(inner))
            }
            Err(shared) => AppState(shared),
        }
    }

    /// What sends notifications ([`ChannelSender`](crate::notify::ChannelSender): email,
    /// Slack, webhooks — unless [`AppState::with_deliver`] set another).
    pub fn deliver(&self) -> &dyn crate::notify::Deliver {
        self.0.deliver.as_ref()
    }

    /// The same state delivering reminders through `deliver`. Call it before the state is
    /// cloned: a shared state is returned unchanged.
    #[must_use]
    pub fn with_deliver(self, deliver: Arc<dyn crate::notify::Deliver>) -> AppState {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.deliver = deliver;
                AppState(Arc::new(inner))
            }
            Err(shared) => AppState(shared),
        }
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

/// Where a webhook's payloads come from. Each source has its own hook
/// (`/api/v1/hooks/<source>`) and its own secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookSource {
    Alertmanager,
    Grafana,
    PagerDuty,
    Opsgenie,
    GitHub,
    Generic,
}

impl HookSource {
    pub const ALL: [HookSource; 6] = [
        HookSource::Alertmanager,
        HookSource::Grafana,
        HookSource::PagerDuty,
        HookSource::Opsgenie,
        HookSource::GitHub,
        HookSource::Generic,
    ];

    /// The name in the hook's path and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            HookSource::Alertmanager => "alertmanager",
            HookSource::Grafana => "grafana",
            HookSource::PagerDuty => "pagerduty",
            HookSource::Opsgenie => "opsgenie",
            HookSource::GitHub => "github",
            HookSource::Generic => "generic",
        }
    }
}

impl fmt::Display for HookSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HookSource {
    type Err = String;
    fn from_str(s: &str) -> Result<HookSource, String> {
        let wanted = s.trim().to_ascii_lowercase();
        HookSource::ALL
            .into_iter()
            .find(|h| h.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "{:?} is not a webhook source: expected one of {}",
                    s.trim(),
                    HookSource::ALL.map(HookSource::as_str).join(", ")
                )
            })
    }
}

/// One hook's secret, as written on the command line: `SOURCE=SECRET`
/// (`alertmanager=8d0c…`). Its `Debug` form leaves the secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct HookSecret {
    pub source: HookSource,
    pub secret: String,
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HookSecret({}=…)", self.source)
    }
}

impl std::str::FromStr for HookSecret {
    type Err = String;
    fn from_str(s: &str) -> Result<HookSecret, String> {
        let (source, secret) = s.split_once('=').ok_or_else(|| {
            "expected SOURCE=SECRET, such as alertmanager=a-long-random-secret".to_owned()
        })?;
        let source = source.parse::<HookSource>()?;
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(format!("the secret of the {source} hook is empty"));
        }
        if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "the secret of the {source} hook contains spaces or control characters"
            ));
        }
        Ok(HookSecret {
            source,
            secret: secret.to_owned(),
        })
    }
}

/// One condition of the draft rule: `LABEL=VALUE[,VALUE…]`. It holds when the alert's label has
/// one of the values (compared ignoring case), or any value when the value is `*`. For the
/// `severity` label, an alert without that label is judged by the severity its tool gave it
/// (PagerDuty's priority or urgency, Opsgenie's priority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    pub label: String,
    /// Lower-case values; `*` matches any.
    pub values: Vec<String>,
}

impl LabelMatcher {
    /// Whether `value` (the alert's value of the label, if it has it) satisfies the condition.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return false;
        };
        self.values
            .iter()
            .any(|v| v == "*" || v.eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.label, self.values.join(","))
    }
}

impl std::str::FromStr for LabelMatcher {
    type Err = String;
    fn from_str(s: &str) -> Result<LabelMatcher, String> {
        let (label, values) = s.split_once('=').ok_or_else(|| {
            format!(
                "{:?}: expected LABEL=VALUE[,VALUE…], such as severity=critical,page or team=payments",
                s.trim()
            )
        })?;
        let label = label.trim();
        let valid = !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        if !valid {
            return Err(format!(
                "{label:?} is not a label name: use letters, digits and _ - . /"
            ));
        }
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(format!(
                "{label}: give at least one value (or * for any value)"
            ));
        }
        Ok(LabelMatcher {
            label: label.to_owned(),
            values,
        })
    }
}

/// Which firing alerts open a draft postmortem when their group has none open: those that meet
/// every condition. The default is `severity=critical,high,page,p1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRule {
    pub matchers: Vec<LabelMatcher>,
}

impl Default for DraftRule {
    fn default() -> DraftRule {
        DraftRule {
            matchers: vec![LabelMatcher {
                label: "severity".to_owned(),
                values: ["critical", "high", "page", "p1"]
                    .map(str::to_owned)
                    .to_vec(),
            }],
        }
    }
}

impl DraftRule {
    /// The rule of these conditions; none given: the default.
    pub fn new(matchers: Vec<LabelMatcher>) -> DraftRule {
        if matchers.is_empty() {
            DraftRule::default()
        } else {
            DraftRule { matchers }
        }
    }

    /// Whether an alert with these labels (and this tool-given severity) passes the rule.
    pub fn passes(&self, labels: &BTreeMap<String, String>, severity: Option<&str>) -> bool {
        self.matchers.iter().all(|m| {
            let value = labels
                .get(&m.label)
                .map(String::as_str)
                .or_else(|| (m.label == "severity").then_some(severity).flatten());
            m.matches(value)
        })
    }
}

impl fmt::Display for DraftRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" and "))
    }
}

/// The webhooks' configuration: each enabled hook's secret (a hook without one is disabled and
/// answers 404) and the rule for opening drafts. Its `Debug` form leaves the secrets out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HookConfig {
    secrets: BTreeMap<HookSource, String>,
    pub rule: DraftRule,
}

impl fmt::Debug for HookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookConfig")
            .field("enabled", &self.secrets.keys().collect::<Vec<_>>())
            .field("rule", &self.rule)
            .finish()
    }
}

impl HookConfig {
    /// The configuration of these secrets and this rule; two secrets for one source are refused.
    pub fn new(secrets: Vec<HookSecret>, rule: DraftRule) -> Result<HookConfig, String> {
        let mut config = HookConfig {
            secrets: BTreeMap::new(),
            rule,
        };
        for s in secrets {
            if config.secrets.insert(s.source, s.secret).is_some() {
                return Err(format!(
                    "the {} hook has two secrets: give one per source",
                    s.source
                ));
            }
        }
        Ok(config)
    }

    /// The same configuration with `source`'s hook enabled with `secret`.
    #[must_use]
    pub fn with_secret(mut self, source: HookSource, secret: impl Into<String>) -> HookConfig {
        self.secrets.insert(source, secret.into());
        self
    }

    /// The secret of `source`'s hook; `None`: the hook is disabled.
    pub fn secret(&self, source: HookSource) -> Option<&str> {
        self.secrets.get(&source).map(String::as_str)
    }

    /// The enabled hooks.
    pub fn enabled(&self) -> impl Iterator<Item = HookSource> + '_ {
        self.secrets.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_secrets_parse_and_stay_out_of_debug() {
        let s: HookSecret = "Alertmanager=s3cret".parse().expect("secret");
        assert_eq!(
            (s.source, s.secret.as_str()),
            (HookSource::Alertmanager, "s3cret")
        );
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!("slack=x".parse::<HookSecret>().is_err());
        assert!("github=".parse::<HookSecret>().is_err());
        assert!("github".parse::<HookSecret>().is_err());
        let config = HookConfig::new(vec![s.clone()], DraftRule::default()).expect("config");
        assert_eq!(config.secret(HookSource::Alertmanager), Some("s3cret"));
        assert_eq!(config.secret(HookSource::GitHub), None);
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(HookConfig::new(vec![s.clone(), s], DraftRule::default()).is_err());
    }

    #[test]
    fn the_draft_rule_needs_every_condition() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let default = DraftRule::default();
        assert!(default.passes(&labels(&[("severity", "Critical")]), None));
        assert!(default.passes(&labels(&[("severity", "page")]), None));
        assert!(!default.passes(&labels(&[("severity", "warning")]), None));
        assert!(!default.passes(&labels(&[]), None));
        // Without a severity label, the tool's own severity decides (PagerDuty urgency, …).
        assert!(default.passes(&labels(&[]), Some("high")));
        assert!(default.passes(&labels(&[]), Some("P1")));

        let rule = DraftRule::new(vec![
            "severity=critical".parse().expect("matcher"),
            "team=payments,checkout".parse().expect("matcher"),
        ]);
        assert_eq!(
            rule.to_string(),
            "severity=critical and team=payments,checkout"
        );
        assert!(rule.passes(
            &labels(&[("severity", "critical"), ("team", "checkout")]),
            None
        ));
        assert!(!rule.passes(
            &labels(&[("severity", "critical"), ("team", "search")]),
            None
        ));
        let any: DraftRule = DraftRule::new(vec!["team=*".parse().expect("matcher")]);
        assert!(any.passes(&labels(&[("team", "x")]), None));
        assert!(!any.passes(&labels(&[]), None));
        assert!("=x".parse::<LabelMatcher>().is_err());
        assert!("team=".parse::<LabelMatcher>().is_err());
        assert_eq!(DraftRule::new(Vec::new()), DraftRule::default());
    }
}
