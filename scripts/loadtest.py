#!/usr/bin/env python
"""Readers polling and reporters posting at once, against a running newsroom.

    python scripts/loadtest.py --base http://127.0.0.1:6081 --origin http://127.0.0.1:8000 \\
        --story us-iran-iraq-live-updates --username reporter --password demo-reporter-2020

Readers poll the live-updates endpoint through --base (the caching proxy) the way the
page script does; reporters post through the desk at --origin. Runs for --seconds, then
lets readers catch up, and stops by itself. Loopback addresses only.

Prints a JSON report: requests served, errors (each with its time), p50/p99 latency,
whether every posted entry reached every reader exactly once, and how long entries took
to reach readers (p50 and max, from the moment the desk was sent the post).
"""

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
import uuid
from urllib.parse import urlparse

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Reader:
    def __init__(self, number):
        self.number = number
        self.version = None
        self.deliveries = {}  # entry id -> how many answers brought it as new or changed
        self.first_seen = {}  # entry id -> when an answer first brought it


class Run:
    def __init__(self):
        self.started = time.monotonic()
        self.latencies = []
        self.errors = []
        self.requests = 0
        self.posted = []  # entry headlines the desk accepted
        self.sent_at = {}  # headline -> when the post the desk accepted was sent
        self.attempts = 0

    def now(self):
        return round(time.monotonic() - self.started, 2)

    def record(self, started, ok, what):
        self.requests += 1
        self.latencies.append(time.monotonic() - started)
        if not ok:
            self.errors.append({"at": self.now(), "what": what})


async def poll(client, args, run, reader, stop):
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = await client.get(
                f"{args.base}/stories/{args.story}/updates/{reader.version}/"
            )
            ok = response.status_code == 200
            run.record(started, ok, f"reader {reader.number}: {response.status_code}")
            if ok:
                payload = response.json()
                arrived = time.monotonic()
                for entry in payload["entries"]:
                    reader.deliveries[entry["id"]] = reader.deliveries.get(entry["id"], 0) + 1
                    reader.first_seen.setdefault(entry["id"], arrived)
                reader.version = payload["version"]
                interval = payload["poll_interval"]
            else:
                interval = args.interval
        except httpx.HTTPError as error:
            run.record(started, False, f"reader {reader.number}: {type(error).__name__}")
            interval = args.interval
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311 - jitter


async def login(client, args):
    page = await client.get(f"{args.origin}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        f"{args.origin}/admin/login/",
        data={"csrfmiddlewaretoken": token, "username": args.username, "password": args.password},
        headers={"Referer": f"{args.origin}/admin/login/"},
    )
    if "sessionid" not in client.cookies:
        sys.exit(f"could not log in as {args.username}: {response.status_code}")


async def report(client, args, run, number, stop):
    """Post an entry every --post-every seconds; a failed post is retried with the same
    form token, so a retry can never post twice and a fault loses nothing."""
    await login(client, args)
    count = 0
    while not stop.is_set():
        count += 1
        headline = f"Reporter {number} update {count}"
        submission = str(uuid.uuid4())
        while True:
            started = time.monotonic()
            run.attempts += 1
            try:
                desk = await client.get(f"{args.origin}/desk/{args.story}/")
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', desk.text).group(1)
                # The desk opens with the reporter's own byline chosen, which their
                # entries must carry.
                authors = re.findall(r'name="authors" value="(\d+)"[^>]*checked', desk.text)
                sent = time.monotonic()
                response = await client.post(
                    f"{args.origin}/desk/{args.story}/",
                    data={
                        "csrfmiddlewaretoken": token,
                        "submission_id": submission,
                        "headline": headline,
                        "body": f"Posted under load at {run.now()} s.",
                        "action": "publish",
                        "authors": authors,
                    },
                    headers={"Referer": f"{args.origin}/desk/{args.story}/"},
                )
                ok = response.status_code == 302
            except (httpx.HTTPError, AttributeError):
                ok = False
            run.record(started, ok, f"reporter {number}: post failed")
            if ok:
                run.posted.append(headline)
                run.sent_at[headline] = sent
                break
            await asyncio.sleep(1)
        await asyncio.sleep(args.post_every)


