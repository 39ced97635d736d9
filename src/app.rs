//! The state every handler shares: settings, the database, the key ring, the
//! client registry and the clock. Built once by `startup`.

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::consent::throttle::LoginThrottle;
use crate::oauth::clients::ClientRegistry;
use crate::store::Database;
use crate::tokens::keyring::KeyRing;
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
    pub login_throttle: LoginThrottle,
}

pub type AppState = Arc<App>;

impl App {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}
