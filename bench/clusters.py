"""`make bench-clusters`: quality and speed of the machine theme suggestions.

Quality, on three labelled sets (one JSON object per line: ``{"id", "theme", "title", "body"}``):

* ``../shared/benchmarks/clusters_10kgnad.jsonl``: 778 real German news teasers in 9 topics,
  written by other people (10kGNAD, read in place, never copied);
* bench/data/cluster_ideas.jsonl: 368 short idea texts in 10 themes, written for this purpose
  (the concept lexicon was written after looking at its themes);
* bench/data/cluster_ideas_holdout.jsonl: 240 ideas in 8 other themes, written by another hand.

Each is embedded with the app's model and grouped by the app's `themes.suggest.suggest`, with k
chosen automatically as in the app, and with k = the number of labelled themes. Printed per file:
`NMI: 0.NN` and `ARI: 0.NN` (automatic k) with the file name, next to a plain TF-IDF + k-means
baseline (scikit-learn defaults, k = number of labels) in the same run, and a few theme titles.

Speed: 20,000 ideas (recombined from the sentences of the labelled texts) are embedded and then
suggested in a fresh process, as the background job does when no vector is stored yet; printed:
seconds of each step and the peak memory of that process.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

DATA = Path(__file__).with_name("data") / "cluster_ideas.jsonl"
GNAD = Path(__file__).resolve().parents[1].parent / "shared/benchmarks/clusters_10kgnad.jsonl"
# Written by another hand after the concept lexicon (themes/concepts.py), with other themes.
HELD_OUT = Path(__file__).with_name("data") / "cluster_ideas_holdout.jsonl"


def load(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def scores(labels: list[str], predicted: list[int]) -> tuple[float, float]:
    return (
        normalized_mutual_info_score(labels, predicted),
        adjusted_rand_score(labels, predicted),
    )


def embed(rows: list[dict[str, str]]) -> Any:
    from ideas_platform.similarity.embedder import get_embedder, idea_text

    model = get_embedder()
    if model is None:
        raise SystemExit("the sentence model could not be loaded (see the log)")
    return model.embed([idea_text(row["title"], row["body"]) for row in rows])


def ours(rows: list[dict[str, str]], meaning: Any, k: int | None) -> tuple[list[int], list[Any]]:
    from ideas_platform.themes.suggest import IdeaText, suggest

    ideas = [IdeaText(i, row["title"], row["body"]) for i, row in enumerate(rows)]
    proposals, _ = suggest(ideas, meaning, k=k)
    predicted = [0] * len(rows)
    for number, proposal in enumerate(proposals):
        for idea_id in proposal.idea_ids:
            predicted[idea_id] = number
    return predicted, proposals


def baseline(rows: list[dict[str, str]], k: int) -> list[int]:
    documents = [f"{row['title']} {row['body']}" for row in rows]
    matrix = TfidfVectorizer().fit_transform(documents)
    return list(KMeans(n_clusters=k, random_state=2026, n_init=10).fit_predict(matrix))


def synthetic(rows: list[dict[str, str]], count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    sentences = [s for row in rows for s in re.split(r"(?<=[.!?])\s+", row["body"]) if len(s) > 20]
    titles = [row["title"] for row in rows]
    words = sorted({w for t in titles for w in t.split() if len(w) > 5})
    ideas = []
    for _ in range(count):
        title = rng.choice(titles).split()
        title[rng.randrange(len(title))] = rng.choice(words)
        ideas.append((" ".join(title), " ".join(rng.sample(sentences, rng.randint(1, 3)))))
    return ideas


def speed_child(count: int) -> None:
    """Runs in a fresh process: suggest themes for `count` ideas; print seconds and peak MB."""
    from ideas_platform.themes.suggest import IdeaText, suggest

    texts = synthetic(load(DATA), count)
    ideas = [IdeaText(i, title, body) for i, (title, body) in enumerate(texts)]
    started = time.perf_counter()
    meaning = embed([{"title": idea.title, "body": idea.body} for idea in ideas])
    embedded = time.perf_counter()
    proposals, _ = suggest(ideas, meaning)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "embed_seconds": embedded - started,
                "cluster_seconds": done - embedded,
                "peak_mb": peak_mb,
                "themes": len(proposals),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="one labelled file instead of the three")
    parser.add_argument("--speed-ideas", type=int, default=20_000)
    parser.add_argument("--speed-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_child:
        speed_child(args.speed_child)
        return 0

    files = [args.data] if args.data else [p for p in (GNAD, DATA, HELD_OUT) if p.exists()]
    for path in files:
        rows = load(path)
        labels = [row["theme"] for row in rows]
        k_true = len(set(labels))
        name = path.name
        print(f"\n{len(rows)} labelled ideas in {k_true} themes ({name})")
        started = time.perf_counter()
        meaning = embed(rows)
        predicted, proposals = ours(rows, meaning, None)
        seconds = time.perf_counter() - started
        nmi, ari = scores(labels, predicted)
        fixed, _ = ours(rows, meaning, k_true)
        nmi_fixed, ari_fixed = scores(labels, fixed)
        nmi_base, ari_base = scores(labels, baseline(rows, k_true))
        print(f"{name}: suggestions, k chosen automatically: {len(proposals)} ({seconds:.1f} s)")
        print(f"{name}: NMI: {nmi:.2f}")
        print(f"{name}: ARI: {ari:.2f}")
        print(f"{name}: with k = {k_true}: NMI {nmi_fixed:.2f}, ARI {ari_fixed:.2f}")
        print(f"{name}: baseline TF-IDF + k-means (k = {k_true}): NMI {nmi_base:.2f}, ", end="")
        print(f"ARI {ari_base:.2f}")
        for proposal in proposals[:4]:
            print(f"  theme title: {proposal.title!r} ({len(proposal.idea_ids)} ideas)")

    if args.speed_ideas:
        child = subprocess.run(
            [sys.executable, "-m", "bench.clusters", "--speed-child", str(args.speed_ideas)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        total = result["embed_seconds"] + result["cluster_seconds"]
        print(
            f"speed: {args.speed_ideas} ideas -> {result['themes']} themes in {total:.1f} s "
            f"(embedding {result['embed_seconds']:.1f} s, clustering "
            f"{result['cluster_seconds']:.1f} s), peak memory {result['peak_mb']:.0f} MB "
            "(one process)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
