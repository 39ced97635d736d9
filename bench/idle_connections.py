#!/usr/bin/env python3
"""Opens N keep-alive connections to a server, sends one `GET /healthz` (HTTP/1.1,
keep-alive) on each, reads the whole answer, and holds them all open until SIGTERM.
Every second it rewrites STATUS_FILE with one line:
    opened=N answered=A failed=F closed=C
(answered: 200 answers read; failed: connections that could not be opened or answered;
closed: connections the server closed afterwards). Run it with `ulimit -n` above N.

usage: idle_connections.py HOST PORT N STATUS_FILE
"""
import asyncio
import signal
import sys

host, port, n, status_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
opened = answered = failed = closed = 0
REQ = b"GET /healthz HTTP/1.1\r\nHost: %s:%d\r\nConnection: keep-alive\r\n\r\n" % (host.encode(), port)


def write_status():
    with open(status_file + ".tmp", "w") as f:
        f.write(f"opened={opened} answered={answered} failed={failed} closed={closed}\n")
    import os
    os.replace(status_file + ".tmp", status_file)


async def one(gate, stop):
    global opened, answered, failed, closed
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            opened += 1
            writer.write(REQ)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await asyncio.wait_for(reader.readexactly(length), 30)
            if not head.startswith(b"HTTP/1.1 200"):
                failed += 1
                writer.close()
                return
            answered += 1
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            failed += 1
            return
    # held open: a read returns only when the server closes (or at stop)
    reading = asyncio.ensure_future(reader.read(1))
    await asyncio.wait([reading, stop], return_when=asyncio.FIRST_COMPLETED)
    if reading.done():
        closed += 1
    else:
        reading.cancel()
    writer.close()


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    loop.add_signal_handler(signal.SIGINT, lambda: stop.done() or stop.set_result(None))
    gate = asyncio.Semaphore(256)   # connections being opened at once
    tasks = [asyncio.ensure_future(one(gate, stop)) for _ in range(n)]

    async def report():
        while not stop.done():
            write_status()
            await asyncio.sleep(1)

    reporter = asyncio.ensure_future(report())
    await asyncio.gather(*tasks)
    reporter.cancel()
    write_status()


asyncio.run(main())
