//! What people see: server-rendered pages (tera), browser sessions with CSRF
//! tokens, sign-in with throttling, and the account page. Every HTML response
//! leaves through `pages`, which sets the security headers (DESIGN.md
//! "Consent screen"; SECURITY.md J1–J6).

pub mod account;
pub mod account_actions;
pub mod login;
pub mod pages;
pub mod return_to;
pub mod session;
pub mod throttle;
