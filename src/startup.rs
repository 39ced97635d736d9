//! Builds the application from settings: binds the listener (and the metrics
//! listener, with `metrics_listen`) before anything is created, then the database
//! (migrated), key-encryption key, signing keys, client registry and router
//! (`routes`); hands back the bound address, so tests can listen on port 0; serves through `web::serve` (the
//! connection cap and deadlines, docs/security.md L3). Runs the
//! background work (key reload, sweep, the outbox deliverer, metrics upkeep) and, at a graceful
//! shutdown, writes the deferred audit events before returning.

use crate::app::{App, AppState};
use crate::audit;
use crate::clients::ClientRegistry;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::federation::Federation;
use crate::routes;
use crate::secret::Secret;
use crate::store::Database;
use crate::store::audit_events;
use crate::store::signing_keys::SigningKeyRow;
use crate::tokens::kek::{self, KeyEncryptionKey};
use crate::tokens::keyring::KeyRing;
use crate::tokens::server_mac::ServerMac;
use crate::web::connection_deadline::Deadlines;
use crate::web::serve::{ConnectionLimits, serve};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    address: SocketAddr,
    state: AppState,
    listener: TcpListener,
    /// `/metrics` apart from the main listener (`metrics_listen`).
    metrics_listener: Option<(SocketAddr, TcpListener)>,
}

impl Application {
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, String> {
        // The listeners first: a port in use stops the start before a database
        // or key file is created.
        let listen = settings.listen_addr()?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("listen (BEHALF_LISTEN): cannot listen on {listen}: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let metrics_listener = match settings.metrics_listen_addr()? {
            Some(listen) => {
                let listener = TcpListener::bind(listen).await.map_err(|e| {
                    format!(
                        "metrics_listen (BEHALF_METRICS_LISTEN): cannot listen on {listen}: {e}"
                    )
                })?;
                Some((listener.local_addr().map_err(|e| e.to_string())?, listener))
            }
            None => None,
        };
        let (db, root) = open_database(&settings, clock.now()).await?;
        let (keys, mac) = key_ring(&settings, &root);
        let issuer = settings.issuer.clone().unwrap_or_else(|| {
            let host = if address.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                address.ip().to_string()
            };
            format!("http://{host}:{}", address.port())
        });
        keys.ensure_keys(&db, clock.now())
            .await
            .map_err(|e| format!("signing keys: {e}"))?;
        let default_audience = settings
            .policy
            .default_audience
            .clone()
            .unwrap_or_else(|| issuer.clone());
        let trusted_proxies = settings.trusted_proxy_addrs()?;
        let password_checks = tokio::sync::Semaphore::new(settings.sign_in.checks_at_once);
        let federation = Federation::new(&settings, &issuer)?;
        let state = Arc::new(App {
            federation,
            clients: ClientRegistry::new(db.clone()),
            password_checks,
            trusted_proxies,
            settings,
            issuer,
            default_audience,
            db,
            keys,
            mac,
            clock,
            metrics: Default::default(),
            verified: Default::default(),
            deferred_audit: Default::default(),
            outbox_due: Default::default(),
        });
        Ok(Self {
            address,
            state,
            listener,
            metrics_listener,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served when `metrics_listen` moves it off the main listener.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|(address, _)| *address)
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until SIGINT or SIGTERM, re-reading signing keys in the background,
    /// deleting expired rows (`sweep`), delivering the outbox (`outbox::run`) and
    /// folding latency samples into the histograms (the Prometheus recorder
    /// keeps raw samples until upkeep runs: without it memory grows with traffic).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let mut background = Background::default();
        let state = self.state.clone();
        background.0.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                state.metrics.run_upkeep();
            }
        }));
        let state = self.state.clone();
        let refresh = Duration::from_secs(state.settings.key_refresh_seconds);
        background.0.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = state.keys.reload(&state.db).await {
                    tracing::warn!(error = %e, "could not re-read signing keys");
                }
            }
        }));
        let state = self.state.clone();
        background.0.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::sweep::EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = crate::sweep::sweep(&state).await {
                    tracing::warn!(error = %e, "could not delete expired rows");
                }
            }
        }));
        background
            .0
            .push(tokio::spawn(crate::outbox::run(self.state.clone())));
        let state = self.state.clone();
        let limits = ConnectionLimits {
            deadlines: Deadlines {
                header_read: Duration::from_secs(state.settings.header_read_timeout_seconds),
                idle: Duration::from_secs(state.settings.idle_timeout_seconds),
            },
            max_connections: state.settings.max_connections,
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let metrics = self.metrics_listener.map(|(_, listener)| {
            let router = routes::metrics_router(state.clone());
            let mut stopped = stopped.clone();
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            tokio::spawn(serve(listener, router, limits, stop))
        });
        let router = routes::router(self.state, metrics.is_none());
        serve(self.listener, router, limits, async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await;
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        drop(background);
        // Events queued by the last answers are written before the process ends.
        state.deferred_audit.flush(&state.db).await;
        Ok(())
    }
}

/// The background tasks of a running server, aborted when this is dropped:
/// at shutdown, and also when the future serving is dropped before it ends
/// (a test stopping its server), so that no task outlives its server.
#[derive(Default)]
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Opens and migrates the database, then resolves the key-encryption key's
/// root secret (a missing key file is refused when the database holds keys
/// sealed under it) and keys the audit chain with it, re-keying a trail an
/// earlier version wrote (`audit::rekey`). Every command opens the database so.
pub async fn open_database(
    settings: &Settings,
    now: i64,
) -> Result<(Database, Secret<[u8; 32]>), String> {
    let backend = settings.backend()?;
    let db = Database::connect(backend.clone())
        .await
        .map_err(|e| e.to_string())?;
    let sealed_in_database = db
        .run(|c| {
            Ok(!SigningKeyRow::all(c)?.is_empty()
                || !crate::store::webhooks::WebhookRow::all(c)?.is_empty()
                || audit_events::first_of_era(c, None)?.is_some())
        })
        .await
        .map_err(|e| e.to_string())?;
    let root = kek::resolve(
        settings.key_encryption_key_bytes()?,
        &backend,
        sealed_in_database,
    )?;
    let db = db.with_audit_chain(audit::chain_key(&root));
    audit::rekey(&db, now)
        .await
        .map_err(|e| format!("audit trail: {e}"))?;
    Ok((db, root))
}

/// The key ring and server MAC under `root`; `serve` and `keys` share it.
pub fn key_ring(settings: &Settings, root: &Secret<[u8; 32]>) -> (KeyRing, ServerMac) {
    // A retired key stays published while tokens it signed may still be live.
    let retire_after = settings
        .access_token_ttl_seconds
        .max(settings.policy.delegated_token_ttl_seconds)
        + 60;
    let ring = KeyRing::new(
        KeyEncryptionKey::from_bytes(root),
        retire_after,
        settings.access_token_algorithm,
    );
    (ring, ServerMac::derive(root))
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
