"""`make bench-duplicates`: how well the duplicate suggestions work, on labelled pairs.

Two kinds of labelled pairs:

* our own (bench/data/duplicate_pairs*.jsonl, one JSON object per line: ``{"id", "duplicate":
  bool, "kind", "lang", "a": {"title", "body"}, "b": {"title", "body"}}``), written for this
  purpose: pairs that mean the same project in other words, and pairs that only share words;
  `duplicate_pairs_holdout.jsonl` was written by another hand and is not used to set anything;
* real German sentence pairs that nobody here wrote: the STS benchmark's dev split, machine
  translated, with human similarity scores (``../shared/benchmarks/duplicate_pairs_stsb_de_dev
  .jsonl``, read in place: ``{"id", "a", "b", "duplicate", "score"}``). A sentence becomes an
  idea's title; one longer than a title may be is split where a person would split it.

Every text of every pair becomes a published idea of one process in a fresh database, indexed as
the app indexes a submission (terms and sentence vector). Then, for each pair, the app's own
`similarity.service.similar_ideas` is asked with A's title and body (A itself excluded):

* precision and recall at the moderators' queue threshold (a pair counts as "found" when B comes
  back with a score at or above it), and the same at the lower threshold the submit form uses
  while a participant types;
* top-5: for the duplicate pairs, how often B is among the 5 most similar ideas.

Printed: `precision: 0.NN`, `recall: 0.NN`, `top-5: 0.NN` over all files, then the same lines
with the file name on each. `--calibrate` adds a grid of weights and thresholds (the scorer's
settings come from it); `--data FILE` (repeatable) measures other files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import Embedded, bench_url, log, recreate_database

DATA = Path(__file__).with_name("data")
STSB = (
    Path(__file__).resolve().parents[1].parent
    / "shared/benchmarks/duplicate_pairs_stsb_de_dev.jsonl"
)
BENCH_DB = "ideas_bench_duplicates"
TITLE_LIMIT = 200


@dataclass
class Outcome:
    file: str
    pair_id: str
    duplicate: bool
    score: float  # B's score for A's text; 0 when B was not among the candidates
    rank: int | None  # B's place among the suggestions (1 = first)
    cosine: float  # what the hybrid score is made of, for --calibrate
    overlap: float
    length: int


def as_idea(sentence: str) -> dict[str, str]:
    """A sentence as a person would enter it: the title, and what does not fit into the body."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= TITLE_LIMIT:
        return {"title": sentence, "body": ""}
    cut = max(sentence.rfind(mark, 0, TITLE_LIMIT) for mark in (", ", "; ", ": ", " – "))
    cut = cut if cut > 40 else sentence.rfind(" ", 0, TITLE_LIMIT)
    return {"title": sentence[:cut].rstrip(",;: –"), "body": sentence[cut:].lstrip(",;: –")}


