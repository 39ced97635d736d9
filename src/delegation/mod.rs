//! Delegated access (DESIGN.md "Concepts", "Access requests API"): agents' access
//! requests, users' grants (recorded consent), the delegation policy, and the
//! agent-facing JSON API. Expiry is decided at read time against the clock.

pub mod agent_auth;
pub mod api;
pub mod error;
pub mod grants;
pub mod policy;
pub mod requests;
