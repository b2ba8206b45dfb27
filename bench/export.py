"""`make bench-export`: speed and memory of the ministry's exports (XLSX, CSV, JSON, PDF).

1. A fresh database (DATABASE_URL's server, else a throw-away embedded PostgreSQL), migrated,
   bulk-loaded with COPY: 5,000 users over the 6 sectors and 16 regions (30 % agree to be named
   in exports), one process with 20,000 published ideas (German texts recombined from the
   labelled pairs and the demo ideas, 300-600 characters), 40 themes, 6 topics, 5 workshops,
   1,000,000 votes (distinct pairs, popularity skewed), 200 merged duplicates with their
   merge records and co-authors, a frozen shortlist of 100 accepted ideas (and 20 declined
   ones). A second process of the same make with 5,000 ideas and 250,000 votes. `vote_count`
   is set from the votes with one UPDATE, then VACUUM ANALYZE.
2. Every export runs in a child process of its own (`--child`), so that its peak RSS
   (`ru_maxrss`) is the export's: `service.load` then `service.write` into a temporary file.
   A child that only imports the modules, connects and reads the process is the baseline.
3. Memory against size: XLSX of the 5,000-idea process next to the 20,000-idea one.
4. Reproducibility: the XLSX (and the PDF) written twice, SHA-256 compared.

Printed: a table (seconds, peak RSS, file size per export) and a summary against the targets
(XLSX of 20,000 ideas / 1,000,000 votes < 20 s and < 300 MB; PDF of 100 ideas < 15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import Embedded, bench_url, log, recreate_database

BENCH_DB = "ideas_bench_export"
BIG = "export-zwanzigtausend"
SMALL = "export-fuenftausend"
BASE_URL = "https://ideen.sachsen.example"
URL_ENV = "BENCH_EXPORT_URL"
SEED = 2026
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _words(text: str) -> list[str]:
    return text.split()


SECTOR_WEIGHTS = {
    "industry": 34,
    "science": 16,
    "administration": 12,
    "social_partners": 8,
    "civil_society": 20,
    "other": 10,
}
REGION_WEIGHTS = {
    "dresden": 16,
    "leipzig": 16,
    "chemnitz": 10,
    "bautzen": 5,
    "erzgebirgskreis": 6,
    "goerlitz": 5,
    "landkreis_leipzig": 5,
    "meissen": 5,
    "mittelsachsen": 6,
    "nordsachsen": 3,
    "saechsische_schweiz_osterzgebirge": 5,
    "vogtlandkreis": 4,
    "zwickau": 6,
    "berlin": 4,
    "brussels": 1,
    "elsewhere": 3,
}
FIRST_NAMES = _words(
    "Anna Jonas Lea Paul Marie Felix Sophie Lukas Hannah Max Emma Tim Clara Jan Lena Tom Sarah "
    "Niklas Julia Moritz Laura Erik Katrin Frank Ute Jens Heike Steffen Sabine Uwe Petra Ronny"
)
LAST_NAMES = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
    "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Werner "
    "Krause Lehmann Köhler Herrmann Walter Kaiser Fuchs Vogel Seidel Günther Böhme Schubert"
)
ORGANISATIONS = [
    "Sächsischer Maschinenbau GmbH",
    "TU Dresden",
    "TU Chemnitz",
    "Universität Leipzig",
    "Landratsamt Mittelsachsen",
    "IHK Chemnitz",
    "IG Metall Ostsachsen",
    "Handwerkskammer Dresden",
    "Verein Zukunft Lausitz e. V.",
    "Fraunhofer IWU",
    "Stadtwerke Zwickau",
    "",
]
THEME_WORDS = [
    "Wasserstoff",
    "Fachkräfte",
    "Künstliche Intelligenz",
    "Kreislaufwirtschaft",
    "Additive Fertigung",
    "Logistik",
    "Transfer und Gründungen",
    "Genehmigungen",
    "Halbleiter",
    "Mitbestimmung",
]
THEME_ANGLES = ["in der Lausitz", "im Mittelstand", "in Forschung und Lehre", "für Kommunen"]
TOPICS = ["Energie", "Arbeit", "Digitalisierung", "Mobilität", "Verwaltung", "Forschung"]
EVENTS = [
    ("Werkstattgespräch Wasserstoff", "Chemnitz, Industriemuseum"),
    ("Zukunftsforum Fachkräfte", "Leipzig, Kongresshalle"),
    ("Regionalkonferenz Lausitz", "Görlitz, Landskron Kulturbrauerei"),
    ("Mittelstandsdialog", "Dresden, Haus der Wirtschaft"),
    ("Transferwerkstatt Hochschulen", "Freiberg, Alte Mensa"),
]


# --------------------------------------------------------------------------- data


@dataclass
class Texts:
    titles: list[str]
    sentences: list[str]
    words: list[str]

    def idea(self, rng: random.Random) -> tuple[str, str]:
        title = rng.choice(self.titles).split()
        title[rng.randrange(len(title))] = rng.choice(self.words)
        target = rng.randint(300, 600)
        parts: list[str] = []
        length = 0
        while length < target - 60:
            sentence = rng.choice(self.sentences)
            parts.append(sentence)
            length += len(sentence) + 1
        return " ".join(title)[:200], " ".join(parts)


def texts() -> Texts:
    from bench.similar_speed import source_texts

    titles, sentences, _ = source_texts()
    words = sorted({w for t in titles for w in t.split() if len(w) > 5})
    return Texts(titles, [s for s in sentences if len(s) < 260], words)


def weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def vote_counts(rng: random.Random, ideas: int, votes: int, users: int) -> list[int]:
    """Skewed popularity (a few ideas with thousands of votes, a long tail), summing to `votes`."""
    cap = int(users * 0.8)
    raw = [rng.paretovariate(1.3) for _ in range(ideas)]
    scale = votes / sum(raw)
    counts = [min(cap, int(r * scale)) for r in raw]
    missing = votes - sum(counts)
    order = sorted(range(ideas), key=lambda i: raw[i])
    while missing > 0:
        for i in order:
            if missing == 0:
                break
            if counts[i] < cap:
                counts[i] += 1
                missing -= 1
    return counts


async def load_users(conn: asyncpg.Connection, rng: random.Random, count: int) -> list[Any]:
    sectors = weighted(rng, SECTOR_WEIGHTS, count)
    regions = weighted(rng, REGION_WEIGHTS, count)
    rows = []
    for i in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        role = "ministry" if i == 0 else "moderator" if i == 1 else "participant"
        rows.append(
            (
                f"person{i}@bench.example",
                name,
                "$argon2id$bench$not-a-real-hash",
                sectors[i],
                rng.choice(ORGANISATIONS),
                regions[i],
                role,
                "de",
                1,
                True,
                rng.random() < 0.3,
                NOW - timedelta(days=rng.uniform(30, 120)),
            )
        )
    await conn.copy_records_to_table(
        "users",
        columns=[
            "email",
            "display_name",
            "password_hash",
            "sector",
            "organisation",
            "region",
            "role",
            "locale",
            "session_version",
            "is_active",
            "name_in_exports",
            "created_at",
        ],
        records=rows,
    )
    return list(await conn.fetch("SELECT id, sector, region, display_name FROM users ORDER BY id"))


async def load_process(
    conn: asyncpg.Connection,
    rng: random.Random,
    words: Texts,
    users: list[Any],
    *,
    slug: str,
    ideas: int,
    votes: int,
    themes: int,
    merges: int,
    shortlist: int,
) -> tuple[int, int]:
    """One process with its ideas, votes, merges and (when `shortlist`) a frozen shortlist."""
    process_id = await conn.fetchval(
        "INSERT INTO processes (slug, title, description) VALUES ($1, $2, $3) RETURNING id",
        slug,
        f"Industriestrategie Sachsen 2030 ({ideas:,} Ideen)".replace(",", "."),
        "Benchmark der Exporte",
    )
    for kind, start, end in (("collect", 90, 40), ("vote", 40, 10), ("shortlist", 10, -20)):
        await conn.execute(
            "INSERT INTO process_phases (process_id, kind, starts_at, ends_at) "
            "VALUES ($1, $2, $3, $4)",
            process_id,
            kind,
            NOW - timedelta(days=start),
            NOW - timedelta(days=end),
        )
    ministry, moderator = users[0]["id"], users[1]["id"]
    theme_ids = [
        await conn.fetchval(
            "INSERT INTO themes (process_id, title, description, created_by_id) "
            "VALUES ($1, $2, $3, $4) RETURNING id",
            process_id,
            f"{THEME_WORDS[t % len(THEME_WORDS)]} {THEME_ANGLES[t // len(THEME_WORDS) % 4]}",
            "Vorschläge, die die Moderation zu diesem Thema zusammengefasst hat.",
            moderator,
        )
        for t in range(themes)
    ]
    topic_ids = [
        await conn.fetchval(
            "INSERT INTO topics (process_id, name) VALUES ($1, $2) RETURNING id", process_id, name
        )
        for name in TOPICS
    ]
    event_ids = [
        await conn.fetchval(
            "INSERT INTO events (process_id, title, place, starts_at, description, join_code) "
            "VALUES ($1, $2, $3, $4, '', $5) RETURNING id",
            process_id,
            title,
            place,
            NOW - timedelta(days=80 - 8 * e),
            f"BENCH{process_id}X{e}",
        )
        for e, (title, place) in enumerate(EVENTS)
    ]

    # Ideas: the published ones first, then the merged duplicates (sources of the merges).
    first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM ideas")
    published = list(range(first_id, first_id + ideas))
    counts = vote_counts(rng, ideas, votes, len(users))
    targets = rng.sample(published[: ideas // 2], merges)
    idea_rows = []
    authors: dict[int, int | None] = {}
    for n in range(ideas + merges):
        idea_id = first_id + n
        author = rng.choice(users) if rng.random() < 0.95 else None
        authors[idea_id] = author["id"] if author else None
        event = rng.choice(event_ids) if rng.random() < 0.1 else None
        title, body = words.idea(rng)
        merged_into = targets[n - ideas] if n >= ideas else None
        idea_rows.append(
            (
                idea_id,
                process_id,
                author["id"] if author else None,
                event,
                rng.choice(topic_ids) if rng.random() < 0.7 else None,
                rng.choice(theme_ids) if rng.random() < 0.85 else None,
                title,
                body,
                f"<p>{escape(body)}</p>",
                author["region"] if author else rng.choice(list(REGION_WEIGHTS)),
                author["sector"] if author else None,
                "merged" if merged_into else "published",
                merged_into,
                0,
                0,
                NOW - timedelta(days=90 - 50 * n / (ideas + merges), seconds=rng.randint(0, 3600)),
            )
        )
    await conn.copy_records_to_table(
        "ideas",
        columns=[
            "id",
            "process_id",
            "author_id",
            "event_id",
            "topic_id",
            "theme_id",
            "title",
            "body",
            "body_html",
            "region",
            "author_sector",
            "status",
            "merged_into_id",
            "vote_count",
            "comment_count",
            "created_at",
        ],
        records=idea_rows,
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('ideas', 'id'), (SELECT max(id) FROM ideas))"
    )

    # Votes: distinct (idea, user) pairs; the voters of a merge target keep a few for its record.
    user_ids = [u["id"] for u in users]
    target_set = set(targets)
    voters_of_targets: dict[int, list[int]] = {}

    def vote_rows() -> Any:
        for idea_id, count in zip(published, counts, strict=True):
            voters = rng.sample(user_ids, count)
            if idea_id in target_set:
                voters_of_targets[idea_id] = voters[: rng.randint(0, 25)]
            for user_id in voters:
                yield (idea_id, user_id, process_id)

    await conn.copy_records_to_table(
        "votes", columns=["idea_id", "user_id", "process_id"], records=vote_rows()
    )
    await conn.execute(
        "UPDATE ideas i SET vote_count = v.n FROM "
        "(SELECT idea_id, count(*) AS n FROM votes WHERE process_id = $1 GROUP BY idea_id) v "
        "WHERE i.id = v.idea_id",
        process_id,
    )

    # Merge records (the sources' votes "moved" to the targets) and the co-authors they added.
    coauthors: set[tuple[int, int]] = set()
    for n, target in enumerate(targets):
        source = first_id + ideas + n
        source_author = authors[source]
        added = (
            [source_author]
            if source_author
            and source_author != authors[target]
            and (target, source_author) not in coauthors
            else []
        )
        merge_id = await conn.fetchval(
            "INSERT INTO merge_records (process_id, source_id, target_id, merged_by_id, note, "
            "source_status, moved_vote_user_ids, dropped_vote_user_ids, "
            "dropped_vote_created_at, moved_comment_ids, added_coauthor_ids, created_at) "
            "VALUES ($1, $2, $3, $4, $5, 'published', $6, '{}', '{}', '{}', $7, $8) "
            "RETURNING id",
            process_id,
            source,
            target,
            moderator,
            "Gleicher Vorschlag, andere Worte." if n % 3 else "",
            sorted(voters_of_targets.get(target, [])),
            added,
            NOW - timedelta(days=30, minutes=n),
        )
        for user_id in added:
            coauthors.add((target, user_id))
            await conn.execute(
                "INSERT INTO idea_coauthors (idea_id, user_id, merge_id) VALUES ($1, $2, $3)",
                target,
                user_id,
                merge_id,
            )

    # The shortlist: `shortlist` accepted ideas among the most supported, some declined, frozen.
    if shortlist:
        best = await conn.fetch(
            "SELECT id FROM ideas WHERE process_id = $1 AND status = 'published' "
            "ORDER BY vote_count DESC, id LIMIT $2",
            process_id,
            shortlist * 3,
        )
        chosen = rng.sample([r["id"] for r in best], shortlist + shortlist // 5)
        await conn.executemany(
            "INSERT INTO shortlist_entries (process_id, idea_id, rationale, nominated_by_id, "
            "decision, decision_comment, decided_by_id, decided_at, position) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                (
                    process_id,
                    idea_id,
                    "Breite Unterstützung aus mehreren Sektoren, umsetzbar in der Förderperiode.",
                    moderator,
                    "accepted" if place <= shortlist else "declined",
                    "Wird im Referat geprüft." if place % 4 == 0 else "",
                    ministry,
                    NOW - timedelta(days=3),
                    place if place <= shortlist else None,
                )
                for place, idea_id in enumerate(chosen, start=1)
            ],
        )
        await conn.execute(
            "INSERT INTO shortlists (process_id, frozen_at, frozen_by_id) VALUES ($1, $2, $3)",
            process_id,
            NOW - timedelta(days=1),
            ministry,
        )
    return int(process_id), sum(counts)


async def load(params: dict[str, Any], args: argparse.Namespace) -> None:
    rng = random.Random(SEED)
    words = texts()
    conn = await asyncpg.connect(**params)
    try:
        started = time.perf_counter()
        users = await load_users(conn, rng, args.users)
        for slug, ideas, votes, themes, merges, shortlist in (
            (BIG, args.ideas, args.votes, 40, 200, 100),
            (SMALL, args.small_ideas, args.votes * args.small_ideas // args.ideas, 12, 50, 0),
        ):
            step = time.perf_counter()
            _, stored = await load_process(
                conn,
                rng,
                words,
                users,
                slug=slug,
                ideas=ideas,
                votes=votes,
                themes=themes,
                merges=merges,
                shortlist=shortlist,
            )
            log(
                f"process {slug}: {ideas:,} ideas, {stored:,} votes, {merges} merges "
                f"in {time.perf_counter() - step:.0f} s"
            )
        for table in ("users", "ideas", "votes", "merge_records", "shortlist_entries", "themes"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        log(f"data loaded in {time.perf_counter() - started:.0f} s (with VACUUM ANALYZE)")
    finally:
        await conn.close()


async def check(url: str) -> list[str]:
    """The app's own invariant checks (vote_count == votes, merged ideas without votes, ...)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from ideas_platform.core.database import create_session_factory
    from ideas_platform.core.invariants import find_violations

    engine = create_async_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return await find_violations(session)
    finally:
        await engine.dispose()


