#!/usr/bin/env python3
"""bench/grown.sh's report: the same loads on an empty and a grown database side
by side (goal: every row within 10% of the empty database's req/s and p99), what
only growth shows (/account, the agent API's lists, the sweep under load), the
grown database's tables and size, and `audit verify` over it. Usage:
grown_report.py RESULT_DIR (bench/README.md "Growth")."""
import json
import os
import sys

out = sys.argv[1]
TOLERANCE = 0.10
ACCOUNT_P99_MS = 50.0


def read(name, default=""):
    path = os.path.join(out, name)
    return open(path).read() if os.path.exists(path) else default


def rows(name):
    table = {}
    for line in read(name).splitlines():
        f = line.split("\t")
        if len(f) < 12 or f[0] != "behalf":
            continue
        errors = int(f[9]) + int(f[10]) + int(f[11])
        table[(f[1], f[2])] = {"rps": float(f[3]), "p99": float(f[6]), "errors": errors}
    return table


def fields(text):
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def pct(a, b):
    return "–" if a == 0 else f"{(b - a) / a * 100:+.1f}%"


def mark(ok):
    return "pass" if ok else "**MISS**"


empty, grown = rows("rows-empty.tsv"), rows("rows-grown.tsv")
print("# behalf on a grown database\n")
print("## The same loads: empty and grown database\n")
print("| load | conns | empty req/s | grown req/s | Δ req/s | empty p99 ms | grown p99 ms | Δ p99 | within 10% |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
misses = 0
for key in sorted(empty, key=lambda k: (k[0], int(k[1]))):
    e, g = empty[key], grown.get(key)
    if g is None:
        print(f"| {key[0]} | {key[1]} | {e['rps']:.0f} | – | | {e['p99']:.2f} | – | | **MISS** (no row) |")
        misses += 1
        continue
    ok = (g["rps"] >= e["rps"] * (1 - TOLERANCE) and g["p99"] <= e["p99"] * (1 + TOLERANCE)
          and e["errors"] == 0 and g["errors"] == 0)
    misses += not ok
    errs = "" if e["errors"] == 0 and g["errors"] == 0 else " (errors)"
    print(f"| {key[0]} | {key[1]} | {e['rps']:.0f} | {g['rps']:.0f} | {pct(e['rps'], g['rps'])} | "
          f"{e['p99']:.2f} | {g['p99']:.2f} | {pct(e['p99'], g['p99'])} | {mark(ok)}{errs} |")
print(f"\n{misses} of {len(empty)} rows outside 10% (req/s lower or p99 higher by more than 10%).\n")

print("## What only growth shows (10 connections)\n")
print("Against a small database whose lists and pages are already full (more than 50 of each), so")
print("that the difference is the cost of growth alone.\n")
extras = {}
for line in read("extras.tsv").splitlines():
    phase, load, conns, rest = line.split("\t", 3)
    extras[(phase, load)] = fields(rest)
print("| load | small req/s | small p99 ms | grown req/s | grown p99 ms | Δ p99 | goal |")
print("|---|---:|---:|---:|---:|---:|---|")
for load in ["account", "agent_requests_list", "agent_grants_active", "exchange_after_sweep", "exchange_during_sweep"]:
    e, g = extras.get(("small", load), {}), extras.get(("grown", load), {})
    if not e and not g:
        continue
    ep, gp = float(e.get("p99_ms", "nan")), float(g.get("p99_ms", "nan"))
    bad = any(int(x.get("non2xx", "-1")) != 0 or int(x.get("unexpected", "0")) != 0 or int(x.get("sockerr", "0")) != 0
              for x in (e, g))
    if load == "account":
        goal = f"p99 ≤ {ACCOUNT_P99_MS:.0f} ms: {mark(gp <= ACCOUNT_P99_MS and not bad)}"
    elif load == "exchange_during_sweep":
        goal = "(the sweep's cost: compare with the row above)"
    else:
        goal = ""
    if bad:
        goal += " ERRORS"
    print(f"| {load} | {float(e.get('rps', 0)):.0f} | {ep:.2f} | {float(g.get('rps', 0)):.0f} | {gp:.2f} | {pct(ep, gp)} | {goal} |")
print()
for phase in ["small", "grown"]:
    text = read(f"sweep-{phase}.txt").strip()
    if text:
        print(f"- {phase} database: {text}")
for line in read("meta.txt").splitlines():
    print(f"- {line.replace('peak_rss_mib', 'server peak RSS MiB')}")
print()

print("## The grown database\n")
print("| table | rows | seconds | rows/s | MiB | bytes per million rows (MiB) |")
print("|---|---:|---:|---:|---:|---:|")
total = None
for line in read("grow.jsonl").splitlines():
    r = json.loads(line)
    if "table" in r:
        print(f"| {r['table']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_second']:,.0f} | "
              f"{r['bytes'] / 2**20:,.0f} | {r['bytes_per_million_rows'] / 2**20:,.0f} |")
    else:
        total = r
if total:
    print(f"\nThe whole file: {total['database_bytes'] / 2**30:.2f} GiB, grown in {total['seconds']} s.")
t = read("grow.time").split()
if len(t) == 2:
    print(f"`behalf grow`: {t[0]} s wall, peak RSS {int(t[1]) / 1024:.0f} MiB.")
v = read("verify.time").split()
if len(v) == 2:
    print(f"\n`behalf audit verify` over the grown trail: {read('verify.out').strip()} — "
          f"{v[0]} s, peak RSS {int(v[1]) / 1024:.0f} MiB (one core).")