async def main(args):
    for url in (args.base, args.origin):
        if urlparse(url).hostname not in LOOPBACK:
            sys.exit(f"{url}: this load test only targets loopback addresses")
    run = Run()
    limits = httpx.Limits(max_connections=args.readers + 10)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        story = (await client.get(f"{args.base}/api/stories/{args.story}/")).json()
        readers = [Reader(n) for n in range(args.readers)]
        for reader in readers:
            reader.version = story["version"]
        stop_posting, stop_reading = asyncio.Event(), asyncio.Event()
        reporter_clients = [httpx.AsyncClient(timeout=10) for _ in range(args.reporters)]
        tasks = [asyncio.create_task(poll(client, args, run, r, stop_reading)) for r in readers]
        posting = [
            asyncio.create_task(report(c, args, run, n, stop_posting))
            for n, c in enumerate(reporter_clients)
        ]
        await asyncio.sleep(args.seconds)
        stop_posting.set()
        await asyncio.gather(*posting)  # a post in flight finishes before the last version
        # Let readers catch up with the last post (a poll interval plus a cache lifetime).
        final = (await client.get(f"{args.origin}/api/stories/{args.story}/")).json()["version"]
        deadline = time.monotonic() + args.catch_up
        while time.monotonic() < deadline and any(r.version < final for r in readers):
            await asyncio.sleep(0.5)
        stop_reading.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        entries = []
        next_url = f"{args.origin}/api/stories/{args.story}/entries/?limit=100"
        while next_url:
            page = (await client.get(next_url)).json()
            entries += page["entries"]
            next_url = page["next"]
        for reporter_client in reporter_clients:
            await reporter_client.aclose()

    posted = [e for e in entries if e["headline"] in set(run.posted)]
    posted_ids = {e["id"] for e in posted}
    delays = sorted(
        r.first_seen[e["id"]] - run.sent_at[e["headline"]]
        for r in readers
        for e in posted
        if e["id"] in r.first_seen
    ) or [0.0]
    missing_detail = [
        {
            "reader": r.number,
            "version": r.version,
            "entries": sorted(posted_ids - set(r.deliveries)),
        }
        for r in readers
        if posted_ids - set(r.deliveries)
    ]
    missing = sum(len(m["entries"]) for m in missing_detail)
    twice = sum(1 for r in readers for i in posted_ids if r.deliveries.get(i, 0) > 1)
    latencies = sorted(run.latencies)
    result = {
        "seconds": args.seconds,
        "readers": args.readers,
        "reporters": args.reporters,
        "requests": run.requests,
        "errors": len(run.errors),
        "error_log": run.errors,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "posted": len(run.posted),
        "posted_found": len(posted_ids),
        "deliveries_missing": missing,
        "deliveries_duplicated": twice,
        "delay_p50_s": round(statistics.median(delays), 2),
        "delay_max_s": round(delays[-1], 2),
        "missing_detail": missing_detail[:10],
        "final_version": final,
        "every_entry_reached_every_reader_once": missing == 0
        and twice == 0
        and len(posted_ids) == len(run.posted),
    }
    print(json.dumps(result, indent=2))
    return result


def parse(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="where readers poll: the caching proxy")
    parser.add_argument("--origin", required=True, help="the app itself, for reporters")
    parser.add_argument("--story", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--reporters", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--post-every", type=float, default=2.0)
    parser.add_argument("--interval", type=float, default=1.0, help="retry interval after an error")
    parser.add_argument("--catch-up", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not (1 <= args.readers <= 500 and 1 <= args.reporters <= 20 and 0 < args.seconds <= 600):
        parser.error("keep it bounded: 1-500 readers, 1-20 reporters, at most 600 seconds")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
