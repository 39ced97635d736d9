//! Integration tests: each test starts the real server on port 0 with a fresh
//! database (SQLite by default; PostgreSQL when BEHALF_TEST_POSTGRES_URL is set)
//! and drives it over HTTP as a client would.

mod access_requests;
mod agent_lists;
mod allow_support_access;
mod answer_races;
mod app_consents;
mod audit_chain;
mod authorization_flow;
mod authorize_errors;
mod cache_and_body_limits;
mod cli;
mod cli_operator;
mod client_credentials;
mod codes;
mod connection_limits;
mod consent_screen;
mod consent_screen_product;
mod database_faults;
mod demo;
mod disabled_users;
mod discovery;
mod faults;
mod file_modes;
mod fixtures;
mod helpers;
mod hostile_input;
mod introspection;
mod introspection_activity;
mod jwt_verifier;
mod key_rotation;
mod log_forging;
mod login;
mod metrics_labels;
mod oidc;
mod operations;
mod operator_logs;
mod pending_limits;
mod persistence;
mod readiness;
mod refresh;
mod revocation_sequences;
mod sign_in_throttle;
mod sweep;
mod token_endpoint_errors;
mod token_exchange;
