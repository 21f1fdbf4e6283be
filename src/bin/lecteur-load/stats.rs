//! Latencies and errors gathered by the clients, and their summary.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What one client saw.
#[derive(Default)]
pub(crate) struct Tally {
    /// Latencies per method name, in microseconds.
    pub latencies: BTreeMap<&'static str, Vec<u32>>,
    /// Errors by kind (`data.kind` of an API error, or what failed on the wire).
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    pub(crate) fn record(&mut self, method: &'static str, took: Duration) {
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.latencies.entry(method).or_default().push(us);
    }

    pub(crate) fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (m, mut l) in other.latencies {
            self.latencies.entry(m).or_default().append(&mut l);
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
    }
}

/// Throughput and latency of one method, or of all.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The value below which `q` of the sorted samples fall (nearest rank).
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

pub(crate) fn summarise(mut samples: Vec<u32>, elapsed: Duration) -> Summary {
    samples.sort_unstable();
    Summary {
        requests: samples.len() as u64,
        per_second: samples.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: quantile(&samples, 0.50),
        p99_ms: quantile(&samples, 0.99),
        max_ms: samples.last().map_or(0.0, |m| f64::from(*m) / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let s: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(quantile(&s, 0.5), 50.0);
        assert_eq!(quantile(&s, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.99), 0.0);
        let sum = summarise(s, Duration::from_secs(2));
        assert_eq!((sum.requests, sum.per_second, sum.max_ms), (100, 50.0, 100.0));
    }
}
