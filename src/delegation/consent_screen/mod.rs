//! The consent screen (docs/contract.md "Consent screen"): `page` renders
//! `GET /account`, `forms` takes its POSTs and renders refusals as pages.

pub mod activity;
pub mod forms;
pub mod page;
