//! The state every handler shares: settings, the database, the key ring, the
//! server MAC, the client registry, the clock, the metrics, the deferred
//! audit queue, the bound on password checks, the outbox deliverer's
//! wake-up and the identity providers behalf works beside. Built once by `startup`. Handlers take `State<AppState>` and
//! hand each domain function only the parts it needs.

use crate::audit::Deferred;
use crate::clients::ClientRegistry;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::federation::Federation;
use crate::store::Database;
use crate::telemetry::Metrics;
use crate::tokens::access_token::AccessTokenClaims;
use crate::tokens::keyring::KeyRing;
use crate::tokens::server_mac::ServerMac;
use crate::tokens::verified_cache::VerifiedCache;
use crate::tokens::verifier::VerifyError;
use std::sync::Arc;

pub struct App {
    pub settings: Settings,
    /// The `iss` of every token, without a trailing slash.
    pub issuer: String,
    /// `aud` when a client asks for none.
    pub default_audience: String,
    pub db: Database,
    pub keys: KeyRing,
    pub mac: ServerMac,
    pub clients: ClientRegistry,
    pub clock: SharedClock,
    pub metrics: Metrics,
    pub verified: VerifiedCache,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`web::client_address`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Audit events written after the answer (see `audit::Deferred`).
    pub deferred_audit: Deferred,
    /// Password checks allowed to run at once (`[sign_in] checks_at_once`):
    /// argon2id's memory stays bounded whatever arrives (docs/security.md L1).
    pub password_checks: tokio::sync::Semaphore,
    /// Told when a change made outbox rows due at once (a grant ended), so
    /// the deliverer (`crate::outbox`) need not wait for its next tick.
    pub outbox_due: tokio::sync::Notify,
    /// The `[[upstream]]` IdPs and `[[trusted_issuer]]`s, with what they published.
    pub federation: Federation,
}

pub type AppState = Arc<App>;

impl App {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Verifies one of our access tokens (signature, issuer, `typ`, time) at `now`.
    pub fn verify_access_token(&self, token: &str) -> Result<AccessTokenClaims, VerifyError> {
        self.verified
            .verify(&self.keys.snapshot(), &self.issuer, token, self.now())
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Whether the session cookie must be `Secure` (an https issuer).
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}
