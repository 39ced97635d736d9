//! The support console (docs/contract.md "Support console"): server-rendered
//! like `/account`, for signed-in agents only (`agent`; docs/security.md M5:
//! it belongs to whoever signed in). `page` renders `GET /console`; `ask` is
//! "Ask for access" (`POST /console/requests`; its form's values and drawing:
//! `ask_form`); `forms` takes "Cancel" and
//! "End access"; `lists` reads the three lists a page at a time; `view` draws
//! them, each request or grant a card of `cards`, the same for the page and
//! for `state` (`GET /console/state`, which `static/behalf.js` polls to update
//! the page without a reload); `notice` words what was just done.

pub mod agent;
pub mod ask;
pub mod ask_form;
pub mod cards;
pub mod forms;
pub mod lists;
pub mod notice;
pub mod page;
pub mod state;
pub mod view;
