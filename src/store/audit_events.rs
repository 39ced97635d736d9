//! The `audit_events` table: append-only and hash-chained. Each event's hash
//! is keyed (`chain_key`, docs/security.md N6) and covers the previous hash and
//! the event, so an edited or deleted event breaks the chain (`behalf audit
//! verify`) and only the holder of the key-encryption key can recompute it.
//! Appends are serialized: on SQLite by the write lock the surrounding
//! transaction already holds, on PostgreSQL by a transaction-scoped advisory lock.

use super::chain_key::{ChainKey, ChainedFields, UNKEYED_ERA};
use super::introspection_marks::IntrospectionMark;
use super::schema::audit_events;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;
use std::sync::Arc;

/// Any stable number: it names the lock that serializes appends on PostgreSQL.
const APPEND_LOCK: i64 = 0x6265_6861_6c66; // "behalf"

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub seq: i64,
    pub occurred_at: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub key_era: i32,
}

impl AuditEventRow {
    pub fn chained(&self) -> ChainedFields<'_> {
        ChainedFields {
            occurred_at: self.occurred_at,
            actor: &self.actor,
            action: &self.action,
            subject: self.subject.as_deref(),
            detail: &self.detail,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    occurred_at: i64,
    actor: &'a str,
    action: &'a str,
    subject: Option<&'a str>,
    detail: &'a str,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    key_era: i32,
}

/// The key appends chain under: the one the running `Database` carries.
fn key_in_scope() -> Result<Arc<ChainKey>, StoreError> {
    ChainKey::current().ok_or_else(|| {
        StoreError::Unavailable("no audit chain key: the database was opened without one".into())
    })
}

/// Appends one event; call inside the transaction that made the change it records.
pub fn append(
    conn: &mut AnyConnection,
    occurred_at: i64,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let key = key_in_scope()?;
    lock_the_chain(conn)?;
    let prev = chain_head(conn)?;
    let hash = key.hash(
        &prev,
        &ChainedFields {
            occurred_at,
            actor,
            action,
            subject,
            detail,
        },
    );
    let event = NewAuditEvent {
        occurred_at,
        actor,
        action,
        subject,
        detail,
        prev_hash: prev,
        hash,
        key_era: key.era(),
    };
    native!(conn, |c| diesel::insert_into(audit_events::table)
        .values(&event)
        .execute(c))?;
    Ok(())
}

/// Serializes appends (and re-keying) on PostgreSQL until the transaction ends.
pub fn lock_the_chain(conn: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(_) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({APPEND_LOCK})")).execute(conn)?;
    }
    Ok(())
}

/// An event waiting to be appended with others (see `audit::Deferred`).
pub struct PendingEvent {
    pub occurred_at: i64,
    pub actor: String,
    pub action: &'static str,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
    /// How many times it happened in the window, the last one at `last_at`.
    pub count: u64,
    pub last_at: i64,
    /// Written only if this mark is new: at most once per token, client and
    /// minute (docs/security.md L9).
    pub once: Option<IntrospectionMark>,
}

impl PendingEvent {
    pub fn new(
        occurred_at: i64,
        actor: String,
        action: &'static str,
        subject: Option<String>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            occurred_at,
            actor,
            action,
            subject,
            detail,
            count: 1,
            last_at: occurred_at,
            once: None,
        }
    }

    pub fn same_as(&self, other: &Self) -> bool {
        self.action == other.action
            && self.actor == other.actor
            && self.subject == other.subject
            && self.detail == other.detail
    }

    pub fn repeat(&mut self, at: i64) {
        self.count += 1;
        self.last_at = self.last_at.max(at);
    }

    fn detail_text(&self) -> String {
        let mut detail = self.detail.clone();
        if self.count > 1 && detail.is_object() {
            detail["count"] = self.count.into();
            detail["last_at"] = self.last_at.into();
        }
        detail.to_string()
    }
}

/// The hash of the newest event (zeros before the first), in one statement
/// (`seq = (SELECT max(seq) …)`): appends are serialized, so every round trip
/// here is one no other append can overlap. Not `ORDER BY .. LIMIT ?`: SQLite
/// re-plans a statement whose LIMIT is a bound parameter each time it is bound,
/// so the cached statement would be compiled anew on every append.
fn chain_head(conn: &mut AnyConnection) -> Result<Vec<u8>, StoreError> {
    let newest_events = diesel::alias!(audit_events as newest_events);
    let newest = newest_events
        .select(diesel::dsl::max(newest_events.field(audit_events::seq)))
        .single_value();
    let hash: Option<Vec<u8>> = native!(conn, |c| audit_events::table
        .filter(audit_events::seq.nullable().eq(newest))
        .select(audit_events::hash)
        .get_result(c)
        .optional())?;
    Ok(hash.unwrap_or_else(|| vec![0u8; 32]))
}

