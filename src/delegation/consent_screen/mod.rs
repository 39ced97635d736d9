//! The consent screen (docs/contract.md "Consent screen"): `page` renders
//! `GET /account` from the `cards`, `times`, `labels` and `notice`, `forms`
//! takes its POSTs and renders refusals as pages, `allow_support` is the
//! "Allow support access" form, `home` answers `GET /`.

pub mod activity;
pub mod allow_support;
pub mod cards;
pub mod forms;
pub mod home;
pub mod labels;
pub mod notice;
pub mod page;
pub mod times;
