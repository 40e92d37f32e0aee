"""Experiment: the nats-py and JetStream KV facts ``docs/nats-notes.md`` reports.

Starts real servers on loopback (``tests/support/nats_servers.py``: stores in a
temporary folder, stopped by pid) and prints one JSON object per fact:

* ``core``: request/reply, no responders, headers, queue groups;
* ``kv``: ``create`` on an existing key, CAS ``update``, ``delete``/``purge``,
  ``keys()``, and what a watcher sees for each;
* ``watch_latency``: put → watcher delivery, sequential puts;
* ``expiry``: what a watcher sees when a key ages out (bucket max age, per-key
  TTL), with and without the bucket's limit markers;
* ``auth``: token, user/password and TLS servers: connecting with the
  right, wrong and no credentials;
* ``failover``: a three-server cluster, an R3 bucket, one member stopped
  (SIGKILL or SIGTERM; the stream leader or a follower): client reconnect
  time and the first successful write and read.

``python -m bench.experiments.nats_facts [--only core,kv,...] [--rounds N]``;
``AGENTGEN_NATS_SERVER`` picks another server binary (e.g. Debian's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import ssl
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from agentgen.nats_server import find_nats_server, server_version
from tests.support.nats_servers import NatsCluster, start_cluster, start_server

T = TypeVar("T")
EVENT_WAIT = 5.0
"""Seconds a watcher is given to show (or not) an event."""


def report(fact: str, **figures: Any) -> None:
    """Print one fact as a JSON line."""
    print(json.dumps({"fact": fact, **figures}, default=str), flush=True)


async def next_event(watcher: KeyValue.KeyWatcher, wait: float) -> Any:
    """The watcher's next entry, or ``"none within Ns"``."""
    try:
        return await watcher.updates(timeout=wait)
    except nats.errors.TimeoutError:
        return f"none within {wait:g}s"


def describe(entry: Any) -> Any:
    """An entry as ``{key, op, value, revision}`` (other values as they are)."""
    if isinstance(entry, KeyValue.Entry):
        return {
            "key": entry.key,
            "op": entry.operation,
            "value": entry.value,
            "revision": entry.revision,
        }
    return entry


async def error_of(call: Callable[[], Awaitable[object]]) -> str:
    """The qualified name of what ``call`` raises, or ``returned ...``."""
    try:
        result = await call()
    except Exception as error:
        return f"{type(error).__module__}.{type(error).__qualname__}"
    return f"returned {result!r}"


async def core_facts(url: str) -> None:
    """Request/reply, no responders, headers, queue groups."""
    client = await nats.connect(url)
    try:

        async def echo(msg: Msg) -> None:
            await msg.respond(msg.data)  # takes no headers: sends the request's

        async def own_headers(msg: Msg) -> None:
            await client.publish(msg.reply, b"ok", headers={"Status": "200"})

        await client.subscribe("echo", cb=echo)
        await client.subscribe("headers", cb=own_headers)
        reply = await client.request("echo", b"x", 5, headers={"Trace-Id": "1"})
        other = await client.request("headers", b"x", 5, headers={"Trace-Id": "1"})
        report(
            "request_reply",
            respond_reply_headers=reply.headers,
            publish_reply_headers=other.headers,
        )
        started = time.perf_counter()
        no_responders = await error_of(lambda: client.request("nobody", b"", 5))
        report(
            "no_responders",
            raises=no_responders,
            after_ms=round((time.perf_counter() - started) * 1e3, 2),
        )
        counts = {"a": 0, "b": 0}
        done = asyncio.Event()

        def member(name: str) -> Callable[[Msg], Awaitable[None]]:
            async def handle(msg: Msg) -> None:
                counts[name] += 1
                if sum(counts.values()) == 1000:
                    done.set()

            return handle

        for name in counts:
            await client.subscribe("work", queue="workers", cb=member(name))
        for _ in range(1000):
            await client.publish("work", b"x")
        await asyncio.wait_for(done.wait(), EVENT_WAIT)
        await client.flush()
        report("queue_group", published=1000, received_per_member=counts)
    finally:
        await client.close()