def load_pairs(files: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    pairs = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                pair = json.loads(line)
                for side in ("a", "b"):
                    if isinstance(pair[side], str):  # a plain sentence pair (STSb)
                        pair[side] = as_idea(pair[side])
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
    from ideas_platform.similarity.scorer import LEXICAL, current_scorer

    scorer = current_scorer()

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
            a, b = scorer.analyse_many([(s["title"], s["body"]) for s in (pair["a"], pair["b"])])
            cosine = (
                float(a.vector @ b.vector) if a.vector is not None and b.vector is not None else 0
            )
            overlap = LEXICAL.score_many(a, [b])[0]
            length = max(a.length, b.length)
            outcomes.append(
                Outcome(
                    file, pair["id"], bool(pair["duplicate"]), score, rank, cosine, overlap, length
                )
            )
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


def calibrate(outcomes: list[Outcome], queue: float, typing: float) -> None:
    """Fit the hybrid scorer's logistic model on our own pairs and the STSb dev pairs (not on
    the holdout pairs), print its coefficients, and how it does out of sample: on the holdout
    pairs, and on STSb by 5-fold cross-validation (each fold scored by a model fitted without it).
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def matrix(rows: list[Outcome]) -> np.ndarray:
        return np.array([[o.cosine, o.overlap, math.log(max(o.length, 1))] for o in rows])

    def labels(rows: list[Outcome]) -> np.ndarray:
        return np.array([o.duplicate for o in rows])

    own = [o for o in outcomes if o.file == "duplicate_pairs.jsonl"]
    holdout = [o for o in outcomes if o.file == "duplicate_pairs_holdout.jsonl"]
    stsb = [o for o in outcomes if o.file == STSB.name]
    model = LogisticRegression(max_iter=1000).fit(matrix(own + stsb), labels(own + stsb))
    cosine, overlap, log_length = model.coef_[0]
    print("\ncalibration (logistic regression on duplicate_pairs.jsonl + STSb dev):")
    print(
        f"  COSINE, OVERLAP, LOG_LENGTH, INTERCEPT = {cosine:.2f}, {overlap:.2f}, "
        f"{log_length:.2f}, {model.intercept_[0]:.2f}"
    )
    out_of_sample = np.zeros(len(stsb))
    folds = StratifiedKFold(5, shuffle=True, random_state=2026)
    for train, test in folds.split(matrix(stsb), labels(stsb)):
        rows = own + [stsb[i] for i in train]
        fold = LogisticRegression(max_iter=1000).fit(matrix(rows), labels(rows))
        out_of_sample[test] = fold.predict_proba(matrix([stsb[i] for i in test]))[:, 1]
    held = model.predict_proba(matrix(holdout))[:, 1] if holdout else np.zeros(0)
    for name, rows, scores in (
        ("STSb dev, 5-fold cross-validated", stsb, out_of_sample),
        ("duplicate_pairs_holdout.jsonl (not fitted on)", holdout, held),
    ):
        if not rows:
            continue
        truth = labels(rows)
        for label, threshold in (("queue", queue), ("typing", typing)):
            found = scores >= threshold
            precision = truth[found].mean() if found.any() else 1.0
            recall = truth[found].sum() / max(truth.sum(), 1)
            print(
                f"  {name}, {label} threshold {threshold:.2f}: "
                f"precision {precision:.2f}, recall {recall:.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, action="append", help="labelled pairs (JSONL)")
    parser.add_argument("--show-errors", action="store_true", help="list misjudged pairs")
    parser.add_argument(
        "--calibrate", action="store_true", help="precision/recall for other weights"
    )
    args = parser.parse_args()
    files = args.data or [*sorted(DATA.glob("duplicate_pairs*.jsonl")), STSB]
    pairs = load_pairs(files)
    log(f"{len(pairs)} labelled pairs from {', '.join(f.name for f in files)}")

    from ideas_platform.core.migrations import upgrade
    from ideas_platform.similarity.scorer import current_scorer

    embedded: list[Embedded] = []
    try:
        url, params = bench_url(BENCH_DB, embedded)
        asyncio.run(recreate_database({**params, "database": "postgres"}, BENCH_DB))
        upgrade(url)
        outcomes = asyncio.run(measure(url, pairs))
    finally:
        for server in embedded:
            server.remove()

    scorer = current_scorer()
    queue, typing = scorer.queue_threshold, scorer.threshold
    print(f"\nscorer {scorer.name}: queue threshold {queue:.2f}, while typing {typing:.2f}")
    print(f"all {len(pairs)} pairs, at the queue threshold:")
    precision, recall, top5 = figures(outcomes, queue)
    print(f"precision: {precision:.2f}")
    print(f"recall: {recall:.2f}")
    print(f"top-5: {top5:.2f}")
    for file in sorted({o.file for o in outcomes}):
        subset = [o for o in outcomes if o.file == file]
        p, r, t = figures(subset, queue)
        pt, rt, _ = figures(subset, typing)
        print(f"{file} ({len(subset)} pairs, queue threshold {queue:.2f}): precision: {p:.2f}")
        print(f"{file} ({len(subset)} pairs, queue threshold {queue:.2f}): recall: {r:.2f}")
        print(f"{file} ({len(subset)} pairs): top-5: {t:.2f}")
        print(f"  {file} while typing ({typing:.2f}): precision {pt:.2f}, recall {rt:.2f}")
    print("  precision/recall at other thresholds (all files):")
    for other in (queue - 0.04, queue - 0.02, queue + 0.02, queue + 0.04):
        p, r, _ = figures(outcomes, other)
        print(f"    {other:.2f}: precision {p:.2f}, recall {r:.2f}")
    if args.calibrate:
        calibrate(outcomes, queue, typing)
    if args.show_errors:
        for o in sorted(outcomes, key=lambda o: o.score):
            wrong = (o.duplicate and o.score < queue) or (not o.duplicate and o.score >= queue)
            if wrong:
                kind = "missed" if o.duplicate else "false alarm"
                print(f"  {kind}: {o.file} {o.pair_id} score {o.score:.2f} rank {o.rank}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
