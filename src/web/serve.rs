//! The accept loop (docs/security.md L3): HTTP/1.1 over hyper with each
//! connection under its deadlines (`connection_deadline`), at most
//! `max_connections` open at once, and a graceful shutdown that lets the
//! requests in flight finish. `axum::serve` has none of these knobs.
//!
//! At the cap a new connection is answered at once with a fixed
//! `503 Service Unavailable` (`Connection: close`, a JSON body in the shape of
//! RFC 6749 §5.2) and closed: the client learns why instead of waiting in the
//! listen queue, and the descriptor is given back at once. Handlers keep
//! `ConnectInfo<SocketAddr>`.

use super::connection_deadline::{DeadlineIo, Deadlines, RequestsSeen};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::Service;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub deadlines: Deadlines,
    pub max_connections: usize,
}

const REFUSAL_BODY: &str =
    r#"{"error":"temporarily_unavailable","error_description":"too many connections; try again"}"#;

/// The whole answer to a connection past the cap.
fn refusal() -> Vec<u8> {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         cache-control: no-store\r\nretry-after: 1\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{REFUSAL_BODY}",
        REFUSAL_BODY.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for
/// the open connections to finish their requests and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusal = refusal();
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (or a connection reset before accept):
                    // wait a moment rather than spin; the loop goes on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(stream, &refusal);
            tracing::debug!(%remote, "connection refused: at max_connections");
            continue;
        };
        let router = router.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(stream, remote, router, limits.deadlines, stopping).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection has closed.
    let _ = slots.acquire_many(limits.max_connections as u32).await;
}

/// Writes the refusal and closes, without waiting: a fresh socket's send
/// buffer takes it whole (through the plain socket: tokio's own `try_write`
/// declines until the reactor has seen the socket writable). If it cannot,
/// the client gets the close alone.
fn refuse(stream: TcpStream, refusal: &[u8]) {
    use std::io::Write;
    if let Ok(mut socket) = stream.into_std() {
        let _ = socket.write(refusal);
    }
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let seen = Arc::new(RequestsSeen::default());
    let io = TokioIo::new(DeadlineIo::new(stream, deadlines, seen.clone()));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let in_flight = seen.begin();
        request.extensions_mut().insert(ConnectInfo(remote));
        // A router is always ready: `call` needs no `poll_ready` first.
        let response = router.clone().call(request);
        async move {
            let response = response.await;
            drop(in_flight);
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = async { stopping.wait_for(|stop| *stop).await.map(|_| ()) } => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%remote, error = %e, "connection closed");
    }
}