async def query_alone(params: dict[str, Any], slug: str, shortlisted_only: bool) -> float:
    """Seconds PostgreSQL needs for the streamed statement alone (EXPLAIN ANALYZE)."""
    from ideas_platform.exports.queries import IDEA_ROWS

    sql = str(IDEA_ROWS).replace(":process_id", "$1").replace(":shortlisted_only", "$2")
    conn = await asyncpg.connect(**params)
    try:
        process_id = await conn.fetchval("SELECT id FROM processes WHERE slug = $1", slug)
        plan = await conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", process_id, shortlisted_only
        )
        return float(json.loads(plan)[0]["Execution Time"]) / 1000
    finally:
        await conn.close()


# --------------------------------------------------------------------------- the child


async def child(url: str, slug: str, fmt: str, out: Path | None) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from ideas_platform.core.database import create_session_factory
    from ideas_platform.core.i18n import set_locale
    from ideas_platform.exports import service
    from ideas_platform.processes.service import get_by_slug

    set_locale("de")
    engine = create_async_engine(url)
    result: dict[str, Any] = {}
    try:
        async with create_session_factory(engine)() as session:
            process = await get_by_slug(session, slug)
            if fmt == "baseline":
                return result
            export_format = service.Format(fmt)
            started = time.perf_counter()
            data = await service.load(session, process, export_format)
            loaded = time.perf_counter()
            assert out is not None
            try:
                with out.open("wb") as file:
                    await service.write(data, export_format, file, base_url=BASE_URL)
            except NotImplementedError:
                return {"error": "not available yet"}
            done = time.perf_counter()
            result = {
                "load_s": loaded - started,
                "write_s": done - loaded,
                "seconds": done - started,
                "ideas": data.total_ideas,
            }
    finally:
        await engine.dispose()
    return result


