//! The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2): request
//! validation, the sign-in and consent decisions, and issuing the code.

pub mod app_consent;
pub mod decision;
pub mod endpoint;
pub mod redirect;
pub mod redirect_uri;
pub mod request;
pub mod response;
pub mod withdraw;
