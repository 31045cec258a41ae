//! Counters behind `/_anyray/metrics`, rendered in the Prometheus text format.
//! Labels are routes, statuses and gateway URLs only: never anything from a request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::routes::Route;

/// Latency buckets in seconds: LLM calls run from milliseconds to many minutes.
const BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

#[derive(Default)]
pub(super) struct Metrics {
    /// (route, status) → upstream or "-" → count.
    requests: Mutex<BTreeMap<(Route, u16), BTreeMap<String, u64>>>,
    in_flight: AtomicI64,
    connect_errors: Mutex<BTreeMap<String, u64>>,
    fail_open: AtomicU64,
    /// Unix seconds of the last request that failed open, and of the last one a gateway
    /// answered (0: none yet): the status line says "unmetered" while the first is newer.
    last_fail_open: AtomicU64,
    last_gateway: AtomicU64,
    total_seconds: [Histogram; Route::ALL.len()],
    ttfb_seconds: [Histogram; Route::ALL.len()],
}

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, route: Route) {
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{}\",le=\"{le}\"}} {cumulative}",
                route.key()
            );
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{route=\"{}\"}} {sum}", route.key());
        let _ = writeln!(
            out,
            "{name}_count{{route=\"{}\"}} {cumulative}",
            route.key()
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub(super) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request that was started and then handed to another path, which counts it.
    pub(super) fn abandoned(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(super) fn finished(
        &self,
        route: Route,
        status: u16,
        upstream: Option<&str>,
        fail_open: bool,
        ttfb: Option<Duration>,
        total: Duration,
    ) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let upstream = upstream.unwrap_or("-");
        let mut requests = lock(&self.requests);
        let by_upstream = requests.entry((route, status)).or_default();
        // Look up before inserting: the label is only copied the first time it is seen.
        match by_upstream.get_mut(upstream) {
            Some(count) => *count += 1,
            None => {
                by_upstream.insert(upstream.to_string(), 1);
            }
        }
        drop(requests);
        if fail_open {
            self.fail_open.fetch_add(1, Ordering::Relaxed);
            self.last_fail_open.store(unix_now(), Ordering::Relaxed);
        } else if upstream != "-" {
            self.last_gateway.store(unix_now(), Ordering::Relaxed);
        }
        self.total_seconds[route.index()].observe(total);
        if let Some(ttfb) = ttfb {
            self.ttfb_seconds[route.index()].observe(ttfb);
        }
    }

    /// What the relay's health endpoint says about failing open.
    pub(super) fn fail_open_state(&self) -> FailOpenState {
        let at = |t: &AtomicU64| Some(t.load(Ordering::Relaxed)).filter(|&t| t > 0);
        FailOpenState {
            fail_open_total: self.fail_open.load(Ordering::Relaxed),
            last_fail_open: at(&self.last_fail_open),
            last_gateway_answer: at(&self.last_gateway),
        }
    }

    pub(super) fn connect_error(&self, upstream: &str) {
        *lock(&self.connect_errors)
            .entry(upstream.to_string())
            .or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4), with each upstream's URL and
    /// whether its last connect worked.
    pub(super) fn render<'a>(
        &self,
        upstreams: impl Iterator<Item = (&'a str, bool)> + Clone,
    ) -> String {
        let mut out = String::new();
        out.push_str("# HELP anyray_relay_requests_total Requests answered, by route, status and upstream.\n");
        out.push_str("# TYPE anyray_relay_requests_total counter\n");
        for ((route, status), by_upstream) in lock(&self.requests).iter() {
            for (upstream, n) in by_upstream {
                let _ = writeln!(
                    out,
                    "anyray_relay_requests_total{{route=\"{}\",status=\"{status}\",upstream=\"{}\"}} {n}",
                    route.key(),
                    escape(upstream)
                );
            }
        }
        out.push_str("# HELP anyray_relay_in_flight Requests in progress.\n");
        out.push_str("# TYPE anyray_relay_in_flight gauge\n");
        let _ = writeln!(out, "anyray_relay_in_flight {}", self.in_flight());
        out.push_str(
            "# HELP anyray_relay_upstream_connect_errors_total Failed connects, by upstream.\n",
        );
        out.push_str("# TYPE anyray_relay_upstream_connect_errors_total counter\n");
        let errors = lock(&self.connect_errors);
        for (url, _) in upstreams.clone() {
            let n = errors.get(url).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "anyray_relay_upstream_connect_errors_total{{upstream=\"{}\"}} {n}",
                escape(url)
            );
        }
        drop(errors);
        out.push_str(
            "# HELP anyray_relay_upstream_up Whether the last connect to the upstream worked.\n",
        );
        out.push_str("# TYPE anyray_relay_upstream_up gauge\n");
        for (url, up) in upstreams {
            let _ = writeln!(
                out,
                "anyray_relay_upstream_up{{upstream=\"{}\"}} {}",
                escape(url),
                u8::from(up)
            );
        }
        out.push_str("# HELP anyray_relay_fail_open_total Requests sent to a provider's public API because no gateway was reachable.\n");
        out.push_str("# TYPE anyray_relay_fail_open_total counter\n");
        let _ = writeln!(
            out,
            "anyray_relay_fail_open_total {}",
            self.fail_open.load(Ordering::Relaxed)
        );
        out.push_str("# HELP anyray_relay_last_fail_open_timestamp_seconds When a request last failed open (0: never).\n");
        out.push_str("# TYPE anyray_relay_last_fail_open_timestamp_seconds gauge\n");
        let _ = writeln!(
            out,
            "anyray_relay_last_fail_open_timestamp_seconds {}",
            self.last_fail_open.load(Ordering::Relaxed)
        );
        for (name, help, hists) in [
            (
                "anyray_relay_request_duration_seconds",
                "Time from request to the end of the response.",
                &self.total_seconds,
            ),
            (
                "anyray_relay_time_to_first_byte_seconds",
                "Time from request to the first response body byte.",
                &self.ttfb_seconds,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} histogram");
            for route in Route::ALL {
                hists[route.index()].render(&mut out, name, route);
            }
        }
        out
    }
}

