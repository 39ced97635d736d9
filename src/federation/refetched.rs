//! A document fetched from an IdP and kept (its discovery document and key
//! set): fetched once and shared by every request; fetched again when a
//! caller finds it wanting (a token signed with a key it does not hold, an
//! hour old), at most once a minute (docs/security.md O4), one fetch at a
//! time; a fetch that fails keeps what was held. With nothing held yet, a
//! failed fetch is tried again after 5 s, not at every request.

use super::fetch::{TIMEOUT, Unreachable};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// At most one fetch a minute once a document is held.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// With nothing held, a failed fetch is retried after this long.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// A held document older than this is fetched again at the next use.
const FRESH_FOR: Duration = Duration::from_secs(3600);

pub struct Refetched<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    held: Option<(Arc<T>, Instant)>,
    last_attempt: Option<(Instant, Option<Unreachable>)>,
}

impl<T> Default for Refetched<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                held: None,
                last_attempt: None,
            }),
        }
    }
}

impl<T> Refetched<T> {
    /// The document, fetched with `fetch` when nothing is held, when it is
    /// old, or when `wanting` (the caller found it lacking) and the last
    /// fetch is over a minute old.
    pub async fn get<F, Fut>(&self, wanting: bool, fetch: F) -> Result<Arc<T>, Unreachable>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Unreachable>>,
    {
        let mut state = self.state.lock().await;
        let since_attempt = state.last_attempt.as_ref().map(|(at, _)| at.elapsed());
        match &state.held {
            Some((held, fetched_at)) => {
                let stale = wanting || fetched_at.elapsed() >= FRESH_FOR;
                if !stale || since_attempt.is_some_and(|s| s < REFETCH_AT_MOST_EVERY) {
                    return Ok(held.clone());
                }
            }
            None => {
                if let Some((at, Some(failure))) = &state.last_attempt
                    && at.elapsed() < RETRY_AFTER_FAILURE
                {
                    return Err(failure.clone());
                }
            }
        }
        let fetched = match tokio::time::timeout(TIMEOUT, fetch()).await {
            Ok(fetched) => fetched,
            Err(_) => Err(Unreachable(format!(
                "no answer within {:.1} s",
                TIMEOUT.as_secs_f32()
            ))),
        };
        let now = Instant::now();
        match fetched {
            Ok(document) => {
                let document = Arc::new(document);
                state.held = Some((document.clone(), now));
                state.last_attempt = Some((now, None));
                Ok(document)
            }
            Err(failure) => {
                state.last_attempt = Some((now, Some(failure.clone())));
                match &state.held {
                    // What was held still serves; the caller decides if it is enough.
                    Some((held, _)) => Ok(held.clone()),
                    None => Err(failure),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_wanting_caller_refetches_at_most_once_a_minute() {
        let cache: Refetched<usize> = Refetched::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async { Ok::<_, Unreachable>(fetches.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(*cache.get(false, fetch).await.unwrap(), 1);
        assert_eq!(*cache.get(false, fetch).await.unwrap(), 1, "held");
        assert_eq!(
            *cache.get(true, fetch).await.unwrap(),
            1,
            "refetched within the minute"
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn with_nothing_held_a_failure_is_not_retried_at_once() {
        let cache: Refetched<usize> = Refetched::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Err::<usize, _>(Unreachable("down".into()))
        };
        assert!(cache.get(false, fetch).await.is_err());
        assert!(cache.get(false, fetch).await.is_err());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
