"""`make bench-workshop`: a live workshop under load, on two app processes.

The issue's scenario: 300 phones join an event within 30 s, then submit 600 ideas and cast
6,000 dot votes over 5 minutes, while 3 projectors stay connected to the event's live stream
(2 on app process A, 1 on B).

1. A fresh database `ideas_bench_workshop` (on the server of DATABASE_URL, else on a throw-away
   embedded PostgreSQL), migrated. One process (collect and vote phases open, no vote budget),
   a moderator, and an event made with the app's own service: capacity = phones, 20 dots each,
   switched to dot voting (the projector moves the counts in place).
2. Two app processes (uvicorn, one process each, `ideas_platform.app:app_for_uvicorn`) on free
   ports, sharing the database; live updates travel between them by LISTEN/NOTIFY.
3. Three projectors open `GET /events/{id}/live/stream` and behave as `static/projector.js`:
   a vote for an idea on the screen changes its count in place (and the totals are fetched at
   most every 2 s); a new idea (or a vote for an idea not on the screen yet) fetches
   `/events/{id}/live/state` again (one fetch at a time, the next one 300 ms after). Every
   message is recorded with its receive time.
4. Phones (an httpx client each, own cookies, alternating between A and B) follow a fixed-rate
   schedule: every request has a planned start, and its latency is measured from that plan, so
   a stalled server shows up instead of slowing the load down. Joins: GET and POST
   /join/{code} (as a guest) at phones/30 s. Ideas: POST /events/{id}/ideas, two per phone,
   evenly over the first half of the window. Votes: POST /api/ideas/{id}/vote with the CSRF
   header, 20 per phone, evenly over the window after its first 5 %, each on an idea of the
   event that exists by then and that the phone has not voted for (popular ideas more often).
5. Afterwards: latency of the phone requests, the messages each projector got against the ideas
   created and the votes acknowledged, the delay from sending a vote to its projector message
   (matched by idea and count), what the screens finally show, and the app's invariant checks.

The exit status is 1 if a projector missed an update, the vote→projector p99 is 1 s or more, a
phone request failed, a modelled screen ends with a wrong count, or an invariant is broken.
Figures and a diagnosis: bench/README.md, "Workshop load".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import ssl
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.database import Embedded, log, pg_params, recreate_database, server_url
from bench.votes import (
    Servers,
    free_port,
    group_cpu_seconds,
    run_benchmark,
    uvicorn_args,
    wait_ready,
)

BENCH_DB = "ideas_bench_workshop"
HOST = "127.0.0.1"
TARGET_P99_S = 1.0
REFRESH_DELAY_S = 0.3  # static/projector.js: the next state fetch 300 ms after the last one

# --- texts of the phones -----------------------------------------------------------------------

FIRST_NAMES = ("Anna", "Jonas", "Katrin", "Mehmet", "Lena", "Tomasz", "Sabine", "Felix", "Jana",
               "Ute", "Piotr", "Marie", "Steffen", "Claudia", "Lukas", "Ines", "Heiko", "Dana",
               "Ronny", "Petra", "Olga", "Sven", "Mandy", "Karel")  # fmt: skip
ORGANISATIONS = (
    "Beispiel GmbH",
    "TU Chemnitz",
    "Landratsamt Zwickau",
    "IG Metall Sachsen",
    "Zukunft Lausitz e. V.",
    "Handwerkskammer Dresden",
    "Fraunhofer IWU",
    "Stadtwerke Görlitz",
    "",
)
SECTORS = ("industry", "science", "administration", "social_partners", "civil_society", "other")
REGIONS = (
    "dresden",
    "leipzig",
    "chemnitz",
    "zwickau",
    "goerlitz",
    "bautzen",
    "vogtlandkreis",
    "erzgebirgskreis",
    "meissen",
    "berlin",
)
SUBJECTS = (
    "Wasserstoff-Tankstellen für Lkw",
    "Azubi-Wohnheime",
    "Fachkräfte aus Polen und Tschechien",
    "KI-Sprechstunden für Handwerksbetriebe",
    "Sammelstellen für Altbatterien",
    "3D-Druck-Labore an Berufsschulen",
    "Schichtpläne passend zu Kita-Zeiten",
    "Mitfahrbörsen für Pendler",
    "schnellere Genehmigungen für Solarparks",
    "Reparaturcafés für Elektrogeräte",
    "Gründerzentren an Hochschulen",
    "Ausbildung für die Halbleiterindustrie",
    "Abwärme aus Rechenzentren",
    "Weiterbildung für ältere Beschäftigte",
    "Glasfaser für Gewerbegebiete",
    "Werkswohnungen in Bahnhofsnähe",
)
PLACES = (
    "im Vogtland",
    "in der Lausitz",
    "im Erzgebirge",
    "in Chemnitz",
    "rund um Leipzig",
    "im Landkreis Görlitz",
    "in Zwickau",
    "in der Sächsischen Schweiz",
    "in Dresden",
    "im Landkreis Bautzen",
)
TITLES = (
    "{subject} {place} ausbauen",
    "Mehr {subject} {place}",
    "{subject} {place} fördern",
    "Pilotprojekt: {subject} {place}",
    "{subject} {place} – jetzt anfangen",
)
SENTENCES = (
    "Viele Betriebe suchen seit Jahren nach einer Lösung.",
    "Ein kleines Budget vom Land würde reichen, um anzufangen.",
    "Kammern und Hochschulen könnten das gemeinsam organisieren.",
    "So bleiben junge Leute in der Region.",
    "Ein erster Schritt wäre ein Pilot mit drei Unternehmen.",
    "Das spart Wege, Zeit und CO2.",
    "Andere Bundesländer haben damit gute Erfahrungen gemacht.",
    "Wichtig ist, dass auch kleine Firmen mitmachen können.",
    "Die Gewerkschaften sollten von Anfang an dabei sein.",
    "Nach zwei Jahren sollte man auswerten, was es gebracht hat.",
)


# --- measurements ------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of unsorted values (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def ms(values: list[float], p: float) -> str:
    return f"{pct(values, p) * 1000:.0f}" if values else "–"


@dataclass
class Series:
    """One kind of phone request: latencies from the planned start, lags, failures."""

    name: str
    planned: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    lags: list[float] = field(default_factory=list)  # planned start -> the generator got to it
    failures: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class Phone:
    index: int
    server: str
    client: httpx.AsyncClient
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    ok: bool = False
    voted: set[int] = field(default_factory=set)

    def csrf(self) -> str:
        for cookie in self.client.cookies.jar:
            if cookie.name == "csrftoken":
                return cookie.value or ""
        return ""


@dataclass
class Ack:
    """An acknowledged vote: what the projectors must show, and when it was sent."""

    idea_id: int
    vote_count: int
    sent: float  # perf_counter when the request went out
    server: str


@dataclass
class Message:
    received: float  # perf_counter
    received_wall: float  # time.time(), against the server's `sent`
    data: dict[str, Any]


@dataclass
class Projector:
    name: str
    server: str
    base: str
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    messages: list[Message] = field(default_factory=list)
    connects: int = 0
    bad_lines: int = 0  # data that is not JSON
    disconnects: Counter[str] = field(default_factory=Counter)
    # The screen, as static/projector.js keeps it.
    shown: dict[int, int | None] = field(default_factory=dict)  # idea id -> count on screen
    fetching: bool = False
    again: bool = False
    fetch_times: list[float] = field(default_factory=list)
    fetch_failures: Counter[str] = field(default_factory=Counter)
    client: httpx.AsyncClient | None = None
    soon: asyncio.TimerHandle | None = None
    highest: dict[int, int] = field(default_factory=dict)  # highest count heard per idea
    stepped_back: int = 0  # counts a state fetch showed lower than a message before it
    lost: int = 0
    unarrived: int = 0


def summary(response: httpx.Response) -> str:
    """Status and the gist of a refusal (JSON detail, or the page's flash/alert text)."""
    text = response.text
    with contextlib.suppress(ValueError):
        data = response.json()
        if isinstance(data, dict):
            return f"{response.status_code} {data.get('detail') or data}"[:160]
    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)</', text, re.S)
    gist = found.group(1).strip() if found else response.reason_phrase
    location = response.headers.get("location")
    return f"{response.status_code} {gist}{f' -> {location}' if location else ''}"[:160]


