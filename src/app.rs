//! The state every handler shares: settings, the database, the key ring, the
//! client registry and the clock. Built once by `startup`.

use crate::audit::Deferred;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::oauth::clients::ClientRegistry;
use crate::store::Database;
use crate::tokens::access_token::AccessTokenClaims;
use crate::tokens::keyring::KeyRing;
use crate::tokens::verified_cache::VerifiedCache;
use crate::tokens::verifier::VerifyError;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

pub struct App {
    pub settings: Settings,
    /// The `iss` of every token, without a trailing slash.
    pub issuer: String,
    /// `aud` when a client asks for none.
    pub default_audience: String,
    pub db: Database,
    pub keys: KeyRing,
    pub clients: ClientRegistry,
    pub clock: SharedClock,
    pub metrics: PrometheusHandle,
    pub verified: VerifiedCache,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`http::client_address`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Audit events written after the answer (see `audit::Deferred`).
    pub deferred_audit: Deferred,
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
}
