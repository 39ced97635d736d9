#!/usr/bin/env python3
"""Turns a run's raw directory (rows.tsv, meta.txt, notes.txt written by run.sh) into the
Markdown report: results table, behalf/peer ratios, goals (pass/miss), notes.

usage: report.py RAW_DIR [OTHER_MAX]
       report.py --check RAW_DIR     exit 1 if any row has errors or no result (the smoke run)
"""
import math
import os
import sys

check_only = len(sys.argv) > 1 and sys.argv[1] == "--check"
if check_only:
    sys.argv.pop(1)
raw = sys.argv[1]
other_max = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25

FIELDS = ["server", "load", "conns", "rps", "p50", "p90", "p99", "max", "reqs", "non2xx",
          "unexpected", "sockerr", "server_cpu", "loadgen_cpu", "other_cpu", "rss", "note", "pg_cpu", "variant"]
NUMERIC = FIELDS[2:16] + ["pg_cpu"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


rows = []
with open(os.path.join(raw, "rows.tsv")) as f:
    for line in f:
        parts = line.rstrip("\n").split("\t")
        parts += [""] * (len(FIELDS) - len(parts))
        r = dict(zip(FIELDS, parts))
        for k in NUMERIC:
            r[k] = num(r[k])
        r["conns"] = int(r["conns"])
        r["errors"] = (r["non2xx"] != 0 or r["unexpected"] != 0 or r["sockerr"] != 0
                       or "pool ran out" in r["note"] or r["rps"] == 0)
        r["disturbed"] = r["other_cpu"] > other_max
        # µs of CPU per request: cores used / requests per second
        r["us_srv"] = r["server_cpu"] / r["rps"] * 1e6 if r["rps"] else math.nan
        r["us_pg"] = r["pg_cpu"] / r["rps"] * 1e6 if r["rps"] else math.nan
        rows.append(r)

if check_only:
    bad = [f"{r['server']} {r['load']} c={r['conns']} {r['variant']}" for r in rows if r["errors"]]
    if not rows:
        print("no rows", file=sys.stderr)
        sys.exit(1)
    if bad:
        print("rows with errors or no result: " + ", ".join(bad), file=sys.stderr)
        sys.exit(1)
    sys.exit(0)

meta = {}
with open(os.path.join(raw, "meta.txt")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v
with open(os.path.join(raw, "notes.txt")) as f:
    notes = [l.rstrip("\n") for l in f if l.strip()]


def fmt(v, digits=0):
    if isinstance(v, float) and math.isnan(v):
        return "–"
    return f"{v:,.{digits}f}"


def find(server, load, conns=None, variant=""):
    return [r for r in rows if r["server"] == server and r["load"] == load
            and (conns is None or r["conns"] == conns) and r["variant"] == variant]


def best(server, load, variant=""):
    rs = [r for r in find(server, load, variant=variant) if not math.isnan(r["rps"])]
    return max(rs, key=lambda r: r["rps"]) if rs else None


out = []
w = out.append
w(f"# behalf benchmark — {meta.get('date', '?')}")
w("")
postgres = meta.get("mode", "").startswith("postgres")
rsa = num(meta.get("rsa2048_sign_per_s"))
w(f"- mode: {meta.get('mode', 'sqlite')}")
w(f"- machine: {meta.get('machine', '?')}; load average at start {meta.get('loadavg_at_start', '?')}")
w(f"- RSA-2048 sign limit of one core: {meta.get('rsa2048', 'not measured')}")
if postgres:
    w(f"- PostgreSQL: {meta.get('postgres', '?')}")
if "db_template" in meta:
    w(f"- database: a copy of {meta['db_template']}")
store = "PostgreSQL (above)" if postgres else ("SQLite, a copy of the template" if "db_template" in meta else "SQLite in a fresh temp dir")
w(f"- behalf: {meta.get('behalf_binary', '?')}; {store}; RSS idle "
  f"{meta.get('behalf_rss_idle_mib', '?')} MiB, peak {meta.get('behalf_peak_rss_mib', '?')} MiB")
if "peer" in meta:
    w(f"- peer: {meta['peer']}; peak RSS {meta.get('peer_peak_rss_mib', '?')} MiB")
w(f"- {meta.get('settings', '')}; {meta.get('wrk', 'wrk')}")
w(f"- run time {meta.get('elapsed', '?')}; {meta.get('idle_wait', '')}")
w("")
pgcols = postgres
head = "| server | load | variant | conns | req/s | p50 ms | p99 ms | non-2xx | socket err | server CPU | µs CPU/req |"
line = "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
if pgcols:
    head += " PG CPU | PG µs CPU/req |"
    line += "--:|--:|"
w(head + " wrk CPU | other CPU | peak RSS MiB | check | notes |")
w(line + "--:|--:|--:|---|---|")
for r in rows:
    check = []
    if r["errors"]:
        bits = []
        if r["non2xx"] != 0:
            bits.append(f"{fmt(r['non2xx'])} non-2xx")
        if r["unexpected"] != 0:
            bits.append(f"{fmt(r['unexpected'])} unexpected bodies")
        if r["sockerr"] != 0:
            bits.append(f"{fmt(r['sockerr'])} socket errors")
        if "pool ran out" in r["note"]:
            bits.append("pool ran out")
        if r["rps"] == 0:
            bits.append("no result")
        check.append("**ERRORS: " + ", ".join(bits) + "**")
    if r["disturbed"]:
        check.append(f"disturbed (other CPU > {other_max})")
    pg = f"{fmt(r['pg_cpu'], 2)} | {fmt(r['us_pg'])} | " if pgcols else ""
    w(f"| {r['server']} | {r['load']} | {r['variant']} | {r['conns']} | {fmt(r['rps'])} | {fmt(r['p50'], 2)} | "
      f"{fmt(r['p99'], 2)} | {fmt(r['non2xx'])} | {fmt(r['sockerr'])} | {fmt(r['server_cpu'], 2)} | {fmt(r['us_srv'])} | {pg}"
      f"{fmt(r['loadgen_cpu'], 2)} | {fmt(r['other_cpu'], 2)} | {fmt(r['rss'], 1)} | "
      f"{'; '.join(check) or 'ok'} | {r['note']} |")
w("")
w("CPU columns are cores used over the run (server from /proc/PID/stat, both instances summed for "
  "`2 instances`; PG = the PostgreSQL cluster's processes; wrk from /usr/bin/time; other = the rest of the machine). "
  "µs CPU/req = CPU / req/s. Peak RSS is the server's VmHWM after the run (a running peak).")
w("")

pairs = [("client_credentials", "cc_jwt", "client_credentials (JWT AT) vs peer cc_jwt"),
         ("introspect_delegated", "introspect", "introspection: behalf delegated token vs peer opaque token")]
have_peer = any(r["server"] == "peer" for r in rows)
ratios = {}
if have_peer:
    w("## behalf / peer")
    w("")
    w("| comparison | conns | behalf req/s | peer req/s | ratio |")
    w("|---|--:|--:|--:|--:|")
    for ours, theirs, label in pairs:
        conns = sorted({r["conns"] for r in find("behalf", ours)} & {r["conns"] for r in find("peer", theirs)})
        for c in conns:
            a, b = find("behalf", ours, c)[0], find("peer", theirs, c)[0]
            ratio = a["rps"] / b["rps"] if b["rps"] else math.nan
            w(f"| {label} | {c} | {fmt(a['rps'])} | {fmt(b['rps'])} | {fmt(ratio, 2)}× |")
        a, b = best("behalf", ours), best("peer", theirs)
        if a and b and b["rps"]:
            ratios[ours] = a["rps"] / b["rps"]
            w(f"| {label} | best of each ({a['conns']} / {b['conns']}) | {fmt(a['rps'])} | {fmt(b['rps'])} | "
              f"**{fmt(ratios[ours], 2)}×** |")
    w("")

# ---------------------------------------------------------------- goals
goals = []


def goal(name, value, target, ok, detail=""):
    goals.append((name, value, target, ok, detail))


def limited_by(r):
    """What the harness saw limit a row: the busiest core."""
    if r is None:
        return ""
    srv, pg, lg, oth = r["server_cpu"], r["pg_cpu"], r["loadgen_cpu"], r["other_cpu"]
    pg = 0.0 if math.isnan(pg) else pg
    lg = 0.0 if math.isnan(lg) else lg
    bits = []
    if r["disturbed"]:
        bits.append(f"other work on the machine ({oth:.2f} cores): re-run on a quiet machine")
    if srv >= 0.9:
        bits.append(f"behalf's core is saturated (server CPU {srv:.2f}; {r['us_srv']:,.0f} µs CPU a request)")
    if pg >= 0.9:
        bits.append(f"PostgreSQL's core is saturated (PG CPU {pg:.2f}; {r['us_pg']:,.0f} µs a request)")
    elif pg + lg >= 0.9:
        bits.append(f"core 1 is saturated by PostgreSQL + wrk ({pg:.2f} + {lg:.2f})")
    if lg >= 0.9:
        bits.append(f"wrk's core is saturated (wrk CPU {lg:.2f})")
    if not bits:
        bits.append(f"no core saturated (server CPU {srv:.2f}" + (f", PG {pg:.2f}" if postgres else "") +
                    f", wrk {lg:.2f}): behalf waits (storage commits, locks{', round trips' if postgres else ''})")
    return "limited by: " + "; ".join(bits)


def rps_goal(load, target, label, variant=""):
    b = best("behalf", load, variant)
    if not b:
        goal(label, "not run", f"≥ {target:,}", None)
        return
    detail = f"best at {b['conns']} conns" + ("; that run had errors" if b["errors"] else "")
    ok = b["rps"] >= target and not b["errors"]
    if not ok:
        detail += "; " + limited_by(b)
    goal(label, f"{fmt(b['rps'])} req/s", f"≥ {target:,.0f} req/s", ok, detail)


def ratio_goal(load, target, label):
    if load not in ratios:
        goal(label, "peer not run", f"≥ {target}×", None)
        return
    b = best("behalf", load)
    ok = ratios[load] >= target
    goal(label, f"{ratios[load]:.2f}×", f"≥ {target}×", ok, "best vs best" + ("" if ok else "; " + limited_by(b)))


rps_goal("client_credentials", 8000, "client credentials throughput")
ratio_goal("client_credentials", 5, "client credentials vs peer cc_jwt")
if postgres:
    rps_goal("introspect_delegated", 10000, "introspection of a delegated token (PostgreSQL)")
    rps_goal("token_exchange", 3000, "token exchange throughput (PostgreSQL)")
    rps_goal("revoke", 3000, "revocation throughput (PostgreSQL)")
else:
    rps_goal("introspect_delegated", 8000, "introspection of a delegated token")
    ratio_goal("introspect_delegated", 4, "introspection vs peer opaque introspection")
    rps_goal("token_exchange", 4000, "token exchange throughput")
    rps_goal("revoke", 5000, "revocation throughput")
# code redemption: >= 80% of one core's RSA-2048 sign limit (each redemption signs an RS256 ID token)
b = best("behalf", "authorization_code")
if b and not math.isnan(rsa):
    share = b["rps"] / rsa
    ok = share >= 0.8 and not b["errors"]
    goal("code redemption vs RSA-2048 sign limit", f"{fmt(b['rps'])} req/s = {share:.0%} of {fmt(rsa)} signs/s",
         "≥ 80%", ok, f"best at {b['conns']} conns" + ("" if ok else "; " + limited_by(b)))
else:
    goal("code redemption vs RSA-2048 sign limit", "not run" if not b else "sign limit not measured", "≥ 80%", None)
for r in [r for r in rows if r["server"] == "behalf" and r["conns"] == 10 and r["variant"] == ""]:
    ok = r["p99"] <= 3.0
    goal(f"p99 at 10 conns: {r['load']}", f"{fmt(r['p99'], 2)} ms", "≤ 3 ms", ok, "" if ok else limited_by(r))
peak = num(meta.get("behalf_peak_rss_mib"))
goal("behalf peak RSS (VmHWM)" + (" before the idle connections" if meta.get("idle_connections") else ""), f"{fmt(peak, 1)} MiB", "≤ 64 MiB", None if math.isnan(peak) else peak <= 64.0,
     "" if math.isnan(peak) or peak <= 64 else "limited by: memory the process holds at its peak (VmHWM)")
# idle connections: the same rows within 10%, and RSS with them open
idle = meta.get("idle_connections")
if idle:
    v = f"idle={idle}"
    for r in [r for r in rows if r["variant"] == v]:
        base = find(r["server"], r["load"], r["conns"])
        if not base:
            continue
        b0 = base[0]
        d = r["rps"] / b0["rps"] - 1 if b0["rps"] else math.nan
        ok = (not math.isnan(d)) and d >= -0.10 and not r["errors"]
        goal(f"{r['load']} c={r['conns']} with {idle} idle connections", f"{fmt(r['rps'])} req/s ({d:+.0%})",
             f"within 10% of {fmt(b0['rps'])}", ok, "" if ok else limited_by(r))
    irss = num(meta.get("idle_rss_mib"))
    goal(f"behalf RSS with {idle} idle connections open (VmHWM)", f"{fmt(irss, 1)} MiB", "≤ 64 MiB",
         None if math.isnan(irss) else irss <= 64.0,
         "" if math.isnan(irss) or irss <= 64 else f"limited by: per-connection memory, ~{(irss - num(meta.get('behalf_rss_idle_mib'))) * 1024 / int(idle):.1f} KiB a connection over the idle RSS")
    st = meta.get("idle_status", "")
    kv = dict(x.split("=") for x in st.split() if "=" in x)
    fds = meta.get("idle_fds", "0 0 0").split()
    held = int(kv.get("answered", 0)) - int(kv.get("closed", 0))
    ok = held >= int(idle) and int(fds[1]) - int(fds[2]) >= int(idle)
    goal(f"{idle} idle connections all open", f"{held} held by the helper; behalf's fds {fds[2]} before, {fds[0]} with them open, {fds[1]} after the runs",
         f"{idle}", ok, meta.get("idle_check", ""))

w("## Goals")
w("")
w("| goal | measured | target | result | |")
w("|---|--:|--:|---|---|")
for name, value, target, ok, detail in goals:
    res = "–" if ok is None else ("pass" if ok else "**MISS**")
    w(f"| {name} | {value} | {target} | {res} | {detail} |")
w("")
missed = [g[0] for g in goals if g[3] is False]
w(f"Missed: {', '.join(missed) if missed else 'none'}.")
w("")
rt = os.path.join(raw, "roundtrips.tsv")
if os.path.exists(rt) and os.path.getsize(rt):
    w("## Database round trips per request (PostgreSQL)")
    w("")
    w("Counted with `strace -f -yy` on behalf while N requests are sent one after another on one "
      "connection: writes (sendto/write/writev/sendmsg) on sockets whose peer is PostgreSQL's port, minus "
      "what the idle server writes in the same time, divided by N. One write = one round trip "
      "(libpq sends a query's messages in one write and waits for the answer).")
    w("")
    w("| load | round trips / request | writes counted | requests | idle writes/s | answers |")
    w("|---|--:|--:|--:|--:|---|")
    for l in open(rt):
        p = l.rstrip("\n").split("\t")
        if len(p) >= 6:
            w(f"| {p[0]} | {p[1]} | {p[2]} | {p[3]} | {p[4]} | {p[5]} |")
    w("")
if "outbox" in meta:
    w("## Outbox")
    w("")
    w(f"- {meta['outbox']}")
    i = find("behalf", "client_credentials", variant="outbox idle")
    bz = find("behalf", "client_credentials", variant="outbox busy")
    if i and bz:
        w(f"- client_credentials c={i[0]['conns']} p99: {fmt(i[0]['p99'], 2)} ms with the outbox idle, "
          f"{fmt(bz[0]['p99'], 2)} ms while it delivers ({fmt(i[0]['rps'])} vs {fmt(bz[0]['rps'])} req/s)")
    w("")
flagged = [f"{r['server']} {r['load']} c={r['conns']}" + (f" ({r['variant']})" if r["variant"] else "") for r in rows if r["errors"]]
disturbed = [f"{r['server']} {r['load']} c={r['conns']}" + (f" ({r['variant']})" if r["variant"] else "") for r in rows if r["disturbed"]]
w("## Notes")
w("")
w(f"- runs with errors: {', '.join(flagged) if flagged else 'none'}")
w(f"- disturbed runs (other CPU > {other_max}): {', '.join(disturbed) if disturbed else 'none'}")
for n in notes:
    w(f"- {n}")
w(f"- raw logs: {raw}")
print("\n".join(out))
