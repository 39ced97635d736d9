//! Structured logs on stderr, as text or JSON (`--log-format json`), and each
//! server's own Prometheus recorder (`Metrics`). Handlers never log tokens,
//! secrets or passwords; the request span carries only the method, path and
//! request id. The text format escapes control characters in every field
//! value (`escaped_fields`, docs/security.md L7).

mod escaped_fields;
pub mod grant_events;

use metrics::{Key, KeyName, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.fmt_fields(escaped_fields::EscapedFields).try_init(),
    };
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// One server's metrics. Not the process-wide `metrics` facade: every server
/// (and so every test) counts on a recorder of its own.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("buckets are not empty")
            .build_recorder();
        // `# HELP` lines: Prometheus shows them; without them each series is a bare name.
        recorder.describe_counter(
            KeyName::from_const_str("http_requests_total"),
            None,
            "HTTP requests answered, by method (known methods, else other), route template and status".into(),
        );
        recorder.describe_histogram(
            KeyName::from_const_str("http_request_duration_seconds"),
            Some(Unit::Seconds),
            "Time to answer an HTTP request, by route template".into(),
        );
        recorder.describe_counter(
            KeyName::from_const_str("behalf_tokens_issued_total"),
            None,
            "Tokens issued by the token endpoint, by grant".into(),
        );
        let handle = recorder.handle();
        Self { recorder, handle }
    }
}

impl Metrics {
    /// One HTTP request: `http_requests_total` and `http_request_duration_seconds`.
    /// Every label must come from a closed set (docs/security.md L4): a label
    /// a client can choose is a series it can add, and they are never dropped.
    pub fn request(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        let labels = vec![
            Label::new("method", method),
            Label::new("route", route.to_string()),
            Label::new("status", status.to_string()),
        ];
        self.recorder
            .register_counter(&Key::from_parts("http_requests_total", labels), &METADATA)
            .increment(1);
        let route = vec![Label::new("route", route.to_string())];
        self.recorder
            .register_histogram(
                &Key::from_parts("http_request_duration_seconds", route),
                &METADATA,
            )
            .record(took.as_secs_f64());
    }

    /// One token issued by the token endpoint under `grant`.
    pub fn token_issued(&self, grant: &'static str) {
        let labels = vec![Label::new("grant", grant)];
        self.recorder
            .register_counter(
                &Key::from_parts("behalf_tokens_issued_total", labels),
                &METADATA,
            )
            .increment(1);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds raw latency samples into the histograms; without it memory grows with traffic.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}
