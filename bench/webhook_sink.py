#!/usr/bin/env python3
"""A webhook receiver for the outbox load: answers every POST with 204 (keep-alive,
HTTP/1.1), counts deliveries (and distinct `webhook-id`s per path, to see repeats) with
their arrival times, and reports them at `GET /stats` as JSON:
{"deliveries", "distinct", "first", "last", "per_second": {unix second: count}}.
Signatures are not checked (that is the conformance tests' job); this measures rate.

usage: webhook_sink.py PORT        (binds 127.0.0.1:PORT; prints "ready" when listening)
"""
import asyncio
import json
import sys
import time

deliveries = 0
seen = set()
first = last = None
per_second = {}


async def handle(reader, writer):
    global deliveries, first, last
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                if k:
                    headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0") or 0)
            if n:
                await reader.readexactly(n)
            if method == "GET" and path == "/stats":
                body = json.dumps({"deliveries": deliveries, "distinct": len(seen), "first": first,
                                   "last": last, "per_second": per_second}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
            else:
                now = time.time()
                deliveries += 1
                seen.add((path, headers.get("webhook-id", "")))
                first = first or now
                last = now
                s = int(now)
                per_second[s] = per_second.get(s, 0) + 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
