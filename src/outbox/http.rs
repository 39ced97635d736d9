//! The outbox's HTTP side, shared by every kind that posts: the one client
//! (a 10 s limit per attempt, connecting included; redirects not followed)
//! and what a failed request was, in words, never with its URL or body.

use std::error::Error;
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

/// A failed request in words: what went wrong and its causes, without the URL.
pub fn in_words(error: &reqwest::Error) -> String {
    let mut words = if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut cause = error.source();
    while let Some(e) = cause {
        words.push_str(": ");
        words.push_str(&e.to_string());
        cause = e.source();
    }
    words.chars().take(MAX_ERROR_CHARS).collect()
}
