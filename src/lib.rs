//! behalf: an OAuth 2.0 / OpenID Connect authorization server for consent-based
//! delegated access. ARCHITECTURE.md maps this crate and the rule of which
//! module may import which; docs/contract.md is the external contract.

// Foundations: no imports from the crate beyond each other.
pub mod clock;
pub mod digest;
pub mod random;
pub mod secret;
pub mod telemetry;

// Storage, keys, the audit trail, settings, clients.
pub mod audit;
pub mod clients;
pub mod config;
pub mod error;
pub mod federation;
pub mod store;
pub mod tokens;

// The HTTP toolkit every handler uses, and the state handlers share.
pub mod app;
pub mod web;

// The domain: the protocol, people's accounts, delegated access, operations,
// and the outbox that tells other systems.
pub mod accounts;
pub mod delegation;
pub mod oauth;
pub mod ops;
pub mod outbox;
pub mod sweep;

// Wiring: the OpenAPI document of the handlers, paths to handlers, the
// server, the command line.
pub mod cli;
pub mod openapi;
pub mod routes;
pub mod startup;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod test_rows;
