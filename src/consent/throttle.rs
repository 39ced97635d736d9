//! Sign-in throttling (SECURITY.md J4): failed attempts are counted per account
//! name (known or not, so the limit reveals nothing) and per client address in
//! a sliding window. In memory, per instance: several instances each apply it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub const WINDOW_SECONDS: i64 = 15 * 60;
pub const MAX_PER_ACCOUNT: usize = 5;
pub const MAX_PER_ADDRESS: usize = 20;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl LoginThrottle {
    fn count(map: &mut HashMap<String, VecDeque<i64>>, key: &str, now: i64) -> usize {
        let Some(times) = map.get_mut(key) else {
            return 0;
        };
        while times.front().is_some_and(|t| *t <= now - WINDOW_SECONDS) {
            times.pop_front();
        }
        times.len()
    }

    /// Whether another attempt for `account` from `address` may be checked now.
    pub fn allows(&self, account: &str, address: &str, now: i64) -> bool {
        let mut map = self.failures.lock().expect("throttle lock");
        Self::count(
            &mut map,
            &format!("account:{}", account.to_lowercase()),
            now,
        ) < MAX_PER_ACCOUNT
            && Self::count(&mut map, &format!("address:{address}"), now) < MAX_PER_ADDRESS
    }

    pub fn record_failure(&self, account: &str, address: &str, now: i64) {
        let mut map = self.failures.lock().expect("throttle lock");
        for key in [
            format!("account:{}", account.to_lowercase()),
            format!("address:{address}"),
        ] {
            map.entry(key).or_default().push_back(now);
        }
        // Bound memory under a spray of names: forget windows that have passed.
        if map.len() > 100_000 {
            map.retain(|_, times| times.back().is_some_and(|t| *t > now - WINDOW_SECONDS));
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().expect("throttle lock");
        map.remove(&format!("account:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_five_failures_until_the_window_passes() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT {
            assert!(throttle.allows("alice", "1.2.3.4", 100));
            throttle.record_failure("alice", "1.2.3.4", 100);
        }
        assert!(
            !throttle.allows("alice", "5.6.7.8", 101),
            "from any address"
        );
        assert!(throttle.allows("bob", "5.6.7.8", 101));
        assert!(throttle.allows("alice", "5.6.7.8", 100 + WINDOW_SECONDS));
    }

    #[test]
    fn an_address_is_throttled_across_account_names() {
        let throttle = LoginThrottle::default();
        for i in 0..MAX_PER_ADDRESS {
            throttle.record_failure(&format!("user{i}"), "9.9.9.9", 0);
        }
        assert!(!throttle.allows("someone-new", "9.9.9.9", 1));
        assert!(throttle.allows("someone-new", "8.8.8.8", 1));
    }
}
