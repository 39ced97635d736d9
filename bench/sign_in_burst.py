#!/usr/bin/env python3
"""A burst of concurrent sign-ins against a running behalf, and what it cost.

docs/security.md L1: prepares N sign-in forms (each its own cookie and CSRF
token), posts them all at once from N threads, and samples the server's resident
memory while they run. Prints the answers by status, the time the burst took and
the server's RSS before and at its peak.

    bench/sign_in_burst.py BASE_URL SERVER_PID [N] [USERNAME]

With USERNAME (default alice) every attempt is a wrong password for that one
account; with USERNAME=* each attempt names an account of its own.
"""
import collections
import http.cookiejar
import re
import sys
import threading
import time
import urllib.parse
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def form(base, username):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": "wrong password", "csrf_token": csrf, "return_to": "/account"}
    ).encode()
    return opener, body


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    base, pid = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    who = sys.argv[4] if len(sys.argv) > 4 else "alice"
    forms = [form(base, who if who != "*" else f"nobody{i}") for i in range(n)]
    statuses = collections.Counter()
    start = threading.Barrier(n + 1)
    done = threading.Event()
    peak = [rss_kib(pid)]
    before = peak[0]

    def attempt(opener, body):
        start.wait()
        try:
            statuses[opener.open(f"{base}/login", data=body, timeout=60).status] += 1
        except urllib.error.HTTPError as error:
            statuses[error.code] += 1
        except Exception as error:  # noqa: BLE001 - a refused connection is an answer too
            statuses[type(error).__name__] += 1

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.01)

    threads = [threading.Thread(target=attempt, args=f) for f in forms]
    for t in threads:
        t.start()
    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    took = time.monotonic() - began
    done.set()
    sampler.join()
    print(f"{n} sign-ins at once for {'one account each' if who == '*' else who}: {dict(sorted(statuses.items(), key=str))}")
    print(f"took {took:.2f} s; server RSS {before / 1024:.0f} MiB before, {peak[0] / 1024:.0f} MiB at peak")


if __name__ == "__main__":
    main()
