"""Fallback load generator when `wrk` is not installed: keep-alive HTTP/1.1 connections on
asyncio, the same requests as bench/vote.lua, the same result fields ("BENCH" line of wrk).

It runs in the benchmark's own Python process, so it takes more CPU than wrk; compare figures
only between runs made with the same generator (the benchmark says which one it used).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Stats:
    latencies_us: list[int] = field(default_factory=list)
    non2xx: int = 0
    nonfragment: int = 0
    repeats: int = 0  # api: 409 already_voted, a pair drawn again (no error)
    statuses: dict[int, int] = field(default_factory=dict)  # of the non-2xx answers
    first_error: str = ""
    connect: int = 0
    read: int = 0


def percentile(sorted_values: list[int], p: float) -> int:
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def _request_maker(
    mode: str, lines: list[str], lo: int, hi: int, host: str, port: int
) -> Callable[[], bytes]:
    host_header = f"Host: {host}:{port}\r\n"

    def make() -> bytes:
        idea = random.randint(lo, hi)
        line = random.choice(lines)
        if mode == "app":
            cookie, token = line.split("\t", 1)
            body = f"_csrf_token={token}&next=%2Fideas%2F{idea}"
            head = (
                f"POST /ideas/{idea}/vote HTTP/1.1\r\n{host_header}Cookie: {cookie}\r\n"
                f"X-CSRFToken: {token}\r\nHX-Request: true\r\nHX-Target: vote-{idea}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            return (head + body).encode()
        if mode == "api":
            return (
                f"POST /api/ideas/{idea}/vote HTTP/1.1\r\n{host_header}"
                f"Authorization: Bearer {line}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
        return (
            f"POST /vote/{idea} HTTP/1.1\r\n{host_header}X-User-Id: {line}\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    return make


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        return status, await reader.readexactly(int(headers[b"content-length"]))
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])
    return status, b""


async def _connection(
    host: str, port: int, make: Callable[[], bytes], mode: str, deadline: float, stats: _Stats
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        stats.connect += 1
        return
    try:
        while time.perf_counter() < deadline:
            request = make()
            started = time.perf_counter()
            writer.write(request)
            try:
                status, body = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats.read += 1
                return
            stats.latencies_us.append(int((time.perf_counter() - started) * 1_000_000))
            if status == 409 and mode == "api" and b'"already_voted"' in body:
                stats.repeats += 1
            elif not 200 <= status <= 299:
                stats.non2xx += 1
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                stats.first_error = stats.first_error or f"{status} {body[:300]!r}"
            elif mode == "app" and b'id="vote-' not in body:
                stats.nonfragment += 1
    finally:
        writer.close()


async def run(
    *,
    host: str,
    port: int,
    mode: str,
    lines: list[str],
    lo: int,
    hi: int,
    connections: int,
    duration: float,
    first_error: list[str] | None = None,
) -> dict[str, int]:
    """Drive the endpoint for `duration` seconds; answers the fields of wrk's BENCH line.
    The first answer outside 2xx ("status body"), if any, is appended to `first_error`."""
    make = _request_maker(mode, lines, lo, hi, host, port)
    stats = _Stats()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(_connection(host, port, make, mode, deadline, stats) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    values = sorted(stats.latencies_us)
    counts = {
        "requests": len(values),
        "duration_us": int(elapsed * 1_000_000),
        "p50_us": percentile(values, 50),
        "p90_us": percentile(values, 90),
        "p99_us": percentile(values, 99),
        "max_us": values[-1] if values else 0,
        "non2xx": stats.non2xx,
        "nonfragment": stats.nonfragment,
        "repeats": stats.repeats,
        "connect": stats.connect,
        "read": stats.read,
        "write": 0,
        "timeout": 0,
        **{f"status_{status}": n for status, n in stats.statuses.items()},
    }
    if first_error is not None and stats.first_error:
        first_error.append(stats.first_error)
    return counts
