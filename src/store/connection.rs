//! Opening one connection: the backend's own connection type behind
//! `AnyConnection`, with the per-connection SQLite settings; and `StoreError`,
//! what every storage call fails with.

use super::{AnyConnection, Backend};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::fmt;

/// A busy timeout instead of immediate SQLITE_BUSY (first: switching to WAL
/// must itself wait while another process closes or checkpoints the file), WAL
/// for concurrent readers, FULL so that a committed revocation survives power
/// loss, foreign keys enforced, and a 1 MiB page cache per connection (the OS
/// page cache holds the rest).
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -1024;";

/// Anything that kept the database from answering. The HTTP edge turns it into 503.
#[derive(Debug)]
pub enum StoreError {
    Unavailable(String),
    Query(diesel::result::Error),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "database unavailable: {why}"),
            Self::Query(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Query(e)
    }
}

pub fn establish(backend: &Backend) -> Result<AnyConnection, StoreError> {
    let unavailable = |e: ConnectionError| StoreError::Unavailable(e.to_string());
    match backend {
        Backend::Sqlite(path) => {
            super::owner_only::create_owner_only(path)?;
            let mut conn = SqliteConnection::establish(path).map_err(unavailable)?;
            conn.batch_execute(SQLITE_SETUP)?;
            Ok(AnyConnection::Sqlite(conn))
        }
        Backend::Postgres(url) => Ok(AnyConnection::Postgresql(
            PgConnection::establish(url).map_err(unavailable)?,
        )),
    }
}
