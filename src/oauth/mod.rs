//! The OAuth 2.0 protocol surface: clients and their authentication (RFC 6749
//! §2.3), scopes (§3.3), audiences (RFC 8707), and the token endpoint (§3.2)
//! with one file per grant.

pub mod audience;
pub mod client_auth;
pub mod client_credentials;
pub mod clients;
pub mod registration;
pub mod scope;
pub mod token_endpoint;
pub mod token_response;