async def kv_facts(url: str) -> None:
    """create/update/delete/purge/keys and the watcher's view of each."""
    client = await nats.connect(url)
    try:
        kv = await client.jetstream().create_key_value(
            KeyValueConfig(bucket="facts", history=5)
        )
        watcher = await kv.watchall()
        report("watch_initial", first=describe(await next_event(watcher, 1)))
        first = await kv.create("k", b"1")
        report("create_existing", raises=await error_of(lambda: kv.create("k", b"2")))
        stale = await error_of(lambda: kv.update("k", b"3", last=first + 100))
        second = await kv.update("k", b"3", last=first)
        report("update_cas", wrong_revision_raises=stale, revisions=[first, second])
        await kv.delete("k")
        report(
            "delete",
            get_raises=await error_of(lambda: kv.get("k")),
            create_after_delete=await error_of(lambda: kv.create("k", b"4")),
            history_len=len(await kv.history("k")),
        )
        await kv.purge("k")
        report(
            "purge",
            history_after=[describe(e) for e in await kv.history("k")],
            keys_raises=await error_of(kv.keys),
        )
        await kv.put("a", b"1")
        await kv.put("b.c", b"2")
        report("keys", keys=sorted(await kv.keys()))
        seen = []
        for _ in range(7):
            seen.append(describe(await next_event(watcher, 1)))
        report("watcher_saw", entries=seen)
        await watcher.stop()
    finally:
        await client.close()


async def watch_latency(url: str, count: int = 500) -> None:
    """Put → watcher delivery, one put at a time."""
    client = await nats.connect(url)
    try:
        kv = await client.jetstream().create_key_value(KeyValueConfig(bucket="latency"))
        watcher = await kv.watch("k")
        await watcher.updates(timeout=EVENT_WAIT)  # the initial None
        latencies = []
        for seq in range(count):
            started = time.perf_counter()
            await kv.put("k", str(seq).encode())
            entry = await watcher.updates(timeout=EVENT_WAIT)
            latencies.append(time.perf_counter() - started)
            assert entry is not None and entry.value == str(seq).encode()
        latencies.sort()
        report(
            "watch_latency",
            count=count,
            p50_us=round(statistics.median(latencies) * 1e6),
            p99_us=round(latencies[int(0.99 * (count - 1))] * 1e6),
            note="includes the put's own round trip",
        )
        await watcher.stop()
    finally:
        await client.close()


async def _expiry_case(
    client: Client, bucket: str, config: KeyValueConfig, key_ttl: float | None
) -> None:
    js = client.jetstream()
    try:
        kv = await js.create_key_value(config)
    except Exception as error:
        report("expiry", bucket=bucket, create_raises=repr(error))
        return
    watcher = await kv.watchall()
    await watcher.updates(timeout=EVENT_WAIT)
    put_at = time.monotonic()
    await kv.create("lease", b"owner", msg_ttl=key_ttl)
    put_seen = describe(await next_event(watcher, EVENT_WAIT))
    expired = await next_event(watcher, 4.0)
    seen_after = (
        round(time.monotonic() - put_at, 2)
        if isinstance(expired, KeyValue.Entry)
        else None
    )
    figures: dict[str, Any] = {
        "bucket_max_age": config.ttl,
        "limit_marker_ttl": config.limit_marker_ttl,
        "key_ttl": key_ttl,
        "watcher_on_put": put_seen,
        "watcher_after_expiry": describe(expired),
        "event_after_s": seen_after,
        "get_after": describe(await error_of(lambda: kv.get("lease"))),
        "create_again": await error_of(lambda: kv.create("lease", b"next")),
    }
    if isinstance(expired, KeyValue.Entry):
        marker = expired.revision
        figures["update_over_marker"] = await error_of(
            lambda: kv.update("lease", b"next", last=marker)
        )
        # A second key: how long after its marker appears does create work?
        await kv.create("other", b"x", msg_ttl=key_ttl)
        await next_event(watcher, EVENT_WAIT)
        await next_event(watcher, 4.0)
        marked_at = time.monotonic()
        deadline = marked_at + 10
        while time.monotonic() < deadline:
            outcome = await error_of(lambda: kv.create("other", b"y"))
            if outcome.startswith("returned"):
                figures["create_works_after_marker_s"] = round(
                    time.monotonic() - marked_at, 2
                )
                break
            await asyncio.sleep(0.1)  # bounded polling, 10 s at most
        figures["watcher_after_marker_gone"] = [
            describe(await next_event(watcher, 0.5)) for _ in range(2)
        ]
    report("expiry", bucket=bucket, **figures)
    await watcher.stop()


