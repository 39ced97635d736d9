//! The OAuth 2.0 / OpenID Connect protocol surface: client authentication
//! (RFC 6749 §2.3) and registration rules, scopes (§3.3), audiences (RFC 8707),
//! the authorization endpoint (§3.1, PKCE), the token endpoint (§3.2) with one
//! file per grant, introspection (RFC 7662), revocation (RFC 7009), UserInfo
//! (OIDC Core §5.3), discovery (RFC 8414, OIDC Discovery), the JWKS (RFC 7517),
//! back-channel logout tokens (OIDC Back-Channel Logout 1.0) and the Shared
//! Signals transmitter metadata (`ssf_configuration`).

pub mod audience;
pub mod audit_checkpoint;
pub mod authorization_code;
pub mod authorize;
pub mod backchannel_logout;
pub mod ciba;
pub mod client_auth;
pub mod client_credentials;
pub mod delegated_session;
pub mod discovery;
pub mod introspection;
pub mod jwks;
pub mod pkce;
pub mod refresh_token;
pub mod registration;
pub mod revocation;
pub mod scope;
pub mod scope_words;
pub mod ssf_configuration;
pub mod token_endpoint;
pub mod token_exchange;
pub mod token_response;
pub mod token_state;
pub mod user_tokens;
pub mod userinfo;
