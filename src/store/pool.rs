//! The connection pool (deadpool over blocking diesel connections), per-connection
//! SQLite settings, and the migrations applied at start.

use super::chain_key::ChainKey;
use super::connection::{StoreError, establish};
use super::writer::{GroupWriter, Job, Ran};
use super::{AnyConnection, Backend};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_sync::SyncWrapper;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tracing::Instrument;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Whether `error` says the connection itself is gone (the server restarted or
/// dropped it): such a connection is discarded, never handed out again.
fn connection_lost(error: &StoreError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        StoreError::Query(
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) | Error::BrokenTransactionManager
        )
    )
}

pub struct Manager {
    backend: Backend,
}

impl managed::Manager for Manager {
    type Type = SyncWrapper<AnyConnection>;
    type Error = StoreError;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        let backend = self.backend.clone();
        SyncWrapper::new(deadpool::Runtime::Tokio1, move || establish(&backend)).await
    }

    async fn recycle(&self, conn: &mut Self::Type, _: &Metrics) -> RecycleResult<Self::Error> {
        if conn.is_mutex_poisoned() {
            return Err(RecycleError::message("connection poisoned by a panic"));
        }
        // A PostgreSQL connection's liveness is not checked here but in the
        // same hop as the work (`Database::run_then`): a check here would cost
        // a thread hop and a round trip per checkout (bench/README.md "PostgreSQL").
        Ok(())
    }
}

/// The application's handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: managed::Pool<Manager>,
    /// SQLite only: the group-commit writer every transaction goes through.
    writer: Option<std::sync::Arc<GroupWriter>>,
    /// The key audit appends chain under, in scope in every closure run here
    /// (`ChainKey::in_scope`); without one, appends fail.
    audit_chain: Option<std::sync::Arc<ChainKey>>,
}

impl Database {
    /// Opens the pool and applies pending migrations.
    pub async fn connect(backend: Backend) -> Result<Self, StoreError> {
        let size = match backend {
            // Reads are point lookups that finish in microseconds; writes have their own thread.
            Backend::Sqlite(_) => 4,
            Backend::Postgres(_) => 16,
        };
        let pool = managed::Pool::builder(Manager {
            backend: backend.clone(),
        })
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut db = Self {
            pool,
            writer: None,
            audit_chain: None,
        };
        db.run(migrate).await?;
        if let Backend::Sqlite(_) = backend {
            db.writer = Some(std::sync::Arc::new(GroupWriter::start(backend)?));
        }
        Ok(db)
    }

    /// This database with `key` as the audit chain's key.
    pub fn with_audit_chain(mut self, key: ChainKey) -> Self {
        self.audit_chain = Some(std::sync::Arc::new(key));
        self
    }

    /// The audit chain's key, if the database was given one.
    pub fn audit_chain(&self) -> Option<&ChainKey> {
        self.audit_chain.as_deref()
    }

