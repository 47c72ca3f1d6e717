//! Sign-in rate limiting: at most [`PER_ACCOUNT`] failed attempts per email and [`PER_ADDRESS`]
//! per client address within [`WINDOW`]. Kept in memory: each instance limits what it sees, which
//! bounds guessing to a small multiple of the limit per instance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub const WINDOW: SignedDuration = SignedDuration::from_mins(15);
pub const PER_ACCOUNT: usize = 5;
pub const PER_ADDRESS: usize = 30;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Timestamp>>>,
}

impl LoginLimiter {
    fn keys(email: &str, addr: Option<IpAddr>) -> [(String, usize); 2] {
        [
            (
                format!("email:{}", email.trim().to_lowercase()),
                PER_ACCOUNT,
            ),
            (
                format!("addr:{}", addr.map(|a| a.to_string()).unwrap_or_default()),
                PER_ADDRESS,
            ),
        ]
    }

    /// `Some(wait)` when sign-in is refused for now: too many recent failures.
    pub fn check(
        &self,
        email: &str,
        addr: Option<IpAddr>,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let mut map = self.failures.lock().ok()?;
        let mut wait = None;
        for (key, max) in Self::keys(email, addr) {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                if times.len() >= max {
                    let oldest = times.iter().min().copied().unwrap_or(now);
                    let w = WINDOW - now.duration_since(oldest);
                    wait = Some(wait.map_or(w, |x: SignedDuration| x.max(w)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, email: &str, addr: Option<IpAddr>, now: Timestamp) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
            }
            for (key, _) in Self::keys(email, addr) {
                map.entry(key).or_default().push(now);
            }
        }
    }

    /// A successful sign-in clears the account's failures.
    pub fn succeeded(&self, email: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("email:{}", email.trim().to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_account_for_the_window() {
        let l = LoginLimiter::default();
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().expect("time");
        for _ in 0..PER_ACCOUNT {
            assert!(l.check("ana@example.com", None, t0).is_none());
            l.failed("ana@example.com", None, t0);
        }
        assert!(l.check("ANA@example.com", None, t0).is_some());
        assert!(l.check("bo@example.com", None, t0).is_none());
        let later = t0 + WINDOW;
        assert!(l.check("ana@example.com", None, later).is_none());
    }
}