/// The relay's fail-open record, in `/_anyray/health` (docs/gateway-contract.md).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(super) struct FailOpenState {
    pub fail_open_total: u64,
    /// Unix seconds; `null` when no request has failed open since the relay started.
    pub last_fail_open: Option<u64>,
    /// Unix seconds of the last request a gateway answered.
    pub last_gateway_answer: Option<u64>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway_url::Provider;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let m = Metrics::default();
        m.started();
        m.finished(
            Route::Provider(Provider::Openai),
            200,
            Some("http://gw"),
            false,
            Some(Duration::from_millis(20)),
            Duration::from_millis(300),
        );
        m.started();
        m.connect_error("http://gw");
        let text = m.render([("http://gw", false)].into_iter());
        assert!(text.contains(
            "anyray_relay_requests_total{route=\"openai\",status=\"200\",upstream=\"http://gw\"} 1"
        ));
        assert!(text.contains("anyray_relay_in_flight 1"));
        assert!(
            text.contains("anyray_relay_upstream_connect_errors_total{upstream=\"http://gw\"} 1")
        );
        assert!(text.contains("anyray_relay_upstream_up{upstream=\"http://gw\"} 0"));
        assert!(text.contains(
            "anyray_relay_request_duration_seconds_bucket{route=\"openai\",le=\"0.25\"} 0"
        ));
        assert!(text.contains(
            "anyray_relay_request_duration_seconds_bucket{route=\"openai\",le=\"0.5\"} 1"
        ));
        assert!(text.contains(
            "anyray_relay_request_duration_seconds_bucket{route=\"openai\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("anyray_relay_time_to_first_byte_seconds_count{route=\"openai\"} 1"));
    }
}
