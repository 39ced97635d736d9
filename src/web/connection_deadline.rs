//! One connection's deadlines (docs/security.md L3): a request head must be
//! complete within the header-read timeout of its first byte, however slowly
//! it trickles in (slowloris), and a connection with no request in flight
//! where no byte moves for the idle timeout is closed (an idle keep-alive or
//! a client that stopped reading). Wraps the socket; the connection's service
//! tells it when a head is complete through `RequestsSeen`.
//!
//! hyper's own `header_read_timeout` also runs while a keep-alive connection
//! waits for its next request, so it would close every idle connection after
//! the header timeout; these two deadlines keep the two settings apart.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub header_read: Duration,
    pub idle: Duration,
}

/// What the connection's service reports: a head was complete (a request
/// began), and how many requests are being answered now.
#[derive(Debug, Default)]
pub struct RequestsSeen {
    started: AtomicU64,
    in_flight: AtomicUsize,
}

impl RequestsSeen {
    /// Called as a request reaches the service; the guard ends it.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

pub struct InFlight(Arc<RequestsSeen>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, closed with `TimedOut` when a deadline passes.
pub struct DeadlineIo<T> {
    io: T,
    limits: Deadlines,
    seen: Arc<RequestsSeen>,
    /// `started` as last looked at: a change means the head being read is done.
    heads_done: u64,
    head_began: Option<Instant>,
    last_activity: Instant,
    timer: Pin<Box<Sleep>>,
    armed_for: Instant,
}

impl<T> DeadlineIo<T> {
    pub fn new(io: T, limits: Deadlines, seen: Arc<RequestsSeen>) -> Self {
        let now = Instant::now();
        let first = now + limits.idle;
        Self {
            io,
            limits,
            seen,
            heads_done: 0,
            head_began: None,
            last_activity: now,
            timer: Box::pin(tokio::time::sleep_until(first)),
            armed_for: first,
        }
    }

    fn note_heads(&mut self) {
        let started = self.seen.started.load(Ordering::Relaxed);
        if started != self.heads_done {
            self.heads_done = started;
            self.head_began = None;
        }
    }

    fn busy(&self) -> bool {
        self.seen.in_flight.load(Ordering::Relaxed) > 0
    }

    fn moved(&mut self, read: bool) {
        let now = Instant::now();
        self.last_activity = now;
        self.note_heads();
        if read && self.head_began.is_none() && !self.busy() {
            self.head_began = Some(now);
        }
    }

    /// When this connection ends unless something happens; none while a
    /// request is answered (the request timeout bounds that).
    fn deadline(&mut self) -> Option<Instant> {
        self.note_heads();
        if self.busy() {
            return None;
        }
        Some(match self.head_began {
            Some(began) => began + self.limits.header_read,
            None => self.last_activity + self.limits.idle,
        })
    }

    /// Called when the socket has nothing for now: arms the timer, or fails
    /// once the deadline has passed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(deadline) = self.deadline() else {
            return Poll::Pending;
        };
        if deadline != self.armed_for {
            self.timer.as_mut().reset(deadline);
            self.armed_for = deadline;
        }
        ready!(self.timer.as_mut().poll(cx));
        let why = if self.head_began.is_some() {
            "the request head did not arrive within the header read timeout"
        } else {
            "the connection was idle past the idle timeout"
        };
        Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, why))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved(true);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.moved(false);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            done => done,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.moved(false);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
