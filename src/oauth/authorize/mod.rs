//! The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2): request
//! validation, the sign-in and consent decisions, delegated sign-in (`act_as`:
//! an agent acting as a user in an app, DESIGN.md "Delegated sign-in into any
//! OIDC app"), and issuing the code.

pub mod act_as;
pub mod app_consent;
pub mod as_self;
pub mod decision;
pub mod endpoint;
pub mod redirect;
pub mod redirect_uri;
pub mod request;
pub mod response;
pub mod withdraw;