    /// Runs read-only `work` where it costs least. On SQLite in WAL mode a
    /// reader never waits for a writer and a point lookup or a page of a list
    /// takes microseconds, so it runs on the request's own thread, saving two
    /// thread hops on the hot paths (introspection, bearer checks, the agent
    /// API's lists) and the memory of extra blocking threads (bench/README.md
    /// "Profiles"). On PostgreSQL it goes to the blocking pool like every other call.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        if self.writer.is_none() {
            // PostgreSQL: reads start without a liveness check; one that finds
            // its connection gone (a restart, `pg_terminate_backend`) runs
            // again, once, on a fresh one (the dead ones were dropped).
            let again = work.clone();
            return match self
                .run_then(work, Liveness::Unchecked, lost_connection)
                .await
            {
                Err(e) if connection_lost(&e) => {
                    self.run_then(again, Liveness::Unchecked, lost_connection)
                        .await
                }
                outcome => outcome,
            };
        }
        let conn = self.checkout().await?;
        let mut guard = conn
            .lock()
            .map_err(|_| StoreError::Unavailable("connection poisoned".into()))?;
        // One read transaction for the whole of `work`: SQLite takes its WAL read
        // lock (`fcntl` on the `-shm` file) once rather than once per statement,
        // about a tenth of introspection's CPU (bench/README.md "Profiles"),
        // and every statement reads the same snapshot.
        ChainKey::in_scope(self.audit_chain.as_ref(), || {
            guard.transaction::<_, StoreError, _>(|c| work(c))
        })
    }

    /// Runs `work` on a pooled connection on the blocking pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_then(work, Liveness::Checked, lost_connection)
            .await
    }

    /// As `run`; a connection whose outcome `lost` says is gone is dropped.
    /// On PostgreSQL, `Liveness::Checked` work starts only on a connection
    /// that answered `SELECT 1` in the same hop; one that does not is dropped
    /// with every idle one (a restart leaves them all dead) and the work is
    /// handed to a fresh connection, never having run.
    async fn run_then<T, F>(
        &self,
        mut work: F,
        liveness: Liveness,
        lost: impl Fn(&Result<T, StoreError>) -> bool,
    ) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let check = matches!(liveness, Liveness::Checked);
        for _attempt in 0..2 {
            let conn = self.checkout().await?;
            let span = tracing::Span::current();
            let chain = self.audit_chain.clone();
            let ran = conn
                .interact(move |c| {
                    let postgres = matches!(c, AnyConnection::Postgresql(_));
                    if check && postgres && diesel::sql_query("SELECT 1").execute(c).is_err() {
                        return Err(work);
                    }
                    Ok(span.in_scope(|| ChainKey::in_scope(chain.as_ref(), || work(c))))
                })
                .instrument(tracing::Span::current())
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            match ran {
                Ok(outcome) => {
                    if lost(&outcome) {
                        self.discard(conn);
                    }
                    return outcome;
                }
                Err(not_run) => {
                    self.discard(conn);
                    work = not_run;
                }
            }
        }
        Err(StoreError::Unavailable(
            "no database connection answered".into(),
        ))
    }

    /// A pooled connection, or why there is none (the pool's own errors as `Unavailable`).
    async fn checkout(&self) -> Result<managed::Object<Manager>, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            managed::PoolError::Backend(e) => e,
            other => StoreError::Unavailable(other.to_string()),
        })
    }

    /// Drops a connection found dead, and the idle ones with it: what killed
    /// one (a PostgreSQL restart) most likely killed them all.
    fn discard(&self, conn: managed::Object<Manager>) {
        drop(managed::Object::take(conn));
        self.pool.retain(|_, _| false);
    }
}

/// Whether PostgreSQL work first checks that its connection is alive.
#[derive(Clone, Copy)]
enum Liveness {
    /// `SELECT 1` before the work (in the same hop): writes, and work that
    /// cannot simply be run again.
    Checked,
    /// No check: reads, which run again once when the connection was gone.
    Unchecked,
}

fn lost_connection<T>(outcome: &Result<T, StoreError>) -> bool {
    outcome.as_ref().err().is_some_and(connection_lost)
}

/// The error of a transaction: the store failed, or the domain decided to abort
/// (rolling back) with its own error `E`.
#[derive(Debug)]
pub enum TxError<E> {
    Store(StoreError),
    Abort(E),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

impl<E> From<StoreError> for TxError<E> {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Database {
    /// Runs `work` in one transaction: committed on `Ok`, rolled back on `Err`.
    ///
    /// On SQLite it joins the next group commit of the writer thread (see
    /// `writer`), inside a savepoint of its own; the answer comes after the
    /// commit. On PostgreSQL it runs on a pooled connection.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, TxError<E>>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, TxError<E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return self
                .run_then(
                    move |c| Ok(c.transaction(work)),
                    Liveness::Checked,
                    |outcome| matches!(outcome, Ok(Err(TxError::Store(e))) if connection_lost(e)),
                )
                .await
                .map_err(TxError::Store)?;
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let chain = self.audit_chain.clone();
        let job: Job = Box::new(move |c| {
            let outcome =
                span.in_scope(|| ChainKey::in_scope(chain.as_ref(), || c.transaction(work)));
            Ran {
                database_failed: matches!(outcome, Err(TxError::Store(_))),
                finish: Box::new(move |committed: Result<(), StoreError>| {
                    let _ = answer.send(committed.map_err(TxError::Store).and(outcome));
                }),
            }
        });
        writer.submit(job)?;
        answered
            .await
            .map_err(|_| TxError::Store(StoreError::Unavailable("the writer stopped".into())))?
    }
}

impl Database {
    /// A write that decides nothing beyond itself (an insert, an upsert, a
    /// delete), as a transaction of its own: on SQLite it goes through the writer
    /// like every other write, so that request paths never contend for SQLite's lock.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.transaction::<_, (), _>(move |c| work(c).map_err(TxError::Store))
            .await
            .map_err(|e| match e {
                TxError::Store(e) => e,
                TxError::Abort(()) => StoreError::Unavailable("write aborted".into()),
            })
    }
}

fn migrate(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}
