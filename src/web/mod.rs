//! The HTTP toolkit every handler uses, and that knows no handler: the strict
//! OAuth form extractor and parameter declarations (`form`), bearer tokens
//! (`bearer`), the client's address behind trusted proxies (`client_address`),
//! cookies (`cookies`), pages and their security headers (`pages`), sessions
//! and CSRF (`session`), the sign-in form's stateless CSRF (`login_csrf`),
//! safe return paths (`return_to`), JSON error answers (`json`) and the
//! refusal of control characters in a request URI (`uri_guard`).

pub mod bearer;
pub mod client_address;
pub mod cookies;
pub mod form;
pub mod json;
pub mod login_csrf;
pub mod pages;
pub mod return_to;
pub mod session;
pub mod uri_guard;
