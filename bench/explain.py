#!/usr/bin/env python3
"""The query plans of behalf's hot statements on a (grown) SQLite database, as
Markdown (bench/README.md "Query plans"). Usage: explain.py DB_FILE [PG_URL].

The statements are the ones the request paths run (src/store/*.rs, written
with diesel), transcribed with literal values that exist in a `behalf grow`
database: a token record, the demo users, alice's grants. With PG_URL it also
prints PostgreSQL's EXPLAIN ANALYZE of the same statements (psql)."""
import sqlite3
import subprocess
import sys
import time

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
pg = sys.argv[2] if len(sys.argv) > 2 else None
one = lambda sql, *a: (db.execute(sql, a).fetchone() or [None])[0]
now = int(time.time())
alice = one("SELECT sub FROM users WHERE username = 'alice'")
bob = one("SELECT sub FROM users WHERE username = 'bob'")
token = one("SELECT id FROM issued_tokens WHERE grant_id IS NOT NULL ORDER BY rowid DESC LIMIT 1")
grant = one("SELECT id FROM grants WHERE subject_sub = ? ORDER BY created_at DESC LIMIT 1", alice)
token_grant = one("SELECT grant_id FROM issued_tokens WHERE id = ?", token)

HOT = [
    ("introspection, every bearer check: a token's standing (its record, its actor token's, the user, the grant, the agent)",
     "SELECT t.revoked_at, p.revoked_at, u.*, g.*, a.* FROM issued_tokens t"
     " LEFT JOIN issued_tokens p ON p.id = t.parent_id LEFT JOIN users u ON u.sub = ?"
     " LEFT JOIN grants g ON g.id = ? LEFT JOIN users a ON a.sub = ? WHERE t.id = ?",
     [alice, token_grant, bob, token]),
    ("exchange: the grant", "SELECT * FROM grants WHERE id = ?", [grant]),
    ("every audit append: the chain's head",
     "SELECT hash FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)", []),
    ("/account: the active grants",
     "SELECT * FROM grants WHERE subject_sub = ? AND revoked_at IS NULL AND expires_at > ? "
     "ORDER BY created_at DESC, id DESC", [alice, now]),
    ("/account: a page of ended grants",
     "SELECT * FROM grants WHERE subject_sub = ? AND (revoked_at IS NOT NULL OR expires_at <= ?) "
     "ORDER BY created_at DESC, id DESC LIMIT 51 OFFSET 0", [alice, now]),
    ("/account: a grant's newest activity lines",
     "SELECT * FROM audit_events WHERE subject = ? ORDER BY seq DESC LIMIT 51 OFFSET 0", [grant]),
    ("/account: the agents to allow support access to",
     "SELECT * FROM users WHERE is_agent = ? AND disabled_at IS NULL ORDER BY username LIMIT 200", [1]),
    ("CIBA login_hint, upstream sign-in: the account with an email",
     "SELECT * FROM users WHERE email = ?", ["alice@example.com"]),
    ("/account: pending requests",
     "SELECT * FROM access_requests WHERE subject_sub = ? AND status = 'pending' AND expires_at > ? "
     "ORDER BY created_at DESC, id ASC LIMIT 51 OFFSET 0", [alice, now]),
    ("agent API: GET /api/access-requests",
     "SELECT * FROM access_requests WHERE agent_sub = ? ORDER BY created_at DESC, id DESC LIMIT 51", [bob]),
    ("agent API: GET /api/grants?status=active",
     "SELECT * FROM grants WHERE (agent_sub = ? OR team = ?) AND revoked_at IS NULL AND expires_at > ? "
     "ORDER BY created_at DESC, id DESC LIMIT 51", [bob, "Support", now]),
    ("sweep: a batch of expired token records",
     "SELECT id FROM issued_tokens WHERE expires_at < ? LIMIT 500", [now - 7200]),
    ("outbox: the ready rows",
     "SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? AND due_at <= ? "
     "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT 128", [now, now, now]),
    ("sign-in throttle: failures in the window",
     "SELECT count(*) FROM login_failures WHERE throttle_key = ? AND failed_at >= ?", ["user:alice", now - 900]),
]

counts = {t: one(f"SELECT count(*) FROM {t}") for t in
          ["users", "grants", "access_requests", "issued_tokens", "refresh_tokens", "sessions", "audit_events"]}
print("Rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()) + ".\n")
print("| statement | SQLite plan | ms (warm, median of 5) |")
print("|---|---|--:|")
for what, sql, args in HOT:
    plan = "; ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, args))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        db.execute(sql, args).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"| {what} | `{plan}` | {sorted(times)[2]:.3f} |")

if pg:
    print("\nPostgreSQL (EXPLAIN ANALYZE):\n")
    for what, sql, args in HOT:
        q = sql
        for a in args:
            lit = str(a) if isinstance(a, int) else "'" + str(a).replace("'", "''") + "'"
            q = q.replace("?", lit, 1)
        out = subprocess.run(["psql", pg, "-XAtc", "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + q],
                             capture_output=True, text=True).stdout.strip()
        print(f"- {what}:\n\n```\n{out}\n```\n")
