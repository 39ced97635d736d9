//! Slow and idle connections (docs/security.md L3), as an attacker holds them:
//! raw TCP, a request head trickled in a line at a time (slowloris), or
//! connections opened and left silent. The header read timeout closes the
//! first; the idle timeout and the connection cap bound the others, and at the
//! cap a newcomer is told so at once (503, `Connection: close`).
//!
//! Both ends of every connection are in this process: 2,000 held connections
//! take ~3,500 descriptors, under the soft limit of the machines these run on
//! (`ulimit -n` 20,000). Where it is lower, raise it (`ulimit -n 8192`) first.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What the server sent until it closed the connection, or `None` if it was
/// still open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = timeout(wait, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("the server accepts TCP connections")
}

/// Opens `count` connections that send nothing.
async fn hold_idle(app: &TestApp, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(connect(app).await);
    }
    held
}

/// Waits `wait` on every connection of `held` at once: the number the
/// server answered with the refusal and closed, and those still open.
async fn sort_out_refused(held: Vec<TcpStream>, wait: Duration) -> (usize, Vec<TcpStream>) {
    let mut reads = tokio::task::JoinSet::new();
    for mut stream in held {
        reads.spawn(async move {
            let answer = read_until_closed(&mut stream, wait).await;
            (answer, stream)
        });
    }
    let mut refused = 0;
    let mut open = Vec::new();
    for (answer, stream) in reads.join_all().await {
        match answer {
            Some(answer) => {
                assert_is_the_refusal(&answer);
                refused += 1;
            }
            None => open.push(stream),
        }
    }
    (refused, open)
}

/// Waits `wait` on every connection at once: how many the server closed
/// without a word, and how many are still open.
async fn sort_out_refused_or_closed(held: Vec<TcpStream>, wait: Duration) -> (usize, usize) {
    let mut reads = tokio::task::JoinSet::new();
    for mut stream in held {
        reads.spawn(async move { read_until_closed(&mut stream, wait).await });
    }
    let answers = reads.join_all().await;
    let closed = answers
        .iter()
        .flatten()
        .inspect(|a| assert_eq!(*a, ""))
        .count();
    (closed, answers.len() - closed)
}

fn assert_is_the_refusal(answer: &str) {
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("connection: close"), "{answer:?}");
    assert!(
        lower.contains("content-type: application/json"),
        "{answer:?}"
    );
    assert!(
        answer.contains(r#""error":"temporarily_unavailable""#),
        "{answer:?}"
    );
}

/// What a new connection hears before it says anything. (One that has already
/// sent its request when it is refused may see a reset instead of the 503:
/// the server closes without reading it.)
async fn a_newcomer_hears(app: &TestApp) -> String {
    let mut stream = connect(app).await;
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the refusal, then the close")
}

async fn healthz_on_a_new_connection(app: &TestApp) -> String {
    let mut stream = connect(app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("an answer, then the close")
}

#[tokio::test]
async fn a_request_head_trickled_a_line_a_second_is_cut_at_the_header_read_timeout() {
    let app = TestApp::spawn_configured(|s| s.header_read_timeout_seconds = 2).await;
    let mut stream = connect(&app).await;
    let began = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut closed_after = None;
    for line in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let header = format!("x-slow-{line}: {line}\r\n");
        let wrote = stream.write_all(header.as_bytes()).await;
        let mut probe = [0u8; 1];
        let open = match timeout(Duration::from_millis(10), stream.read(&mut probe)).await {
            Err(_) => wrote.is_ok(),
            Ok(Ok(0)) | Ok(Err(_)) => false,
            Ok(Ok(_)) => panic!("the server answered a request whose head never ended"),
        };
        if !open {
            closed_after = Some(began.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the server closed the slow connection within 10 s");
    assert!(
        closed_after >= Duration::from_secs(2) && closed_after < Duration::from_secs(4),
        "closed after {closed_after:?}, the header read timeout being 2 s"
    );
    // The server itself is fine.
    assert!(
        healthz_on_a_new_connection(&app)
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_at_the_idle_timeout_and_keep_alive_outlives_the_header_timeout()
 {
    let app = TestApp::spawn_configured(|s| {
        s.header_read_timeout_seconds = 1;
        s.idle_timeout_seconds = 3;
    })
    .await;
    // Silent from the start: closed at the idle timeout, not before.
    let mut silent = connect(&app).await;
    let began = Instant::now();
    // Kept alive between two requests for longer than the header timeout.
    let mut kept = connect(&app).await;
    let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut buf = [0u8; 1024];
    kept.write_all(request).await.unwrap();
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    kept.write_all(request).await.unwrap();
    let n = timeout(Duration::from_secs(2), kept.read(&mut buf))
        .await
        .expect("an answer on the kept-alive connection")
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "an idle keep-alive connection is not cut by the header read timeout"
    );
    assert_eq!(
        read_until_closed(&mut silent, Duration::from_secs(5)).await,
        Some(String::new()),
        "the silent connection is closed without an answer"
    );
    let closed_after = began.elapsed();
    assert!(
        closed_after >= Duration::from_millis(2900) && closed_after < Duration::from_secs(5),
        "closed after {closed_after:?}, the idle timeout being 3 s"
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_newcomer_is_refused_clearly_and_served_once_below() {
    let app = TestApp::spawn_configured(|s| s.max_connections = 50).await;
    let held = hold_idle(&app, 60).await;
    let (refused, mut held) = sort_out_refused(held, Duration::from_millis(500)).await;
    assert_eq!(refused, 10, "the ten past the cap are refused");
    assert_eq!(held.len(), 50, "the fifty below it are kept");
    assert_is_the_refusal(&a_newcomer_hears(&app).await);
    // Below the cap again: served.
    held.truncate(30);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn two_thousand_idle_connections_are_refused_past_the_cap_then_time_out_and_healthz_answers()
{
    let app = TestApp::spawn_configured(|s| {
        s.max_connections = 1500;
        s.idle_timeout_seconds = 3;
    })
    .await;
    let began = Instant::now();
    let held = hold_idle(&app, 2000).await;
    assert_is_the_refusal(&a_newcomer_hears(&app).await);
    let (refused, held) = sort_out_refused(held, Duration::from_secs(1)).await;
    assert_eq!(refused, 500, "those past the cap of 1,500 are refused");
    assert_eq!(held.len(), 1500);
    // The idle timeout gives every descriptor back; the server answers again.
    let (closed, still_open) = sort_out_refused_or_closed(held, Duration::from_secs(6)).await;
    assert_eq!(
        (closed, still_open),
        (1500, 0),
        "every idle connection was closed by the server"
    );
    assert!(
        began.elapsed() < Duration::from_secs(9),
        "{:?}",
        began.elapsed()
    );
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
