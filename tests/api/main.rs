//! Integration tests: each test starts the real server on port 0 with a fresh
//! database (SQLite by default; PostgreSQL when BEHALF_TEST_POSTGRES_URL is set)
//! and drives it over HTTP as a client would.

mod access_requests;
mod answer_races;
mod authorization_flow;
mod authorize_errors;
mod cli;
mod client_credentials;
mod codes;
mod consent_screen;
mod database_faults;
mod demo;
mod disabled_users;
mod discovery;
mod faults;
mod fixtures;
mod helpers;
mod introspection;
mod introspection_activity;
mod jwt_verifier;
mod key_rotation;
mod login;
mod oidc;
mod operations;
mod pending_limits;
mod persistence;
mod refresh;
mod revocation_sequences;
mod sweep;
mod token_endpoint_errors;
mod token_exchange;