async def expiry_facts(url: str) -> None:
    """What a watcher sees when a key ages out, four ways."""
    client = await nats.connect(url)
    try:
        await _expiry_case(
            client, "age", KeyValueConfig(bucket="age", ttl=1.0), key_ttl=None
        )
        await _expiry_case(
            client,
            "age_markers",
            KeyValueConfig(bucket="age_markers", ttl=1.0, limit_marker_ttl=1.0),
            key_ttl=None,
        )
        await _expiry_case(
            client, "key_ttl", KeyValueConfig(bucket="key_ttl"), key_ttl=1.0
        )
        await _expiry_case(
            client,
            "key_ttl_markers",
            KeyValueConfig(bucket="key_ttl_markers", limit_marker_ttl=1.0),
            key_ttl=1.0,
        )
    finally:
        await client.close()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN) and its key, made by ``openssl``."""
    cert, key = folder / "server.pem", folder / "server.key"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def _connect_outcome(url: str, **options: Any) -> str:
    async def attempt() -> str:
        client = await nats.connect(
            url, connect_timeout=2, allow_reconnect=False, **options
        )
        await client.close()
        return "connected"

    return await error_of(attempt)


async def auth_facts(folder: Path) -> None:
    """Token, user/password and TLS: what connect does with and without them."""
    cert, key = _self_signed(folder)
    cases: list[tuple[str, list[str], dict[str, Any], dict[str, Any]]] = [
        ("token", ["--auth", "s3cret"], {"token": "s3cret"}, {"token": "wrong"}),
        (
            "user_password",
            ["--user", "agent", "--pass", "s3cret"],
            {"user": "agent", "password": "s3cret"},
            {"user": "agent", "password": "wrong"},
        ),
        (
            "tls",
            ["--tls", "--tlscert", str(cert), "--tlskey", str(key)],
            {"tls": ssl.create_default_context(cafile=str(cert))},
            {},
        ),
    ]
    for label, flags, good, bad in cases:
        server = await asyncio.to_thread(start_server, folder / label, label, flags)
        try:
            tls_url = server.url.replace("nats://", "tls://")
            report(
                "auth",
                case=label,
                right=await _connect_outcome(server.url, **good),
                wrong_or_none=await _connect_outcome(server.url, **bad),
                none=await _connect_outcome(server.url),
                **(
                    {"tls_url_default_context": await _connect_outcome(tls_url)}
                    if label == "tls"
                    else {}
                ),
            )
        finally:
            await asyncio.to_thread(server.stop)


async def _until(attempt: Callable[[], Awaitable[T]], deadline: float) -> T:
    while True:
        try:
            return await attempt()
        except (nats.errors.Error, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)  # bounded back-off between attempts


async def _failover_once(folder: Path, how: str, victim: str) -> dict[str, Any]:
    cluster: NatsCluster = await asyncio.to_thread(start_cluster, folder)
    try:
        admin = await nats.connect(cluster.urls)
        kv0 = await admin.jetstream(timeout=10).create_key_value(
            KeyValueConfig(bucket="routes", replicas=3)
        )
        await kv0.put("k", b"0")
        info = await admin.jetstream().stream_info("KV_routes")
        await admin.close()
        assert info.cluster is not None and info.cluster.leader is not None
        leader = cluster.index_of(info.cluster.leader)
        index = leader if victim == "leader" else (leader + 1) % 3
        urls = cluster.urls
        ordered = [urls[index], *(u for i, u in enumerate(urls) if i != index)]
        reconnected = asyncio.Event()

        async def on_reconnect() -> None:
            reconnected.set()

        client = await nats.connect(
            ordered,
            dont_randomize=True,
            reconnect_time_wait=1,
            max_reconnect_attempts=60,
            connect_timeout=2,
            reconnected_cb=on_reconnect,
        )
        kv = await client.jetstream(timeout=0.5).key_value("routes")
        # A watcher on the same (doomed or not) server as the writer.
        watcher = await kv.watch("k")
        first_seen = await watcher.updates(timeout=EVENT_WAIT)
        assert first_seen is not None and first_seen.value == b"0"
        stopped_at = time.monotonic()
        server = cluster.servers[index]
        if how == "SIGKILL":
            await asyncio.to_thread(server.kill)
        else:
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.process.wait, 30)
            server.process = None
        deadline = stopped_at + 60
        await asyncio.wait_for(reconnected.wait(), 60)
        reconnect_s = time.monotonic() - stopped_at
        failures: dict[str, int] = {}

        async def write() -> int:
            try:
                return await kv.put("k", b"1")
            except Exception as error:
                name = f"{type(error).__module__}.{type(error).__qualname__}"
                failures[name] = failures.get(name, 0) + 1
                raise

        await _until(write, deadline)
        write_s = time.monotonic() - stopped_at
        await _until(lambda: kv.get("k"), deadline)
        read_s = time.monotonic() - stopped_at
        watched: float | str
        try:
            while (entry := await watcher.updates(timeout=30)) is None:
                pass
            watched = round(time.monotonic() - stopped_at, 3)
            assert entry.value == b"1", entry
        except nats.errors.TimeoutError:
            watched = "not within 30s of the write"
        await client.close()
        return {
            "stopped": f"{how} {victim}",
            "reconnect_s": round(reconnect_s, 3),
            "first_write_s": round(write_s, 3),
            "first_read_s": round(read_s, 3),
            "watcher_saw_write_s": watched,
            "failed_writes": failures,
        }
    finally:
        await asyncio.to_thread(cluster.stop)


async def failover_facts(rounds: int) -> None:
    """Stop one of three members; how long until writes and reads succeed."""
    for how, victim in (
        ("SIGKILL", "leader"),
        ("SIGTERM", "leader"),
        ("SIGKILL", "follower"),
    ):
        for round_ in range(rounds):
            with tempfile.TemporaryDirectory(prefix="nats-facts-") as folder:
                figures = await _failover_once(Path(folder), how, victim)
            report("failover", round=round_ + 1, **figures)


async def main(only: set[str], rounds: int) -> None:
    """Run the chosen facts on fresh servers."""
    report("server", version=server_version(find_nats_server()))
    with tempfile.TemporaryDirectory(prefix="nats-facts-") as folder:
        server = await asyncio.to_thread(start_server, Path(folder))
        try:
            for name, fact in (
                ("core", core_facts),
                ("kv", kv_facts),
                ("watch_latency", watch_latency),
                ("expiry", expiry_facts),
            ):
                if name in only:
                    await fact(server.url)
        finally:
            server.stop()
        if "auth" in only:
            await auth_facts(Path(folder))
    if "failover" in only:
        await failover_facts(rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="core,kv,watch_latency,expiry,auth,failover",
        help="facts to run",
    )
    parser.add_argument("--rounds", type=int, default=3, help="failover repetitions")
    arguments = parser.parse_args()
    asyncio.run(main(set(arguments.only.split(",")), arguments.rounds))