async def wait_until(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    for _ in range(1_000_000):
        if done() or time.perf_counter() > deadline:
            return
        await asyncio.sleep(0.05)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / tick, sum(fields) / tick


def postgres_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of a local PostgreSQL: the postmaster, its live children, and (through the
    postmaster's cutime/cstime) every backend that has ended, e.g. the publish connections."""
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(entry) == postmaster:
                total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        return None
    return total / tick


def parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
        return int(stat[stat.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the database ------------------------------------------------------------------------------


@dataclass
class Setup:
    process_id: int
    event_id: int
    code: str


async def prepare(url: str, phones: int, dots: int, mode: str) -> Setup:
    """The process, the moderator and the event, made with the app's models and services."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from ideas_platform.accounts.models import User
    from ideas_platform.core.choices import Region, Role, Sector
    from ideas_platform.core.i18n import BERLIN
    from ideas_platform.events import service as events
    from ideas_platform.processes.models import PhaseKind, Process, ProcessPhase

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            now = datetime.now(UTC)
            process = Process(
                slug="werkstatt",
                title="Industriestrategie Sachsen 2030",
                description="Benchmark einer Werkstatt mit Beamer und Handys.",
                vote_budget=None,
            )
            process.phases = [
                ProcessPhase(
                    kind=kind, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)
                )
                for kind in (PhaseKind.COLLECT, PhaseKind.VOTE)
            ]
            moderator = User(
                email="moderation@example.org",
                display_name="Moderation",
                password_hash="!",
                sector=Sector.ADMINISTRATION,
                organisation="Staatsministerium",
                region=Region.DRESDEN,
                role=Role.MODERATOR,
                locale="de",
                session_version=0,
                is_active=True,
            )
            session.add_all([process, moderator])
            await session.commit()
            event = await events.save_event(
                session,
                process=process,
                moderator=moderator,
                form=events.EventForm(
                    title="Zukunftswerkstatt Industrie 2030",
                    place="Stadthalle Chemnitz",
                    starts_at=datetime.now(BERLIN).strftime("%Y-%m-%dT%H:%M"),
                    capacity=str(phones),
                    dot_budget=str(dots),
                ),
            )
            if mode != "collect":
                await events.set_mode(session, event_id=event.id, moderator=moderator, mode=mode)
            return Setup(process.id, event.id, event.join_code)
    finally:
        await engine.dispose()


async def check(
    url: str, params: dict[str, Any], event_id: int
) -> tuple[list[str], dict[str, int]]:
    """The app's invariants (`ideas-platform check`) and the event's rows."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from ideas_platform.core.invariants import find_violations

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            violations = await find_violations(session)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(**params)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM event_attendees WHERE event_id = $1) AS attendees,
                      (SELECT count(*) FROM ideas WHERE event_id = $1) AS ideas,
                      (SELECT count(*) FROM votes v JOIN ideas i ON i.id = v.idea_id
                        WHERE i.event_id = $1) AS votes,
                      (SELECT coalesce(sum(vote_count), 0) FROM ideas
                        WHERE event_id = $1) AS counted,
                      (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM votes v
                         JOIN ideas i ON i.id = v.idea_id WHERE i.event_id = $1
                         GROUP BY v.user_id) AS per_user) AS most_dots""",
            event_id,
        )
        counts = {k: int(v) for k, v in dict(row).items()} if row else {}
        final = await conn.fetch("SELECT id, vote_count FROM ideas WHERE event_id = $1", event_id)
        for record in final:
            counts[f"idea:{record['id']}"] = int(record["vote_count"])
    finally:
        await conn.close()
    return violations, counts


# --- the workshop --------------------------------------------------------------------------------


class Workshop:
    def __init__(
        self,
        args: argparse.Namespace,
        setup: Setup,
        bases: dict[str, str],
        params: dict[str, Any],
        servers: Servers,
    ) -> None:
        import random

        self.args = args
        self.setup = setup
        self.bases = bases
        self.params = params
        self.servers = servers
        self.rng = random.Random(args.seed)
        self.series = {name: Series(name) for name in ("join", "idea", "vote")}
        self.phones: list[Phone] = []
        self.projectors: list[Projector] = []
        self.ideas: list[int] = []  # the event's ideas known so far (read from the database)
        self.appeal: dict[int, float] = {}
        self.ideas_created = 0
        self.acks: list[Ack] = []
        self.loop_lags: list[float] = []
        self.samples: dict[str, float] = defaultdict(float)  # maxima of the database samples
        self.stopping = False
        self.t0 = 0.0
        self.tasks: set[asyncio.Task[Any]] = set()
        self.idea_authors: list[int] = []  # the phone of each planned idea
        self.voters: list[int] = []  # the phone of each planned vote

    # --- projectors ---------------------------------------------------------------------------

    async def projector(self, p: Projector) -> None:
        stream_url = f"/events/{self.setup.event_id}/live/stream"
        timeout = httpx.Timeout(30.0, read=None)
        async with httpx.AsyncClient(base_url=p.base, timeout=timeout) as client:
            p.client = client
            while not self.stopping:
                try:
                    async with client.stream("GET", stream_url) as response:
                        if response.status_code != 200:
                            p.disconnects[f"HTTP {response.status_code}"] += 1
                            await asyncio.sleep(2)
                            continue
                        p.connects += 1
                        self.refresh(p)  # the page's initial state, or projector.js on "open"
                        async for line in response.aiter_lines():
                            received, wall = time.perf_counter(), time.time()
                            if line.startswith("data:") and line[5:].strip():
                                try:
                                    data = json.loads(line[5:])
                                except ValueError:
                                    p.bad_lines += 1
                                    continue
                                p.messages.append(Message(received, wall, data))
                                self.on_message(p, data)
                            elif line.startswith(":"):
                                p.connected.set()
                        p.disconnects["stream ended"] += 1
                except httpx.HTTPError as exc:
                    p.disconnects[type(exc).__name__] += 1
                except Exception as exc:  # counted and shown: a reader must not die silently
                    p.disconnects[f"{type(exc).__name__}: {exc}"[:100]] += 1
                if not self.stopping:
                    await asyncio.sleep(2)  # EventSource's retry: 2000

    def on_message(self, p: Projector, data: dict[str, Any]) -> None:
        """static/projector.js: a vote moves a count on the screen, anything else re-fetches."""
        idea_id = data.get("idea_id")
        if data.get("kind") == "vote" and isinstance(idea_id, int):
            count = int(data["vote_count"])
            p.highest[idea_id] = max(p.highest.get(idea_id, 0), count)
        if (
            data.get("kind") == "vote"
            and self.args.mode == "vote"
            and isinstance(idea_id, int)
            and idea_id in p.shown
        ):
            p.shown[idea_id] = int(data["vote_count"])
            self.refresh_soon(p)
            return
        self.refresh(p)

    def refresh_soon(self, p: Projector) -> None:
        """projector.js: the totals follow the counts, a state fetch at most every 2 s."""
        if p.soon is None and not self.args.stream_only:

            def due() -> None:
                p.soon = None
                self.refresh(p)

            p.soon = asyncio.get_running_loop().call_later(2.0, due)

    def refresh(self, p: Projector) -> None:
        if self.args.stream_only or self.stopping:
            return
        if p.fetching:
            p.again = True
            return
        p.fetching = True
        self.spawn(self.fetch_state(p))

    async def fetch_state(self, p: Projector) -> None:
        started = time.perf_counter()
        try:
            assert p.client is not None
            response = await p.client.get(
                f"/events/{self.setup.event_id}/live/state", headers={"HX-Request": "true"}
            )
            if response.status_code == 200:
                p.fetch_times.append(time.perf_counter() - started)
                shown: dict[int, int | None] = {}
                for idea, item in re.findall(r'data-idea="(\d+)">(.*?)</li>', response.text, re.S):
                    count = re.search(r'class="count">(\d+)<', item)
                    shown[int(idea)] = int(count.group(1)) if count else None
                # A fetch that read the database before a vote whose message came in
                # meanwhile shows an older count until the next fetch.
                p.stepped_back += sum(
                    1
                    for idea, count in shown.items()
                    if count is not None and count < p.highest.get(idea, 0)
                )
                p.shown = shown
            else:
                p.fetch_failures[f"HTTP {response.status_code}"] += 1
                p.again = True
        except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: closed at the end
            p.fetch_failures[type(exc).__name__] += 1
            p.again = True
        finally:
            p.fetching = False
            if p.again and not self.stopping:
                p.again = False
                asyncio.get_running_loop().call_later(REFRESH_DELAY_S, self.refresh, p)

    # --- phones -------------------------------------------------------------------------------

    def guest_form(self, phone: Phone) -> dict[str, str]:
        rng = self.rng
        return {
            "display_name": f"{rng.choice(FIRST_NAMES)} {chr(65 + phone.index % 26)}.",
            "sector": rng.choice(SECTORS),
            "organisation": rng.choice(ORGANISATIONS),
            "region": rng.choice(REGIONS),
        }

    def idea_text(self) -> tuple[str, str]:
        rng = self.rng
        subject, place = rng.choice(SUBJECTS), rng.choice(PLACES)
        title = rng.choice(TITLES).format(subject=subject, place=place)
        title = title[0].upper() + title[1:]
        body = " ".join(rng.sample(SENTENCES, rng.randint(2, 4)))
        return title, f"{subject} {place}: {body}"

    async def join(self, k: int, planned: float) -> None:
        series, phone, code = self.series["join"], self.phones[k], self.setup.code
        series.lags.append(time.perf_counter() - planned)
        try:
            page = await phone.client.get(f"/join/{code}")
            if page.status_code != 200:
                series.failures[f"GET {summary(page)}"] += 1
                return
            form = {**self.guest_form(phone), "_csrf_token": phone.csrf()}
            response = await phone.client.post(f"/join/{code}", data=form)
            location = response.headers.get("location", "")
            if response.status_code == 303 and location == f"/events/{self.setup.event_id}":
                series.latencies.append(time.perf_counter() - planned)
                phone.ok = True
            else:
                series.failures[f"POST {summary(response)}"] += 1
        except httpx.HTTPError as exc:
            series.failures[type(exc).__name__] += 1
        finally:
            phone.joined.set()

    async def submit(self, k: int, planned: float) -> None:
        series = self.series["idea"]
        series.lags.append(time.perf_counter() - planned)
        phone = self.phones[self.idea_authors[k]]
        await phone.joined.wait()
        if not phone.ok:
            series.skipped["the phone did not join"] += 1
            return
        title, body = self.idea_text()
        try:
            response = await phone.client.post(
                f"/events/{self.setup.event_id}/ideas",
                data={"title": title, "body": body, "_csrf_token": phone.csrf()},
            )
        except httpx.HTTPError as exc:
            series.failures[type(exc).__name__] += 1
            return
        if response.status_code == 303 and response.headers.get("location", "").endswith("#ideas"):
            series.latencies.append(time.perf_counter() - planned)
            self.ideas_created += 1
        else:
            series.failures[summary(response)] += 1

    def choose_idea(self, phone: Phone) -> int | None:
        candidates = [idea for idea in self.ideas if idea not in phone.voted]
        if not candidates:
            return None
        return self.rng.choices(candidates, [self.appeal[idea] for idea in candidates])[0]

    async def vote(self, k: int, planned: float) -> None:
        series = self.series["vote"]
        series.lags.append(time.perf_counter() - planned)
        phone = self.phones[self.voters[k]]
        await phone.joined.wait()
        if not phone.ok:
            series.skipped["the phone did not join"] += 1
            return
        idea = self.choose_idea(phone)
        if idea is None:
            series.skipped["no idea left to vote for"] += 1
            return
        phone.voted.add(idea)
        sent = time.perf_counter()
        try:
            response = await phone.client.post(
                f"/api/ideas/{idea}/vote", headers={"X-CSRFToken": phone.csrf()}
            )
        except httpx.HTTPError as exc:
            series.failures[type(exc).__name__] += 1
            return
        if 200 <= response.status_code < 300:
            series.latencies.append(time.perf_counter() - planned)
            data = response.json()
            self.acks.append(Ack(int(data["idea_id"]), int(data["vote_count"]), sent, phone.server))
        else:
            series.failures[summary(response)] += 1

    # --- the schedule -------------------------------------------------------------------------

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def fire(
        self, name: str, starts: list[float], action: Callable[[int, float], Awaitable[None]]
    ) -> None:
        """Start action(k, planned) at t0 + starts[k], whatever the earlier ones are doing."""
        self.series[name].planned = len(starts)
        running = []
        for k, start in enumerate(starts):
            planned = self.t0 + start
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            running.append(self.spawn(action(k, planned)))
        await asyncio.gather(*running)

    def plan(self) -> dict[str, list[float]]:
        args, rng = self.args, self.rng
        phones = len(self.phones)
        window = args.minutes * 60
        load_start = args.join_seconds
        n_ideas, n_votes = phones * args.ideas_per_phone, phones * args.dots
        idea_span = window * args.idea_share
        vote_start, vote_span = load_start + window * 0.05, window * 0.95

        def rounds(count: int) -> list[int]:
            order: list[int] = []
            while len(order) < count:
                block = list(range(phones))
                rng.shuffle(block)
                order.extend(block)
            return order[:count]

        self.idea_authors = rounds(n_ideas)
        self.voters = rounds(n_votes)
        return {
            "join": [k * args.join_seconds / phones for k in range(phones)],
            "idea": [load_start + (k + 0.5) * idea_span / n_ideas for k in range(n_ideas)],
            "vote": [vote_start + (k + 0.5) * vote_span / n_votes for k in range(n_votes)],
        }

    # --- watching -----------------------------------------------------------------------------

    async def observe(self) -> None:
        """The event's ideas as they are created (for the votes), and database samples."""
        conn = await asyncpg.connect(**self.params)
        last, tick = 0, 0
        try:
            while not self.stopping:
                rows = await conn.fetch(
                    "SELECT id FROM ideas WHERE event_id = $1 AND id > $2 ORDER BY id",
                    self.setup.event_id,
                    last,
                )
                for row in rows:
                    last = int(row["id"])
                    self.ideas.append(last)
                    self.appeal[last] = self.rng.paretovariate(1.5)  # a few ideas draw most dots
                tick += 1
                if tick % 2 == 0:
                    sample = await conn.fetchrow(
                        """SELECT pg_notification_queue_usage() AS notify_queue,
                                  count(*) AS connections,
                                  count(*) FILTER (WHERE state = 'active') AS active,
                                  count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock_waits,
                                  count(*) FILTER (WHERE state = 'idle in transaction')
                                      AS idle_in_tx
                           FROM pg_stat_activity WHERE datname = current_database()"""
                    )
                    if sample:
                        for key, value in dict(sample).items():
                            self.samples[key] = max(self.samples[key], float(value))
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    async def sessions(self) -> int | None:
        """Sessions the database has seen so far (PostgreSQL 14+): each publish opens one."""
        conn = await asyncpg.connect(**self.params)
        try:
            value = await conn.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return int(value) if value is not None else None
        except asyncpg.PostgresError:
            return None
        finally:
            await conn.close()

    async def postmaster(self) -> int | None:
        """The PostgreSQL server's main process, if it runs on this machine."""
        conn = await asyncpg.connect(**self.params)
        try:  # read while the backend still runs
            return parent_pid(int(await conn.fetchval("SELECT pg_backend_pid()")))
        finally:
            await conn.close()

    async def loop_lag(self) -> None:
        """How late this process's event loop wakes up (the generator's own stalls)."""
        while not self.stopping:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.loop_lags.append(time.perf_counter() - before - 0.01)

    def complete(self) -> bool:
        acked = {(a.idea_id, a.vote_count) for a in self.acks}
        for p in self.projectors:
            got = {
                (m.data.get("idea_id"), m.data.get("vote_count"))
                for m in p.messages
                if m.data.get("kind") == "vote"
            }
            ideas = sum(1 for m in p.messages if m.data.get("kind") == "idea")
            if not acked <= got or ideas < self.ideas_created or p.fetching or p.soon:
                return False
        return True

    # --- the run ------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        args = self.args
        for i in range(args.projectors):
            server = "B" if i % 3 == 2 else "A"
            self.projectors.append(Projector(f"projector {i + 1}", server, self.bases[server]))
        # One TLS context for all (plain http anyway): httpx would build one per client.
        tls = ssl.create_default_context()
        # Idle connections expire before uvicorn's keep-alive timeout (5 s) closes them, so a
        # request never races the server's close on a reused connection.
        limits = httpx.Limits(max_connections=6, max_keepalive_connections=2, keepalive_expiry=4)
        for i in range(args.phones):
            server = "A" if i % 2 == 0 else "B"
            client = httpx.AsyncClient(
                base_url=self.bases[server], timeout=60.0, limits=limits, verify=tls
            )
            self.phones.append(Phone(i, server, client))
        starts = self.plan()
        observer = self.spawn(self.observe())
        readers = [self.spawn(self.projector(p)) for p in self.projectors]
        await asyncio.wait_for(
            asyncio.gather(*(p.connected.wait() for p in self.projectors)), timeout=30
        )
        log(f"{len(self.projectors)} projectors connected; {args.phones} phones start")
        lagger = self.spawn(self.loop_lag())
        cpu_servers = {n: group_cpu_seconds(self.servers.procs[n].pid) for n in self.bases}
        cpu_machine, cpu_own = machine_cpu(), own_cpu()
        sessions_before = await self.sessions()
        postmaster = await self.postmaster()
        pg_before = postgres_cpu(postmaster)
        self.t0 = time.perf_counter() + 0.5

        async def progress() -> None:
            while not self.stopping:
                await asyncio.sleep(30)
                s = self.series
                log(
                    f"  t={time.perf_counter() - self.t0:4.0f} s: "
                    f"{len(s['join'].latencies)} joined, {self.ideas_created} ideas, "
                    f"{len(self.acks)} votes acknowledged"
                )

        reporter = self.spawn(progress())
        try:
            await asyncio.gather(
                self.fire("join", starts["join"], self.join),
                self.fire("idea", starts["idea"], self.submit),
                self.fire("vote", starts["vote"], self.vote),
            )
            load_seconds = time.perf_counter() - self.t0
            cpu_after = {n: group_cpu_seconds(self.servers.procs[n].pid) for n in self.bases}
            machine_after, own_after = machine_cpu(), own_cpu()
            sessions_after = await self.sessions()
            pg_after = postgres_cpu(postmaster)
            log(f"load done after {load_seconds:.0f} s; waiting for the projectors")
            await wait_until(self.complete, args.drain)
            await asyncio.sleep(1.0)  # anything late or duplicated still arrives
        finally:
            self.stopping = True
            await wait_until(lambda: not any(p.fetching for p in self.projectors), 10)
            for task in (*readers, observer, lagger, reporter):
                task.cancel()
            await asyncio.gather(*readers, observer, lagger, reporter, return_exceptions=True)
            await asyncio.gather(*(phone.client.aclose() for phone in self.phones))
        server_cpu = {
            n: (cpu_after[n] - cpu_servers[n])
            if cpu_after[n] is not None and cpu_servers[n] is not None
            else None
            for n in self.bases
        }
        return {
            "load_seconds": load_seconds,
            "server_cpu": server_cpu,
            "postgres_cpu": pg_after - pg_before
            if pg_after is not None and pg_before is not None
            else None,
            "machine_busy": machine_after[0] - cpu_machine[0],
            "machine_total": machine_after[1] - cpu_machine[1],
            "own_cpu": own_after - cpu_own,
            "sessions": sessions_after - sessions_before
            if sessions_after is not None and sessions_before is not None
            else None,
        }


# --- the report ----------------------------------------------------------------------------------


def report(
    w: Workshop,
    figures: dict[str, Any],
    violations: list[str],
    counts: dict[str, int],
    where: str,
) -> bool:
    args = w.args
    ok = True
    print()
    print(
        f"Workshop: {args.phones} phones, {args.join_seconds:g} s of joining, then "
        f"{args.minutes:g} min with {args.phones * args.ideas_per_phone} ideas and "
        f"{args.phones * args.dots} dot votes; {len(w.projectors)} projectors "
        f"({', '.join(p.server for p in w.projectors)}); event in {args.mode} mode; "
        f"{'stream only' if args.stream_only else 'projectors fetch the state as projector.js'}"
    )
    print(f"PostgreSQL at {where}; {os.cpu_count()} CPUs shared by phones, servers and database.")
    print()
    print("Phone requests (latency from the planned start, successful requests):")
    print(
        f"  {'':6} {'planned':>8} {'ok':>6} {'failed':>7} {'skipped':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7}   {'rate /s':>8} {'lag p99/max ms':>15}"
    )
    spans = {
        "join": args.join_seconds,
        "idea": args.minutes * 60 * args.idea_share,
        "vote": args.minutes * 60 * 0.95,
    }
    for name, s in w.series.items():
        failed, skipped = sum(s.failures.values()), sum(s.skipped.values())
        ok = ok and failed == 0 and skipped == 0
        print(
            f"  {name:6} {s.planned:8d} {len(s.latencies):6d} {failed:7d} {skipped:8d} "
            f"{ms(s.latencies, 50):>7} {ms(s.latencies, 99):>7} {ms(s.latencies, 100):>7}   "
            f"{s.planned / spans[name]:8.1f} {ms(s.lags, 99):>7}/{ms(s.lags, 100)}"
        )
    for name, s in w.series.items():
        for problem, n in s.failures.most_common(8):
            print(f"    {name} failed {n}×: {problem}")
        for why, n in s.skipped.most_common():
            print(f"    {name} skipped {n}×: {why}")
    lag99 = max(pct(s.lags, 99) for s in w.series.values())
    print(
        f"  generator: event loop wake-up lag p99 {ms(w.loop_lags, 99)} ms, max "
        f"{ms(w.loop_lags, 100)} ms; own CPU {figures['own_cpu']:.0f} s"
    )
    if lag99 > 0.05:
        print("  WARNING: the generator fell behind its schedule (lag p99 > 50 ms); the latencies")
        print("  above include that lag, and the load was not sent at the planned rate.")

    acked = {(a.idea_id, a.vote_count): a for a in w.acks}
    print()
    print(
        f"Projectors: expected {w.ideas_created} idea and {len(acked)} vote messages each "
        "(ideas created, votes acknowledged)."
    )
    print(
        f"  {'':12} {'srv':>3} {'ideas':>11} {'votes':>13} {'missing':>7} {'dup':>4} "
        f"{'late':>5} {'vote→screen p50/p99/max ms':>27} {'sent→recv p50/p99/max ms':>25}"
    )
    all_delays: list[float] = []
    for p in w.projectors:
        first: dict[tuple[int, int], Message] = {}
        duplicates = late = 0
        highest: dict[int, int] = {}
        idea_messages, vote_messages, other = 0, 0, Counter[str]()
        publish: list[float] = []
        for m in p.messages:
            kind = m.data.get("kind")
            if "sent" in m.data:
                publish.append(m.received_wall - float(m.data["sent"]))
            if kind == "idea":
                idea_messages += 1
            elif kind == "vote":
                vote_messages += 1
                key = (int(m.data["idea_id"]), int(m.data["vote_count"]))
                if key in first:
                    duplicates += 1
                first.setdefault(key, m)
                if key[1] < highest.get(key[0], 0):
                    late += 1  # a lower count after a higher one: the screen goes back
                highest[key[0]] = max(highest.get(key[0], 0), key[1])
            else:
                other[str(kind)] += 1
        delays = [first[key].received - a.sent for key, a in acked.items() if key in first]
        missing = [a for key, a in acked.items() if key not in first]
        # Each app publishes in order: a missing vote sent well before one of the same app
        # that did arrive was lost on the way; the rest had not arrived when the run ended.
        newest = {
            server: max((a.sent for key, a in acked.items() if key in first and a.server == server),
                        default=0.0)
            for server in ("A", "B")
        }  # fmt: skip
        lost = sum(1 for a in missing if a.sent < newest[a.server] - 1.0)
        p.lost, p.unarrived = lost, len(missing) - lost
        all_delays.extend(delays)
        ok = ok and not missing and idea_messages >= w.ideas_created
        print(
            f"  {p.name:12} {p.server:>3} {idea_messages:5d}/{w.ideas_created:<5d} "
            f"{vote_messages:6d}/{len(acked):<6d} {len(missing):7d} {duplicates:4d} {late:5d} "
            f"{ms(delays, 50):>9}/{ms(delays, 99)}/{ms(delays, 100):<7} "
            f"{ms(publish, 50):>11}/{ms(publish, 99)}/{ms(publish, 100)}"
        )
        stale = sum(
            1
            for key, value in counts.items()
            if key.startswith("idea:")
            and args.mode == "vote"
            and not args.stream_only
            and p.shown.get(int(key[5:]), -1) != value
        )
        ok = ok and stale == 0
        if args.stream_only:
            screen = "no state fetches (--stream-only)"
        else:
            failed = f", failed {dict(p.fetch_failures)}" if p.fetch_failures else ""
            screen = (
                f"state fetched {len(p.fetch_times)}× (p50 {ms(p.fetch_times, 50)} ms, p99 "
                f"{ms(p.fetch_times, 99)} ms{failed}); a fetch showed an older count "
                f"{p.stepped_back}×"
            )
            if args.mode == "vote":
                screen += f"; screen at the end: {stale} of {w.ideas_created} counts wrong"
        extra = f"; other messages {dict(other)}" if other else ""
        if missing:
            extra += (
                f"; of the missing votes {p.lost} were lost (a later vote of the same app "
                f"arrived), {p.unarrived} had not arrived {args.drain:g} s after the load"
            )
        extra += f"; {p.bad_lines} data lines not JSON" if p.bad_lines else ""
        print(
            f"  {'':12}     connected {p.connects}×, lost {dict(p.disconnects) or 'never'}; "
            f"{screen}{extra}"
        )
    p99 = pct(all_delays, 99)
    met = bool(all_delays) and p99 < TARGET_P99_S
    by_origin: dict[str, list[float]] = {"A": [], "B": []}
    by_time: dict[int, list[float]] = {}
    for p in w.projectors:
        first_seen: dict[tuple[int, int], float] = {}
        for m in p.messages:
            if m.data.get("kind") == "vote":
                key = (int(m.data["idea_id"]), int(m.data["vote_count"]))
                first_seen.setdefault(key, m.received)
        for key, a in acked.items():
            if key in first_seen:
                delay = first_seen[key] - a.sent
                by_origin[a.server].append(delay)
                by_time.setdefault(int((a.sent - w.t0) // 30), []).append(delay)
    print(
        f"  all projectors: vote sent → projector message p50 {ms(all_delays, 50)} ms, "
        f"p99 {ms(all_delays, 99)} ms, max {ms(all_delays, 100)} ms "
        f"(target p99 < {TARGET_P99_S * 1000:.0f} ms: {'met' if met else 'MISSED'})"
    )
    ok = ok and met
    print(
        "  by the app that took the vote (p50/p99 ms): "
        + ", ".join(f"{n} {ms(v, 50)}/{ms(v, 99)}" for n, v in by_origin.items())
    )
    print(
        "  p99 ms by the vote's 30 s slot of the run: "
        + " ".join(f"{ms(by_time[k], 99)}" for k in sorted(by_time))
    )
    print(
        "  missing: acknowledged (idea, count) pairs that never arrived; dup: pairs that arrived "
        "twice; late: a lower count after a higher one for the same idea (the screen steps "
        "back). vote→screen: from sending the vote; sent→recv: from the server's announcement "
        "(`sent`, after the commit) to the projector."
    )

    print()
    cpu = figures["server_cpu"]
    load = figures["load_seconds"]
    busy, total = figures["machine_busy"], figures["machine_total"]
    pg = figures["postgres_cpu"]
    ours = (cpu["A"] or 0) + (cpu["B"] or 0) + figures["own_cpu"] + (pg or 0)
    print(
        f"CPU over the {load:.0f} s of load: app A {cpu['A'] or 0:.0f} s, "
        f"app B {cpu['B'] or 0:.0f} s, generator {figures['own_cpu']:.0f} s, "
        f"PostgreSQL {'?' if pg is None else f'{pg:.0f}'} s; whole machine {busy:.0f} of "
        f"{total:.0f} s ({100 * busy / total if total else 0:.0f} % busy), other work "
        f"{max(0.0, busy - ours):.0f} s"
        + ("" if pg is not None else " (PostgreSQL not on this machine: counted as other)")
    )
    if total and (busy - ours) / total > 0.15:
        print(
            "  NOTE: other work used more than 15 % of the machine's CPU during the run; the "
            "figures are those of a shared machine."
        )
    s = w.samples
    print(
        f"Database samples (max): {s['connections']:.0f} connections, {s['active']:.0f} active, "
        f"{s['lock_waits']:.0f} waiting on locks, {s['idle_in_tx']:.0f} idle in transaction, "
        f"NOTIFY queue {100 * s['notify_queue']:.3f} % full"
    )
    if figures["sessions"] is not None:
        print(
            f"Database sessions opened during the load: {figures['sessions']} "
            f"({figures['sessions'] / load:.1f}/s)"
        )
    print(
        f"Rows: {counts.get('attendees')} attendees, {counts.get('ideas')} ideas, "
        f"{counts.get('votes')} votes (sum of counts {counts.get('counted')}), at most "
        f"{counts.get('most_dots')} dots per person (budget {args.dots})"
    )
    if counts.get("votes") != len(acked):
        print(f"  votes in the table ≠ votes acknowledged ({len(acked)})")
        ok = False
    for name in ("A", "B"):
        tail = w.servers.log_tail(name, 2000)
        warnings = [line for line in tail.splitlines() if line.strip()]
        if warnings:
            print(f"server {name} logged {len(warnings)} lines; the last ones:")
            for line in warnings[-8:]:
                print(f"    {line[:200]}")
    if violations:
        print(f"ideas-platform check: {len(violations)} violation(s):")
        for violation in violations[:20]:
            print(f"    {violation}")
        ok = False
    else:
        print("ideas-platform check: all invariants hold (counts equal rows, dot budgets kept).")
    print(f"result: {'PASS' if ok else 'FAIL'}")
    return ok


def dump(w: Workshop, path: Path) -> None:
    """Raw data for a closer look: times in seconds from the start of the schedule."""
    data = {
        "votes": [[a.idea_id, a.vote_count, a.sent - w.t0, a.server] for a in w.acks],
        "projectors": {
            p.name: [[m.received - w.t0, m.received_wall, m.data] for m in p.messages]
            for p in w.projectors
        },
    }
    path.write_text(json.dumps(data))
    print(f"raw data: {path}")


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--join-seconds", type=float, default=30.0, help="all phones join in it")
    parser.add_argument("--minutes", type=float, default=5.0, help="ideas and votes after joining")
    parser.add_argument("--ideas-per-phone", type=int, default=2)
    parser.add_argument("--dots", type=int, default=20, help="dot budget = votes per phone")
    parser.add_argument(
        "--idea-share", type=float, default=0.5, help="ideas come in this part of the window"
    )
    parser.add_argument("--projectors", type=int, default=3, help="every third one on B")
    parser.add_argument("--mode", choices=("vote", "collect", "results"), default="vote")
    parser.add_argument(
        "--stream-only",
        action="store_true",
        help="projectors only read the stream (never fetch /live/state)",
    )
    parser.add_argument("--pool-size", type=int, default=10, help="DB_POOL_SIZE of each app")
    parser.add_argument("--drain", type=float, default=10.0, help="max. seconds to wait at the end")
    parser.add_argument("--seed", type=int, default=2030)
    parser.add_argument(
        "--app",
        default="ideas_platform.app:app_for_uvicorn",
        help="uvicorn factory to serve (to compare a variant of the app)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    parser.add_argument(
        "--dump", type=Path, help="write every vote and projector message to this JSON file"
    )
    return parser.parse_args(argv)


def run(
    args: argparse.Namespace, work_dir: Path, servers: Servers, embedded: list[Embedded]
) -> int:
    url = server_url(embedded)
    params = pg_params(url)
    bench_params = {**params, "database": BENCH_DB}
    bench_url = url.set(database=BENCH_DB).render_as_string(hide_password=False)
    where = f"{params['host']}:{params['port']}"
    version = asyncio.run(recreate_database(params, BENCH_DB))
    log(f"database {BENCH_DB} (re)created on PostgreSQL {version} at {where}; migrating")
    from ideas_platform.core.migrations import upgrade

    upgrade(bench_url)
    setup = asyncio.run(prepare(bench_url, args.phones, args.dots, args.mode))
    log(f"event {setup.event_id} (code {setup.code}): capacity {args.phones}, {args.dots} dots")

    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_hex(32),
        # Production settings (no template mtime checks), but cookies over plain http.
        "APP_ENV": "production",
        "SECURE_COOKIES": "0",
        "DB_POOL_SIZE": str(args.pool_size),
        "DB_MAX_OVERFLOW": str(args.pool_size),
    }
    ports = {name: free_port() for name in ("A", "B")}
    for name, port in ports.items():
        args_ = uvicorn_args(args.app, port, 1, factory=True)
        servers.start(name, args_, env)
    for name, port in ports.items():
        wait_ready(servers, name, port, f"/join/{setup.code}")
    bases = {name: f"http://{HOST}:{port}" for name, port in ports.items()}
    log(f"app A on {bases['A']}, app B on {bases['B']} (one uvicorn process each)")

    workshop = Workshop(args, setup, bases, bench_params, servers)
    figures = asyncio.run(workshop.run())
    for name in list(servers.procs):
        servers.stop(name)
    violations, counts = asyncio.run(check(bench_url, bench_params, setup.event_id))
    passed = report(workshop, figures, violations, counts, f"{where} (PostgreSQL {version})")
    if args.dump:
        dump(workshop, args.dump)
    if args.keep_logs:
        print(f"server logs: {work_dir}/A.log, {work_dir}/B.log")
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("bench-workshop", run, args, keep_work_dir=args.keep_logs)


if __name__ == "__main__":
    sys.exit(main())
