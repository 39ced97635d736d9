//! The outbox's HTTP side, shared by every kind that posts: the one client
//! (a 10 s limit per attempt, connecting included; redirects not followed)
//! and what a failed request was, in words, never with its URL or body.

use crate::federation::fetch::failure_in_words;
use std::time::Duration;

/// The longest one attempt may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 300;

pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("behalf/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A failed request in words: what went wrong and its causes, without the
/// URL, at most `MAX_ERROR_CHARS`.
pub fn in_words(error: &reqwest::Error) -> String {
    failure_in_words(error, TIMEOUT)
        .chars()
        .take(MAX_ERROR_CHARS)
        .collect()
}
