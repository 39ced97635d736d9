//! Builds the application from settings: database (migrated), key-encryption
//! key, signing keys, client registry and router; binds the listener and hands
//! back the bound address, so tests can listen on port 0.

use crate::app::{App, AppState};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http;
use crate::oauth::clients::ClientRegistry;
use crate::store::Database;
use crate::tokens::kek;
use crate::tokens::keyring::KeyRing;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    address: SocketAddr,
    state: AppState,
    listener: TcpListener,
}

impl Application {
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, String> {
        let kek = kek::resolve(&settings)?;
        let db = Database::connect(settings.backend()?)
            .await
            .map_err(|e| e.to_string())?;
        let listen = settings.listen_addr()?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("listen (BEHALF_LISTEN): cannot listen on {listen}: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let issuer = settings.issuer.clone().unwrap_or_else(|| {
            let host = if address.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                address.ip().to_string()
            };
            format!("http://{host}:{}", address.port())
        });
        // A retired key stays published while tokens it signed may still be live.
        let retire_after = settings
            .access_token_ttl_seconds
            .max(settings.policy.delegated_token_ttl_seconds)
            + 60;
        let keys = KeyRing::new(kek, retire_after, settings.access_token_algorithm);
        keys.ensure_keys(&db, clock.now())
            .await
            .map_err(|e| format!("signing keys: {e}"))?;
        let default_audience = settings
            .policy
            .default_audience
            .clone()
            .unwrap_or_else(|| issuer.clone());
        let trusted_proxies = settings.trusted_proxy_addrs()?;
        let state = Arc::new(App {
            clients: ClientRegistry::new(db.clone()),
            trusted_proxies,
            settings,
            issuer,
            default_audience,
            db,
            keys,
            clock,
            metrics: http::metrics::recorder(),
            verified: Default::default(),
            deferred_audit: Default::default(),
        });
        Ok(Self {
            address,
            state,
            listener,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until SIGINT or SIGTERM, re-reading signing keys in the background,
    /// deleting expired rows (`sweep`) and folding latency samples into the histograms (the Prometheus recorder
    /// keeps raw samples until upkeep runs: without it memory grows with traffic).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.state.metrics.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.run_upkeep();
            }
        });
        let state = self.state.clone();
        let refresh = Duration::from_secs(state.settings.key_refresh_seconds);
        let reloader = tokio::spawn(async move {
            let mut tick = tokio::time::interval(refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = state.keys.reload(&state.db).await {
                    tracing::warn!(error = %e, "could not re-read signing keys");
                }
            }
        });
        let state = self.state.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::sweep::EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = crate::sweep::sweep(&state).await {
                    tracing::warn!(error = %e, "could not delete expired rows");
                }
            }
        });
        let service = http::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        sweeper.abort();
        reloader.abort();
        upkeep.abort();
        result
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("can listen for SIGTERM");
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}
