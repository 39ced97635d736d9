#!/usr/bin/env python3
"""Turns a run's raw directory (rows.tsv, meta.txt, notes.txt written by run.sh) into the
Markdown report: results table, behalf/peer ratios, goals (pass/miss), notes.

usage: report.py RAW_DIR [OTHER_MAX]
"""
import math
import os
import sys

raw = sys.argv[1]
other_max = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25

FIELDS = ["server", "load", "conns", "rps", "p50", "p90", "p99", "max", "reqs", "non2xx",
          "unexpected", "sockerr", "server_cpu", "loadgen_cpu", "other_cpu", "rss", "note"]


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
        for k in FIELDS[2:-1]:
            r[k] = num(r[k])
        r["conns"] = int(r["conns"])
        r["errors"] = (r["non2xx"] != 0 or r["unexpected"] != 0 or r["sockerr"] != 0
                       or "pool ran out" in r["note"] or r["rps"] == 0)
        r["disturbed"] = r["other_cpu"] > other_max
        rows.append(r)

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


def find(server, load, conns=None):
    return [r for r in rows if r["server"] == server and r["load"] == load
            and (conns is None or r["conns"] == conns)]


def best(server, load):
    rs = [r for r in find(server, load) if not math.isnan(r["rps"])]
    return max(rs, key=lambda r: r["rps"]) if rs else None


out = []
w = out.append
w(f"# behalf benchmark — {meta.get('date', '?')}")
w("")
w(f"- machine: {meta.get('machine', '?')}; load average at start {meta.get('loadavg_at_start', '?')}")
w(f"- behalf: {meta.get('behalf_binary', '?')}; SQLite in a fresh temp dir; RSS idle "
  f"{meta.get('behalf_rss_idle_mib', '?')} MiB, peak {meta.get('behalf_peak_rss_mib', '?')} MiB")
if "peer" in meta:
    w(f"- peer: {meta['peer']}; peak RSS {meta.get('peer_peak_rss_mib', '?')} MiB")
w(f"- {meta.get('settings', '')}; {meta.get('wrk', 'wrk')}")
w(f"- run time {meta.get('elapsed', '?')}; {meta.get('idle_wait', '')}")
w("")
w("| server | load | conns | req/s | p50 ms | p99 ms | non-2xx | socket err | server CPU | wrk CPU | other CPU | peak RSS MiB | check | notes |")
w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|")
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
    w(f"| {r['server']} | {r['load']} | {r['conns']} | {fmt(r['rps'])} | {fmt(r['p50'], 2)} | "
      f"{fmt(r['p99'], 2)} | {fmt(r['non2xx'])} | {fmt(r['sockerr'])} | {fmt(r['server_cpu'], 2)} | "
      f"{fmt(r['loadgen_cpu'], 2)} | {fmt(r['other_cpu'], 2)} | {fmt(r['rss'], 1)} | "
      f"{'; '.join(check) or 'ok'} | {r['note']} |")
w("")
w("CPU columns are cores used over the run (server from /proc/PID/stat; wrk from /usr/bin/time; "
  "other = the rest of the machine). Peak RSS is the server's VmHWM after the run (a running peak).")
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


def rps_goal(load, target, label):
    b = best("behalf", load)
    if not b:
        goal(label, "not run", f"≥ {target:,}", None)
        return
    detail = f"best at {b['conns']} conns" + ("; that run had errors" if b["errors"] else "")
    goal(label, f"{fmt(b['rps'])} req/s", f"≥ {target:,} req/s", b["rps"] >= target and not b["errors"], detail)


def ratio_goal(load, target, label):
    if load not in ratios:
        goal(label, "peer not run", f"≥ {target}×", None)
        return
    goal(label, f"{ratios[load]:.2f}×", f"≥ {target}×", ratios[load] >= target, "best vs best")


rps_goal("client_credentials", 8000, "client credentials throughput")
ratio_goal("client_credentials", 5, "client credentials vs peer cc_jwt")
rps_goal("introspect_delegated", 8000, "introspection of a delegated token")
ratio_goal("introspect_delegated", 3, "introspection vs peer opaque introspection")
rps_goal("token_exchange", 4000, "token exchange throughput")
rps_goal("revoke", 5000, "revocation throughput")
for r in [r for r in rows if r["server"] == "behalf" and r["conns"] == 10]:
    goal(f"p99 at 10 conns: {r['load']}", f"{fmt(r['p99'], 2)} ms", "≤ 3 ms", r["p99"] <= 3.0)
peak = num(meta.get("behalf_peak_rss_mib"))
goal("behalf peak RSS (VmHWM)", f"{fmt(peak, 1)} MiB", "≤ 64 MiB", None if math.isnan(peak) else peak <= 64.0)

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
flagged = [f"{r['server']} {r['load']} c={r['conns']}" for r in rows if r["errors"]]
disturbed = [f"{r['server']} {r['load']} c={r['conns']}" for r in rows if r["disturbed"]]
w("## Notes")
w("")
w(f"- runs with errors: {', '.join(flagged) if flagged else 'none'}")
w(f"- disturbed runs (other CPU > {other_max}): {', '.join(disturbed) if disturbed else 'none'}")
for n in notes:
    w(f"- {n}")
w(f"- raw logs: {raw}")
print("\n".join(out))