def peak_rss_mb() -> dict[str, float]:
    """This process's peak RSS in MB: `VmHWM` of its own address space, and `ru_maxrss`.

    `ru_maxrss` alone misleads here: Linux carries the peak of the process that forked over
    fork and exec, so every child would report at least the benchmark's own peak (the loader's).
    `VmHWM` belongs to the memory map that exec created, so it is the export's alone.
    """
    import resource

    peak = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    hwm = [int(line.split()[1]) for line in lines if line.startswith("VmHWM:")]
    peak["peak_mb"] = hwm[0] / 1024 if hwm else peak["ru_maxrss_mb"]
    return peak


def run_child(slug: str, fmt: str, out: Path | None, url: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.export", "--child", fmt, "--slug", slug]
    if out is not None:
        command += ["--out", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, URL_ENV: url}, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"failed: {tail}"}
    return json.loads(lines[-1])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- report


def measure(url: str, params: dict[str, Any], args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    results: dict[str, dict[str, Any]] = {}
    runs = [
        ("baseline", BIG, "baseline"),
        ("xlsx", BIG, "xlsx"),
        ("xlsx again", BIG, "xlsx"),
        ("csv", BIG, "csv"),
        ("json", BIG, "json"),
        ("xlsx small", SMALL, "xlsx"),
        ("pdf", BIG, "pdf"),
        ("pdf again", BIG, "pdf"),
    ]
    for name, slug, fmt in runs:
        if name == "pdf again" and "error" in results["pdf"]:
            continue
        out = None if fmt == "baseline" else tmp / f"{name.replace(' ', '-')}.{fmt}"
        log(f"export {name} ({slug}) in a child process")
        results[name] = run_child(slug, fmt, out, url)
        if out is not None and out.exists() and "error" not in results[name]:
            results[name]["sha256"] = sha256(out)

    base_mb = results["baseline"].get("peak_mb", 0.0)
    print(f"\nExports ({args.ideas:,} ideas, {args.votes:,} votes, {args.users:,} users)")
    print(f"baseline child (imports, engine, one query): peak RSS {base_mb:.0f} MB\n")
    header = f"{'export':<34} {'ideas':>7} {'load s':>7} {'write s':>8} {'total s':>8} "
    print(header + f"{'peak MB':>8} {'+ base':>7} {'file MB':>8}")
    labels = {
        "xlsx": "XLSX, whole process",
        "xlsx again": "XLSX, whole process (2nd run)",
        "csv": "CSV, whole process",
        "json": "JSON, whole process",
        "xlsx small": f"XLSX, {args.small_ideas:,}-idea process",
        "pdf": "PDF dossier, accepted shortlist",
        "pdf again": "PDF dossier (2nd run)",
    }
    for name, label in labels.items():
        r = results.get(name)
        if r is None:
            continue
        if "error" in r:
            print(f"{label:<34} {r['error']}")
            continue
        print(
            f"{label:<34} {r['ideas']:>7,} {r['load_s']:>7.1f} {r['write_s']:>8.1f} "
            f"{r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {r['peak_mb'] - base_mb:>+7.0f} "
            f"{r['bytes'] / 2**20:>8.1f}"
        )

    inherited = max(r.get("ru_maxrss_mb", 0) for r in results.values())
    print(
        f"(peak MB: VmHWM of the child's own memory map; its ru_maxrss said up to "
        f"{inherited:.0f} MB, because Linux carries this launcher's peak over fork and exec)"
    )

    big = asyncio.run(query_alone(params, BIG, False))
    small = asyncio.run(query_alone(params, SMALL, False))
    short = asyncio.run(query_alone(params, BIG, True))
    print(
        f"\nIDEA_ROWS alone in PostgreSQL (EXPLAIN ANALYZE): {big:.1f} s for {args.ideas:,} "
        f"ideas, {small:.1f} s for {args.small_ideas:,}, {short:.1f} s for the shortlist"
    )

    print("\nSummary")
    ok = True
    xlsx, small_xlsx = results["xlsx"], results["xlsx small"]
    votes = f"{args.votes:,}"
    if "error" in xlsx:
        print(f"XLSX: {xlsx['error']}")
        ok = False
    else:
        fast = xlsx["seconds"] < 20 and xlsx["peak_mb"] < 300
        ok &= fast
        print(
            f"XLSX {args.ideas:,} ideas / {votes} votes: {xlsx['seconds']:.1f} s, "
            f"{xlsx['peak_mb']:.0f} MB (target < 20 s, < 300 MB): {'met' if fast else 'NOT met'}"
        )
    pdf = results["pdf"]
    if "error" in pdf:
        print(f"PDF: {pdf['error']}")
    else:
        fast = pdf["seconds"] < 15
        ok &= fast
        print(
            f"PDF dossier {pdf['ideas']} shortlisted ideas: {pdf['seconds']:.1f} s, "
            f"{pdf['peak_mb']:.0f} MB (target < 15 s): {'met' if fast else 'NOT met'}"
        )
    if "error" not in xlsx and "error" not in small_xlsx:
        growth = xlsx["peak_mb"] - small_xlsx["peak_mb"]
        print(
            f"Streaming: XLSX peak RSS {small_xlsx['peak_mb']:.0f} MB for "
            f"{args.small_ideas:,} ideas, {xlsx['peak_mb']:.0f} MB for {args.ideas:,} "
            f"({growth:+.0f} MB for {args.ideas / args.small_ideas:.0f}x the ideas; "
            f"baseline {base_mb:.0f} MB)"
        )
    for name in ("xlsx", "pdf"):
        first, second = results.get(name, {}), results.get(f"{name} again", {})
        if "sha256" in first and "sha256" in second:
            same = first["sha256"] == second["sha256"]
            ok &= same
            print(
                f"Reproducible {name.upper()}: two runs, SHA-256 "
                f"{'equal' if same else 'DIFFERENT'} ({first['sha256'][:16]}…)"
            )
    if not args.keep_files:
        for path in tmp.iterdir():
            path.unlink()
        tmp.rmdir()
    else:
        print(f"files kept in {tmp}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--ideas", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--small-ideas", type=int, default=5_000)
    parser.add_argument(
        "--reuse", action="store_true", help="measure on the database of the last run"
    )
    parser.add_argument("--keep-files", action="store_true", help="keep the exported files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child(os.environ[URL_ENV], args.slug, args.child, args.out))
        if "seconds" in result:
            result["bytes"] = args.out.stat().st_size
        result.update(peak_rss_mb())
        print(json.dumps(result))
        return 0

    from ideas_platform.core.migrations import upgrade

    embedded: list[Embedded] = []
    try:
        url, params = bench_url(BENCH_DB, embedded)
        if not (args.reuse and not embedded):
            version = asyncio.run(recreate_database({**params, "database": "postgres"}, BENCH_DB))
            log(f"PostgreSQL {version}, database {BENCH_DB}; migrating")
            upgrade(url)
            asyncio.run(load(params, args))
            problems = asyncio.run(check(url))
            log(f"invariants: {'all hold' if not problems else problems[:5]}")
            if problems:
                return 1
        return measure(url, params, args)
    finally:
        for server in embedded:
            server.remove()


if __name__ == "__main__":
    raise SystemExit(main())
