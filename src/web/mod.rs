//! The HTTP toolkit every handler uses, and that knows no handler: the strict
//! OAuth form extractor and parameter declarations (`form`), bearer tokens
//! (`bearer`), the client's address behind trusted proxies (`client_address`),
//! cookies (`cookies`), pages and their security headers (`pages`), sessions
//! and CSRF (`session`), the sign-in form's stateless CSRF (`login_csrf`),
//! safe return paths (`return_to`), JSON error answers (`json`), `no-store`
//! on token and agent-API paths (`no_store`), JSON 413s (`too_large`), the
//! 404 of a path nothing serves (`not_found`), the
//! refusal of control characters in a request URI (`uri_guard`), and the
//! accept loop with its connection cap and deadlines (`serve`,
//! `connection_deadline`).

pub mod bearer;
pub mod client_address;
pub mod connection_deadline;
pub mod cookies;
pub mod form;
pub mod json;
pub mod login_csrf;
pub mod no_store;
pub mod not_found;
pub mod pages;
pub mod request_log;
pub mod return_to;
pub mod serve;
pub mod session;
pub mod too_large;
pub mod uri_guard;
