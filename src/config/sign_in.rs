//! The `[sign_in]` table: the throttle's limits and the bound on password checks
//! running at once (docs/contract.md "Limits", docs/security.md J4, L1, L2).
//! Each is also a `BEHALF_SIGN_IN_*` variable.

use serde::Deserialize;

/// Environment variables (after `BEHALF_`) that belong to this table.
pub const ENV_KEYS: &[&str] = &[
    "sign_in_max_failures",
    "sign_in_max_failures_per_address",
    "sign_in_window_seconds",
    "sign_in_checks_at_once",
    "sign_in_check_wait_ms",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignInLimits {
    /// Attempts not yet succeeded, per account name (or per device cookie), in a window.
    pub max_failures: i64,
    /// Attempts not yet succeeded from one client address, whatever the names, in a window.
    pub max_failures_per_address: i64,
    /// The sliding window the counts cover.
    pub window_seconds: i64,
    /// Password checks (argon2id, 7 MiB each) running at once on one instance.
    pub checks_at_once: usize,
    /// How long an attempt waits for a check to free up before it is told to retry (503).
    pub check_wait_ms: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_failures_per_address: 20,
            window_seconds: 15 * 60,
            checks_at_once: 4,
            check_wait_ms: 1000,
        }
    }
}

impl SignInLimits {
    pub(super) fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_failures", self.max_failures),
            ("max_failures_per_address", self.max_failures_per_address),
            ("window_seconds", self.window_seconds),
            ("checks_at_once", self.checks_at_once as i64),
        ];
        for (name, value) in positive {
            if value <= 0 {
                return Err(format!(
                    "sign_in.{name} (BEHALF_SIGN_IN_{}): must be positive",
                    name.to_uppercase()
                ));
            }
        }
        Ok(())
    }
}
