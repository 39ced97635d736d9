//! Operations endpoints: liveness and readiness (`/healthz`, `/readyz`) and
//! Prometheus metrics (`/metrics`).

pub mod health;
pub mod metrics;
