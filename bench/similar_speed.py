"""`make bench-similar`: the duplicate suggestions with 100,000 ideas in one process.

1. A fresh database (DATABASE_URL's server, else a throw-away embedded PostgreSQL), migrated.
2. 100,000 published ideas in one process, made of the sentences of the labelled pairs and the
   demo ideas, recombined at random (so that common words are as common as in a real process,
   and every idea is different), indexed with the app's own analyser, bulk-loaded with COPY.
   Each is analysed as the app does (terms and sentence vector; ~5 minutes for 100,000 on 2
   cores); with pgvector, the HNSW index is built once after the load.
3. The JSON endpoint `GET /api/processes/{slug}/similar-ideas?text=...` of the real app
   (in process, through its ASGI interface) is asked 300 times with new ideas' texts (the A sides
   of the labelled pairs), one after another after a warm-up; the same for the service function
   alone. Printed: median, p95 and max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import Embedded, bench_url, log, recreate_database

DATA = Path(__file__).with_name("data")
BENCH_DB = "ideas_bench_similar"
SLUG = "hunderttausend"


def source_texts() -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(titles, sentences, queries) from the labelled pairs and the demo ideas."""
    from ideas_platform.demo import data as demo

    titles: list[str] = []
    sentences: list[str] = []
    queries: list[tuple[str, str]] = []
    for path in sorted(DATA.glob("duplicate_pairs*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            pair = json.loads(line)
            queries.append((pair["a"]["title"], pair["a"]["body"]))
            for side in ("a", "b"):
                titles.append(pair[side]["title"])
                sentences.extend(re.split(r"(?<=[.!?])\s+", pair[side]["body"]))
    for idea in demo.IDEAS:
        titles.append(idea["title"])
        sentences.extend(re.split(r"(?<=[.!?])\s+", idea["body"]))
    return titles, [s for s in sentences if len(s) > 20], queries


def synthetic_ideas(count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    titles, sentences, _ = source_texts()
    words = sorted({w for t in titles for w in t.split() if len(w) > 5})
    ideas = []
    for _ in range(count):
        title_words = rng.choice(titles).split()
        title_words[rng.randrange(len(title_words))] = rng.choice(words)
        body = " ".join(rng.sample(sentences, rng.randint(2, 4)))
        ideas.append((" ".join(title_words)[:200], body))
    return ideas


async def load(url: str, params: dict, count: int) -> int:
    from html import escape

    from ideas_platform.similarity.scorer import current_scorer
    from ideas_platform.similarity.vectors import HNSW_INDEX as HNSW

    scorer = current_scorer()

    conn = await asyncpg.connect(**params)
    try:
        process_id = await conn.fetchval(
            "INSERT INTO processes (slug, title, description) VALUES ($1, $2, $3) RETURNING id",
            SLUG,
            "Hunderttausend Ideen",
            "Benchmark",
        )
        await conn.execute(
            "INSERT INTO process_phases (process_id, kind, starts_at, ends_at) "
            "VALUES ($1, 'collect', now() - interval '1 day', now() + interval '30 days')",
            process_id,
        )
        started = time.perf_counter()
        ideas = synthetic_ideas(count)
        first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM ideas")
        await conn.copy_records_to_table(
            "ideas",
            columns=[
                "id",
                "process_id",
                "title",
                "body",
                "body_html",
                "region",
                "status",
                "vote_count",
                "comment_count",
            ],
            records=[
                (
                    first_id + i,
                    process_id,
                    t,
                    b,
                    f"<p>{escape(b)}</p>",
                    "dresden",
                    "published",
                    0,
                    0,
                )
                for i, (t, b) in enumerate(ideas)
            ],
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('ideas', 'id'), (SELECT max(id) FROM ideas))"
        )
        log(f"{count} ideas written in {time.perf_counter() - started:.0f} s; analysing them")
        started = time.perf_counter()
        term_rows, vector_rows = [], []
        for start in range(0, len(ideas), 1000):
            batch = ideas[start : start + 1000]
            for i, features in enumerate(scorer.analyse_many(batch), start):
                term_rows.extend(
                    (process_id, term[:64], first_id + i, weight)
                    for term, weight in features.terms.items()
                )
                if features.vector is not None and scorer.embedder is not None:
                    vector_rows.append(
                        (first_id + i, process_id, scorer.embedder.name, features.vector.tolist())
                    )
            if start % 10_000 == 0:
                log(f"  {start + len(batch)} analysed")
        log(f"analysed (terms and vectors) in {time.perf_counter() - started:.0f} s")
        await conn.copy_records_to_table(
            "idea_terms", columns=["process_id", "term", "idea_id", "weight"], records=term_rows
        )
        # An HNSW index is built faster at once than row by row.
        hnsw = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = $1", HNSW)
        if hnsw:
            await conn.execute(f"DROP INDEX {HNSW}")
        await conn.copy_records_to_table(
            "idea_embeddings",
            columns=["idea_id", "process_id", "model", "vector"],
            records=vector_rows,
        )
        if hnsw:
            started = time.perf_counter()
            await conn.execute("SET maintenance_work_mem = '1GB'")
            await conn.execute(hnsw)
            log(f"HNSW index built in {time.perf_counter() - started:.0f} s")
        for table in ("ideas", "idea_terms", "idea_embeddings"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        log(f"{len(term_rows)} index terms, {len(vector_rows)} vectors stored")
        return int(process_id)
    finally:
        await conn.close()


async def existing_process(params: dict[str, Any]) -> int | None:
    """The benchmark process of an earlier run (`--reuse`), if its database is still there."""
    try:
        conn = await asyncpg.connect(**params)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        return await conn.fetchval("SELECT id FROM processes WHERE slug = $1", SLUG)
    finally:
        await conn.close()


def summary(name: str, timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    return (
        f"{name}: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
        f"max {timings[-1]:.1f} ms ({len(timings)} queries)"
    )


async def measure(url: str, process_id: int, rounds: int) -> None:
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import create_async_engine

    from ideas_platform.app import create_app
    from ideas_platform.core.config import Settings
    from ideas_platform.core.database import create_session_factory
    from ideas_platform.similarity import service as similarity
    from ideas_platform.similarity import vectors

    _, _, queries = source_texts()
    queries = (queries * (rounds // len(queries) + 1))[:rounds]
    settings = Settings(secret_key="bench-" + "x" * 40, environment="test")
    app = create_app(settings, url)
    timings: list[float] = []
    found = 0
    async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
        for title, _body in queries[:20]:  # warm-up
            await client.get(f"/api/processes/{SLUG}/similar-ideas", params={"text": title})
        for title, body in queries:
            started = time.perf_counter()
            response = await client.get(
                f"/api/processes/{SLUG}/similar-ideas", params={"text": f"{title}\n{body}"}
            )
            timings.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, response.text
            found += len(response.json())
    print(summary("GET /api/processes/{slug}/similar-ideas", timings))
    print(f"  on average {found / len(queries):.1f} suggestions per query")

    engine = create_async_engine(url)
    factory = create_session_factory(engine)
    timings = []
    async with factory() as session:
        for title, body in queries:
            started = time.perf_counter()
            await similarity.similar_ideas(session, process_id, title, body)
            timings.append(1000 * (time.perf_counter() - started))
    print(summary("similarity.service.similar_ideas", timings))
    async with factory() as session:
        path = "pgvector HNSW" if await vectors.uses_pgvector(session) else "exact, numpy"
    await engine.dispose()
    print(f"  nearest neighbours: {path}")


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the last run's database"
    )
    args = parser.parse_args()
    from ideas_platform.core.migrations import upgrade

    embedded: list[Embedded] = []
    try:
        url, params = bench_url(BENCH_DB, embedded)
        process_id = asyncio.run(existing_process(params)) if args.reuse else None
        if process_id is None:
            version = asyncio.run(recreate_database({**params, "database": "postgres"}, BENCH_DB))
            log(f"PostgreSQL {version}, database {BENCH_DB}; migrating")
            upgrade(url)
            process_id = asyncio.run(load(url, params, args.ideas))
        print(f"\n{args.ideas} ideas in process '{SLUG}'")
        asyncio.run(measure(url, process_id, args.queries))
    finally:
        for server in embedded:
            server.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
