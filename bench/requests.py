#!/usr/bin/env python3
"""Sends N requests one after another on one keep-alive connection (to count what the
server does per request, e.g. under strace) and prints the answers by status.

usage: requests.py URL METHOD N [--basic B64] [--bearer TOKEN] [--cookie C] [--body BODY]
                   [--pool FILE]   (BODY's @VALUE@ is replaced by the pool's next line)
"""
import argparse
import http.client
import urllib.parse
from collections import Counter

p = argparse.ArgumentParser()
p.add_argument("url"); p.add_argument("method"); p.add_argument("n", type=int)
p.add_argument("--basic"); p.add_argument("--bearer"); p.add_argument("--cookie")
p.add_argument("--body"); p.add_argument("--pool"); p.add_argument("--json", action="store_true")
a = p.parse_args()
u = urllib.parse.urlsplit(a.url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
headers = {}
if a.basic: headers["Authorization"] = "Basic " + a.basic
if a.bearer: headers["Authorization"] = "Bearer " + a.bearer
if a.cookie: headers["Cookie"] = a.cookie
if a.body is not None:
    headers["Content-Type"] = "application/json" if a.json else "application/x-www-form-urlencoded"
pool = [l.strip() for l in open(a.pool) if l.strip()] if a.pool else []
path = u.path + ("?" + u.query if u.query else "")
statuses = Counter()
for i in range(a.n):
    body = a.body
    if body is not None and "@VALUE@" in body:
        body = body.replace("@VALUE@", pool[i] if i < len(pool) else "exhausted")
    conn.request(a.method, path, body=body, headers=headers)
    r = conn.getresponse(); r.read()
    statuses[r.status] += 1
print(" ".join(f"{k}:{v}" for k, v in sorted(statuses.items())))
