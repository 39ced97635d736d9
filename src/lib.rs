//! behalf: an OAuth 2.0 / OpenID Connect authorization server for consent-based
//! delegated access. See ARCHITECTURE.md for the map of this crate.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consent;
pub mod delegation;
pub mod error;
pub mod http;
pub mod oauth;
pub mod random;
pub mod secret;
pub mod startup;
pub mod store;
pub mod sweep;
pub mod telemetry;
pub mod tokens;
