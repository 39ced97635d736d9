//! The OAuth 2.0 / OpenID Connect protocol surface: clients and their
//! authentication (RFC 6749 §2.3), scopes (§3.3), audiences (RFC 8707), the
//! authorization endpoint (§3.1, PKCE), the token endpoint (§3.2) with one file
//! per grant, and UserInfo (OIDC Core §5.3).

pub mod audience;
pub mod authorization_code;
pub mod authorize;
pub mod client_auth;
pub mod client_credentials;
pub mod clients;
pub mod introspection;
pub mod pkce;
pub mod refresh_token;
pub mod registration;
pub mod revocation;
pub mod scope;
pub mod token_endpoint;
pub mod token_exchange;
pub mod token_response;
pub mod token_state;
pub mod user_tokens;
pub mod userinfo;
