//! The consent screen (docs/contract.md "Consent screen"): `page` renders
//! `GET /account` from the `cards`, `times`, `labels` and `notice`, `forms`
//! takes its POSTs and renders refusals as pages, `allow_support` gives
//! "Allow support access" (its form's values and drawing: `allow_form`), `activity` words a grant's activity a page at
//! a time and `activity_page` shows all of it
//! (`GET /account/grants/{id}/activity`), `home` answers `GET /`, `mail_note`
//! says whether the user is mailed.

pub mod activity;
pub mod activity_page;
pub mod allow_form;
pub mod allow_support;
pub mod cards;
pub mod forms;
pub mod home;
pub mod labels;
pub mod mail_note;
pub mod notice;
pub mod page;
pub mod times;
