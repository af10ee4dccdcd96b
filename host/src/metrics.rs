//! `/metrics`: Prometheus text. Counts and codes only, never patient data.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A request's route (the matched pattern, never the raw path) and status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// `GET`, `POST`, ...
    pub method: String,
    /// `/api/v1/protocols/{name}`, or `unmatched`.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// An issue code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    /// `out_of_range`, `missing`, ...
    pub code: String,
}

/// Why a call into the module failed.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// `trap` or `timeout`.
    pub kind: &'static str,
}

/// How processing a submission ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `processed`, `retry` or `failed`.
    pub outcome: &'static str,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RouteLabels, Counter>,
    /// Latency by route and status, seconds.
    pub latency: Family<RouteLabels, Histogram>,
    /// Instances running a request now.
    pub busy: Gauge,
    /// Requests waiting for an instance.
    pub queued: Gauge,
    /// Requests refused with 503 because the queue was full or too slow.
    pub rejected: Counter,
    /// Calls that trapped or ran past their CPU bound.
    pub failures: Family<FailureLabels, Counter>,
    /// Records validated.
    pub records: Counter,
    /// Issues found, by code.
    pub issues: Family<CodeLabels, Counter>,
    /// Submissions accepted (stored).
    pub submissions: Counter,
    /// Submission processing attempts, by outcome.
    pub processed: Family<OutcomeLabels, Counter>,
}

impl Metrics {
    /// Registers every metric; `workers` is the pool's size.
    pub fn new(workers: u32) -> Metrics {
        let mut registry = Registry::with_prefix("clinval");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0, 60.0,
            ])
        });
        let size = Gauge::<i64>::default();
        size.set(i64::from(workers));
        let metrics = Metrics {
            requests,
            latency,
            busy: Gauge::default(),
            queued: Gauge::default(),
            rejected: Counter::default(),
            failures: Family::default(),
            records: Counter::default(),
            issues: Family::default(),
            submissions: Counter::default(),
            processed: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status",
            metrics.latency.clone(),
        );
        registry.register("pool_size", "Wasm instances in the pool", size);
        registry.register(
            "pool_busy",
            "Wasm instances serving a request",
            metrics.busy.clone(),
        );
        registry.register(
            "pool_queued",
            "Requests waiting for a wasm instance",
            metrics.queued.clone(),
        );
        registry.register(
            "pool_rejected",
            "Requests answered 503 because the queue was full",
            metrics.rejected.clone(),
        );
        registry.register(
            "engine_failures",
            "Module calls that trapped or ran past their CPU bound",
            metrics.failures.clone(),
        );
        registry.register(
            "records_validated",
            "Records validated",
            metrics.records.clone(),
        );
        registry.register("issues", "Issues found, by code", metrics.issues.clone());
        registry.register(
            "submissions_accepted",
            "ePRO submissions stored",
            metrics.submissions.clone(),
        );
        registry.register(
            "submissions_processed",
            "Submission processing attempts, by outcome",
            metrics.processed.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts a validation's records and its issues by code.
    pub fn count_summary(&self, summary: &clinval_core::Summary) {
        self.records.inc_by(summary.records);
        for (code, count) in &summary.by_code {
            self.issues
                .get_or_create(&CodeLabels { code: code.clone() })
                .inc_by(*count);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
