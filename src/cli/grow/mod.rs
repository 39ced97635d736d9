//! `behalf grow` (hidden; bench/README.md "Growth"): fills a database that
//! `serve --demo` has seeded up to a production-like size, fast, so that the
//! benchmarks can show which answers stay flat as the data grows (the issue's
//! sizes are the defaults: 200k accounts, 1M grants and requests, 10M
//! issued-token records, 20M audit events). Rows go in by direct batched
//! inserts: one `INSERT … SELECT` over a generated series per chunk, a
//! transaction per chunk, with the database's durability relaxed for the
//! connection (SQLite `synchronous = OFF`, PostgreSQL `synchronous_commit =
//! off`). Every row is well formed: foreign keys hold, ids look like real ones,
//! and the audit events are appended to the keyed hash chain
//! (`audit_events::append_all`), so `audit verify` walks them all.
//! Never for a database that serves people: it adds made-up accounts.

mod sql;
mod tables;

use super::connect;
use crate::audit::Action;
use crate::config::Settings;
use crate::random;
use crate::store::audit_events::{self, PendingEvent};
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Database, StoreError};
use clap::Args;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;
use sql::{Number, Sql};
use std::time::Instant;

/// Rows per `INSERT … SELECT` (and transaction).
const CHUNK: u64 = 250_000;
/// Audit events per transaction.
const AUDIT_CHUNK: u64 = 50_000;
const YEAR: i64 = 365 * 24 * 3600;
/// The client the made-up grants, tokens and sessions belong to (seeded by `serve --demo`).
const CLIENT: &str = "demo-console";
/// The client recorded as introspecting in the made-up activity.
const INTROSPECTOR: &str = "demo-api";

#[derive(Args, Debug)]
pub struct GrowArgs {
    /// Accounts to add; one in 100 is an agent.
    #[arg(long, default_value_t = 200_000)]
    users: u64,
    /// Grants over those accounts (nearly all ended, a third revoked).
    #[arg(long, default_value_t = 1_000_000)]
    grants: u64,
    /// Access requests over those accounts (approved, denied, cancelled).
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Issued-token records still live (access and delegated tokens).
    #[arg(long, default_value_t = 9_000_000)]
    tokens: u64,
    /// Issued-token records long expired, for the sweep to delete.
    #[arg(long, default_value_t = 1_000_000)]
    expired_tokens: u64,
    #[arg(long, default_value_t = 2_000_000)]
    refresh_tokens: u64,
    /// Sign-in sessions.
    #[arg(long, default_value_t = 1_000_000)]
    sessions: u64,
    /// Audit events, in all.
    #[arg(long, default_value_t = 20_000_000)]
    audit_events: u64,
    /// The existing user whose consent screen grows.
    #[arg(long, default_value = "alice")]
    heavy_user: String,
    /// Ended grants over the heavy user's account.
    #[arg(long, default_value_t = 10_000)]
    heavy_ended_grants: u64,
    /// Of the audit events, those under the heavy user's newest ended grant.
    #[arg(long, default_value_t = 1_000_000)]
    heavy_activity: u64,
    /// The existing agent whose lists grow (the agent API).
    #[arg(long, default_value = "bob")]
    busy_agent: String,
    /// Access requests from the busy agent (half approved, each with its grant).
    #[arg(long, default_value_t = 100_000)]
    agent_requests: u64,
    /// Add only `expired_tokens` (to a grown database, for the sweep to find).
    #[arg(long)]
    only_expired: bool,
}

pub async fn run(settings: &Settings, args: GrowArgs) -> Result<(), String> {
    let db = connect(settings).await?;
    let now = super::now();
    let (heavy, busy) = (args.heavy_user.clone(), args.busy_agent.clone());
    let (heavy, busy) = db
        .run(move |c| {
            Ok((
                UserRow::find_by_username(c, &heavy)?,
                UserRow::find_by_username(c, &busy)?,
            ))
        })
        .await
        .map_err(|e| e.to_string())?;
    let (Some(heavy), Some(busy)) = (heavy, busy) else {
        return Err(format!(
            "no users {} and {}: run `behalf serve --demo` on this database first",
            args.heavy_user, args.busy_agent
        ));
    };
    let g = Grower {
        db,
        sql: Sql::for_database(settings)?,
        // Each run's ids are its own, so a database can grow twice.
        prefix: format!("g{}-", &hex_tag()),
        now,
        heavy_sub: heavy.sub,
        busy_sub: busy.sub,
        args,
    };
    let started = Instant::now();
    g.expired_tokens().await?;
    if !g.args.only_expired {
        g.users().await?;
        g.grants().await?;
        g.requests().await?;
        g.live_tokens().await?;
        g.refresh_tokens().await?;
        g.sessions().await?;
        g.audit().await?;
    }
    println!(
        "{}",
        json!({"grown": true, "seconds": round(started.elapsed().as_secs_f64()),
               "database_bytes": g.database_bytes().await?})
    );
    Ok(())
}

