//! Prometheus metrics in the text exposition format: request counts and latencies per route, and,
//! read from the database at scrape time, postmortems by status and open and overdue action items.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Data {
    /// (method, route, status) → count
    requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → latencies
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    data: Mutex<Data>,
}

impl Metrics {
    /// Records one request. `route` is the matched route pattern (`/api/v1/postmortems/{key}`),
    /// never the raw path, so the number of series stays bounded.
    pub fn record(&self, method: &str, route: &str, status: u16, took: Duration) {
        let Ok(mut data) = self.data.lock() else {
            return;
        };
        *data
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let h = data
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The request metrics, in the exposition format.
    pub fn render(&self, out: &mut String) {
        let Ok(data) = self.data.lock() else {
            return;
        };
        out.push_str(
            "# HELP debrief_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE debrief_http_requests_total counter\n");
        for ((method, route, status), n) in &data.requests {
            let _ = writeln!(
                out,
                "debrief_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str(
            "# HELP debrief_http_request_duration_seconds Time to answer HTTP requests.\n",
        );
        out.push_str("# TYPE debrief_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &data.latency {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "debrief_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "debrief_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "debrief_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "debrief_http_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {}",
                h.count
            );
        }
    }
}

/// Escapes a label value.
pub fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, Duration::from_millis(3));
        m.record("GET", "/healthz", 200, Duration::from_millis(30));
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(
            "debrief_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(out.contains("le=\"0.005\"} 1"));
        assert!(out.contains("le=\"0.05\"} 2"));
        assert!(out.contains("_count{method=\"GET\",route=\"/healthz\"} 2"));
    }
}
