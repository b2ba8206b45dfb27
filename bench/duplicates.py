"""`make bench-duplicates`: how well the duplicate suggestions work, on labelled pairs.

The labelled pairs (bench/data/duplicate_pairs*.jsonl, one JSON object per line:
``{"id", "duplicate": bool, "kind", "lang", "a": {"title", "body"}, "b": {"title", "body"}}``)
were written for this purpose: pairs that mean the same project in other words, and pairs that
only share words. Every text of every pair becomes a published idea of one process in a fresh
database, indexed as the app indexes a submission. Then, for each pair, the app's own
`similarity.service.similar_ideas` is asked with A's title and body (A itself excluded), as the
submit form asks while a participant types:

* precision and recall at the threshold the UI uses: a pair counts as "suggested" when B comes
  back with a score at or above it;
* top-5: for the duplicate pairs, how often B is among the 5 suggestions.

The first three lines of the summary are `precision: 0.NN`, `recall: 0.NN` and `top-5: 0.NN`
over all files; a line per file follows. `--data FILE` (repeatable) measures other files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import Embedded, bench_url, log, recreate_database

DATA = Path(__file__).with_name("data")
BENCH_DB = "ideas_bench_duplicates"


@dataclass
class Outcome:
    file: str
    pair_id: str
    duplicate: bool
    score: float  # B's score for A's text; 0 when B was not among the candidates
    rank: int | None  # B's place among the suggestions (1 = first)


def load_pairs(files: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    pairs = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                pair = json.loads(line)
                for side in ("a", "b"):
                    if not pair[side]["title"].strip():
                        raise SystemExit(f"{path}:{number}: empty title on side {side}")
                pairs.append((path.name, pair))
    return pairs


async def measure(url: str, pairs: list[tuple[str, dict[str, Any]]]) -> list[Outcome]:
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from ideas_platform.core.database import create_session_factory
    from ideas_platform.core.markdown import render_markdown
    from ideas_platform.ideas.models import Idea, IdeaStatus
    from ideas_platform.processes.models import Process
    from ideas_platform.similarity import service as similarity

    engine = create_async_engine(url)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        process = Process(slug="duplikate", title="Duplikate", description="Benchmark")
        session.add(process)
        await session.flush()
        rows = [
            {
                "process_id": process.id,
                "title": pair[side]["title"],
                "body": pair[side]["body"],
                "body_html": render_markdown(pair[side]["body"]),
                "region": "dresden",
                "status": IdeaStatus.PUBLISHED,
                "vote_count": 0,
                "comment_count": 0,
            }
            for _, pair in pairs
            for side in ("a", "b")
        ]
        ids = list(await session.scalars(insert(Idea).returning(Idea.id), rows))
        for idea in await session.scalars(select(Idea).where(Idea.process_id == process.id)):
            await similarity.index_idea(session, idea)
    log(f"{len(ids)} ideas in one process, indexed; asking for suggestions")

    outcomes: list[Outcome] = []
    started = time.perf_counter()
    async with factory() as session:
        for number, (file, pair) in enumerate(pairs):
            a_id, b_id = ids[2 * number], ids[2 * number + 1]
            found = await similarity.similar_ideas(
                session,
                process.id,
                pair["a"]["title"],
                pair["a"]["body"],
                exclude=[a_id],
                limit=similarity.CANDIDATES,
                threshold=0.0,
            )
            rank = next((i for i, s in enumerate(found, 1) if s.id == b_id), None)
            score = found[rank - 1].score if rank else 0.0
            outcomes.append(Outcome(file, pair["id"], bool(pair["duplicate"]), score, rank))
    elapsed = time.perf_counter() - started
    log(f"{len(pairs)} queries in {elapsed:.1f} s ({1000 * elapsed / len(pairs):.1f} ms each)")
    await engine.dispose()
    return outcomes


def figures(outcomes: list[Outcome], threshold: float) -> tuple[float, float, float]:
    suggested = [o for o in outcomes if o.score >= threshold]
    true_positives = sum(1 for o in suggested if o.duplicate)
    duplicates = [o for o in outcomes if o.duplicate]
    precision = true_positives / len(suggested) if suggested else 1.0
    recall = true_positives / len(duplicates) if duplicates else 1.0
    top5 = sum(1 for o in duplicates if o.rank is not None and o.rank <= 5) / max(
        len(duplicates), 1
    )
    return precision, recall, top5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, action="append", help="labelled pairs (JSONL)")
    parser.add_argument("--show-errors", action="store_true", help="list misjudged pairs")
    args = parser.parse_args()
    files = args.data or sorted(DATA.glob("duplicate_pairs*.jsonl"))
    pairs = load_pairs(files)
    log(f"{len(pairs)} labelled pairs from {', '.join(f.name for f in files)}")

    from ideas_platform.core.migrations import upgrade
    from ideas_platform.similarity.scorer import SCORER

    embedded: list[Embedded] = []
    try:
        url, params = bench_url(BENCH_DB, embedded)
        asyncio.run(recreate_database({**params, "database": "postgres"}, BENCH_DB))
        upgrade(url)
        outcomes = asyncio.run(measure(url, pairs))
    finally:
        for server in embedded:
            server.remove()

    threshold = SCORER.threshold
    print(f"\nscorer {SCORER.name}, UI threshold {threshold:.2f}, {len(pairs)} pairs")
    precision, recall, top5 = figures(outcomes, threshold)
    print(f"precision: {precision:.2f}")
    print(f"recall: {recall:.2f}")
    print(f"top-5: {top5:.2f}")
    for file in sorted({o.file for o in outcomes}):
        subset = [o for o in outcomes if o.file == file]
        p, r, t = figures(subset, threshold)
        print(f"  {file} ({len(subset)} pairs): precision {p:.2f}, recall {r:.2f}, top-5 {t:.2f}")
    print("  precision/recall at other thresholds (all files):")
    for other in (threshold - 0.04, threshold - 0.02, threshold + 0.02, threshold + 0.04):
        p, r, _ = figures(outcomes, other)
        print(f"    {other:.2f}: precision {p:.2f}, recall {r:.2f}")
    if args.show_errors:
        for o in sorted(outcomes, key=lambda o: o.score):
            wrong = (o.duplicate and o.score < threshold) or (
                not o.duplicate and o.score >= threshold
            )
            if wrong:
                kind = "missed" if o.duplicate else "false alarm"
                print(f"  {kind}: {o.file} {o.pair_id} score {o.score:.2f} rank {o.rank}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
