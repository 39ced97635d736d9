//! Delegated access (docs/contract.md "Concepts", "Access requests API",
//! "Consent screen"): agents' access requests, users' grants (recorded
//! consent), the delegation policy, and the two ways in: the agents' JSON API
//! (`api` and its lists `api_lists`, paged by `paging`, authenticated by
//! `agent_auth`) and the users' consent screen
//! (`consent_screen`), and the agents' support console (`console`); the
//! forms of both offer `choices` and are read by `sent_fields`. Decisions are pure functions; refusals are
//! `Refusal`, rendered once for JSON and once for pages. Expiry is decided at
//! read time.

pub mod agent_auth;
pub mod api;
pub mod api_lists;
pub mod backchannel_authentication;
pub mod choices;
pub mod consent_screen;
pub mod console;
pub mod events;
pub mod grants;
pub mod paging;
pub mod policy;
pub mod refusal;
pub mod requests;
pub mod sent_fields;