/// The newest event's `seq` and keyed hash: what a checkpoint covers.
pub fn newest(conn: &mut AnyConnection) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    let newest: Option<i64> = audit_events::table
        .select(diesel::dsl::max(audit_events::seq))
        .get_result(conn)?;
    let Some(seq) = newest else {
        return Ok(None);
    };
    let hash = audit_events::table
        .find(seq)
        .select(audit_events::hash)
        .get_result(conn)?;
    Ok(Some((seq, hash)))
}

/// The event `seq`, if it is there.
pub fn find(conn: &mut AnyConnection, seq: i64) -> Result<Option<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .find(seq)
        .select(AuditEventRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Appends `events` in order: one read of the chain's head for all of them.
/// An event whose `once` mark another write already claimed is left out.
pub fn append_all(conn: &mut AnyConnection, events: &[PendingEvent]) -> Result<(), StoreError> {
    let key = key_in_scope()?;
    lock_the_chain(conn)?;
    let mut prev = chain_head(conn)?;
    for e in events {
        if let Some(mark) = &e.once
            && !mark.claim(conn)?
        {
            continue;
        }
        let subject = e.subject.as_deref();
        let detail = e.detail_text();
        let hash = key.hash(
            &prev,
            &ChainedFields {
                occurred_at: e.occurred_at,
                actor: &e.actor,
                action: e.action,
                subject,
                detail: &detail,
            },
        );
        diesel::insert_into(audit_events::table)
            .values(NewAuditEvent {
                occurred_at: e.occurred_at,
                actor: &e.actor,
                action: e.action,
                subject,
                detail: &detail,
                prev_hash: std::mem::take(&mut prev),
                hash: hash.clone(),
                key_era: key.era(),
            })
            .execute(conn)?;
        prev = hash;
    }
    Ok(())
}

/// Events about `subject` (a grant id), oldest first.
pub fn for_subject(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::subject.eq(subject))
        .order(audit_events::seq.asc())
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// Events about `subject` (a grant id), newest first: `limit` of them after
/// skipping the `offset` newest. Bounded by the index on (subject, seq).
pub fn newest_for_subject(
    conn: &mut AnyConnection,
    subject: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::subject.eq(subject))
        .order(audit_events::seq.desc())
        .offset(offset)
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// Who recorded the newest event with `action` about `subject` (a grant id),
/// if any: the agent who ended a team's grant, which the grant does not name.
pub fn newest_actor(
    conn: &mut AnyConnection,
    subject: &str,
    action: &str,
) -> Result<Option<String>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::subject.eq(subject))
        .filter(audit_events::action.eq(action))
        .order(audit_events::seq.desc())
        .select(audit_events::actor)
        .first(conn)
        .optional()?)
}

/// Every event in order, `batch` at a time after `after_seq`.
pub fn page(
    conn: &mut AnyConnection,
    after_seq: i64,
    batch: i64,
) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::seq.gt(after_seq))
        .order(audit_events::seq.asc())
        .limit(batch)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// The first event chained under `era` (`UNKEYED_ERA`: written by an earlier
/// version), or, with `None`, under any keyed era.
pub fn first_of_era(conn: &mut AnyConnection, era: Option<i32>) -> Result<Option<i64>, StoreError> {
    let query = audit_events::table.select(audit_events::seq);
    let found: Option<i64> = match era {
        Some(era) => query
            .filter(audit_events::key_era.eq(era))
            .order(audit_events::seq.asc())
            .first(conn)
            .optional()?,
        None => query
            .filter(audit_events::key_era.ne(UNKEYED_ERA))
            .order(audit_events::seq.asc())
            .first(conn)
            .optional()?,
    };
    Ok(found)
}

/// Re-chains one event: its new previous hash, hash and era (`audit::rekey` only).
pub fn rechain(
    conn: &mut AnyConnection,
    seq: i64,
    prev_hash: &[u8],
    hash: &[u8],
    key_era: i32,
) -> Result<(), StoreError> {
    diesel::update(audit_events::table.find(seq))
        .set((
            audit_events::prev_hash.eq(prev_hash),
            audit_events::hash.eq(hash),
            audit_events::key_era.eq(key_era),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the migration's request to re-key the trail it found (true once).
pub fn take_rekey_due(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    Ok(diesel::sql_query("DELETE FROM audit_rekey_due").execute(conn)? > 0)
}

/// The newest event with `action`, if any (the last re-keying's own record).
pub fn last_with_action(
    conn: &mut AnyConnection,
    action: &str,
) -> Result<Option<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::action.eq(action))
        .order(audit_events::seq.desc())
        .select(AuditEventRow::as_select())
        .first(conn)
        .optional()?)
}