/// Six random hex digits.
fn hex_tag() -> String {
    random::random_bytes(3)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn round(seconds: f64) -> f64 {
    (seconds * 10.0).round() / 10.0
}

pub(super) struct Grower {
    db: Database,
    sql: Sql,
    prefix: String,
    now: i64,
    heavy_sub: String,
    busy_sub: String,
    args: GrowArgs,
}

impl Grower {
    /// `'{prefix}{kind}' || (expr)`: an id of this run's rows.
    fn id(&self, kind: &str, expr: &str) -> String {
        format!("'{}{kind}-' || ({expr})", self.prefix)
    }

    fn user(&self, expr: &str) -> String {
        self.id("usr", &format!("1 + ({expr}) % {}", self.args.users.max(1)))
    }

    /// One of the agents among the made-up accounts (every 100th).
    fn agent(&self, expr: &str) -> String {
        let agents = (self.args.users / 100).max(1);
        self.id("usr", &format!("100 * (1 + ({expr}) % {agents})"))
    }

    /// A time spread evenly over the past year, `i` of `n`, oldest first.
    fn spread(&self, n: u64) -> String {
        format!("{} + (i * {YEAR}) / {}", self.now - YEAR, n.max(1))
    }

    /// Inserts `rows` rows chunk by chunk and reports the table's growth.
    async fn fill(
        &self,
        what: &str,
        table: &str,
        columns: &str,
        exprs: String,
        filter: &str,
        rows: u64,
    ) -> Result<(), String> {
        if rows == 0 {
            return Ok(());
        }
        let (started, before) = (Instant::now(), self.database_bytes().await?);
        let mut from = 1;
        while from <= rows {
            let to = (from + CHUNK - 1).min(rows);
            let statement = self.sql.insert(table, columns, &exprs, filter, from, to);
            let relaxed = self.sql.relaxed();
            self.db
                .run(move |c| {
                    c.batch_execute(relaxed)?;
                    c.transaction(|c| diesel::sql_query(&statement).execute(c))?;
                    Ok(())
                })
                .await
                .map_err(|e| format!("{what}: {e}"))?;
            eprintln!("behalf grow: {what}: {to} of {rows}");
            from = to + 1;
        }
        self.report(what, rows, started, before).await
    }

    async fn report(
        &self,
        what: &str,
        rows: u64,
        started: Instant,
        before: i64,
    ) -> Result<(), String> {
        let seconds = started.elapsed().as_secs_f64();
        let grew = self.database_bytes().await? - before;
        println!(
            "{}",
            json!({"table": what, "rows": rows, "seconds": round(seconds),
                   "rows_per_second": (rows as f64 / seconds.max(1e-9)).round(),
                   "bytes": grew, "bytes_per_million_rows": (grew as f64 * 1e6 / rows as f64).round()})
        );
        Ok(())
    }

    async fn database_bytes(&self) -> Result<i64, String> {
        let query = self.sql.size_query();
        self.db
            .run(move |c| Ok(diesel::sql_query(query).get_result::<Number>(c)?.n))
            .await
            .map_err(|e| e.to_string())
    }

    /// Introspections recorded under the grants, appended to the keyed chain
    /// in order; every k-th under the heavy user's newest ended grant.
    async fn audit(&self) -> Result<(), String> {
        let n = self.args.audit_events;
        if n == 0 {
            return Ok(());
        }
        let (started, before) = (Instant::now(), self.database_bytes().await?);
        let heavy_every = match self.args.heavy_activity {
            0 => u64::MAX,
            k => (n / k).max(1),
        };
        let heavy_grant = format!("{}agrant-{}", self.prefix, self.args.heavy_ended_grants);
        let mut from = 0;
        while from < n {
            let to = (from + AUDIT_CHUNK).min(n);
            let events: Vec<PendingEvent> = (from..to)
                .map(|k| {
                    let (grant, agent) = if k % heavy_every == 0 && self.args.heavy_ended_grants > 0
                    {
                        (heavy_grant.clone(), self.busy_sub.clone())
                    } else {
                        let grant = 1 + k % self.args.grants.max(1);
                        let agent = 100 * (1 + grant % (self.args.users / 100).max(1));
                        (
                            format!("{}grant-{grant}", self.prefix),
                            format!("{}usr-{agent}", self.prefix),
                        )
                    };
                    PendingEvent::new(
                        self.now - YEAR + (k as i64 * YEAR) / n as i64,
                        INTROSPECTOR.into(),
                        Action::TokenIntrospected.as_str(),
                        Some(grant),
                        json!({"jti": format!("{}jti-{k}", self.prefix), "agent": agent}),
                    )
                })
                .collect();
            let relaxed = self.sql.relaxed();
            self.db
                .run(move |c: &mut AnyConnection| {
                    c.batch_execute(relaxed)?;
                    c.transaction::<_, StoreError, _>(|c| audit_events::append_all(c, &events))
                })
                .await
                .map_err(|e| format!("audit_events: {e}"))?;
            eprintln!("behalf grow: audit_events: {to} of {n}");
            from = to;
        }
        self.report("audit_events", n, started, before).await
    }
}
