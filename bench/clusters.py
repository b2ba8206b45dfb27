"""`make bench-clusters`: quality and speed of the machine theme suggestions.

Quality: the labelled ideas in bench/data/cluster_ideas.jsonl (one JSON object per line:
``{"id", "theme", "title", "body"}``, written for this purpose: short German idea texts, some
English, in 10 known themes) are grouped by the app's `themes.suggest.suggest`, with k chosen
automatically as in the app, and with k = the number of labelled themes. Printed: `NMI: 0.NN`
and `ARI: 0.NN` of the app's suggestions (automatic k) against the labels, next to a plain
TF-IDF + k-means baseline (scikit-learn defaults, k = number of labels) in the same run.

Speed: 20,000 ideas (recombined from the sentences of the labelled texts) are suggested in a
fresh process, as the background job does; printed: seconds and peak memory of that process.
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

from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

DATA = Path(__file__).with_name("data") / "cluster_ideas.jsonl"
# Written by another hand after the concept lexicon (themes/concepts.py), with other themes.
HELD_OUT = [Path(__file__).with_name("data") / "cluster_ideas_holdout.jsonl"]


def load(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def scores(labels: list[str], predicted: list[int]) -> tuple[float, float]:
    return (
        normalized_mutual_info_score(labels, predicted),
        adjusted_rand_score(labels, predicted),
    )


def ours(rows: list[dict[str, str]], k: int | None) -> tuple[list[int], int]:
    from ideas_platform.themes.suggest import IdeaText, suggest

    ideas = [IdeaText(i, row["title"], row["body"]) for i, row in enumerate(rows)]
    proposals = suggest(ideas, k=k)
    predicted = [0] * len(rows)
    for number, proposal in enumerate(proposals):
        for idea_id in proposal.idea_ids:
            predicted[idea_id] = number
    return predicted, len(proposals)


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
    proposals = suggest(ideas)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "themes": len(proposals)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--speed-ideas", type=int, default=20_000)
    parser.add_argument("--speed-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_child:
        speed_child(args.speed_child)
        return 0

    for path in [args.data, *sorted(p for p in HELD_OUT if p != args.data and p.exists())]:
        rows = load(path)
        labels = [row["theme"] for row in rows]
        k_true = len(set(labels))
        main_set = path == args.data
        print(f"\n{len(rows)} labelled ideas in {k_true} themes ({path.name})")
        started = time.perf_counter()
        predicted, k_auto = ours(rows, None)
        seconds = time.perf_counter() - started
        nmi, ari = scores(labels, predicted)
        fixed, _ = ours(rows, k_true)
        nmi_fixed, ari_fixed = scores(labels, fixed)
        nmi_base, ari_base = scores(labels, baseline(rows, k_true))
        print(f"suggestions (k chosen automatically: {k_auto}, {seconds:.1f} s):")
        if main_set:
            print(f"NMI: {nmi:.2f}")
            print(f"ARI: {ari:.2f}")
        else:
            print(f"  held out: NMI {nmi:.2f}, ARI {ari:.2f}")
        print(f"suggestions with k = {k_true}: NMI {nmi_fixed:.2f}, ARI {ari_fixed:.2f}")
        print(f"baseline TF-IDF + k-means (k = {k_true}): NMI {nmi_base:.2f}, ARI {ari_base:.2f}")

    if args.speed_ideas:
        child = subprocess.run(
            [sys.executable, "-m", "bench.clusters", "--speed-child", str(args.speed_ideas)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"speed: {args.speed_ideas} ideas -> {result['themes']} themes in "
            f"{result['seconds']:.1f} s, peak memory {result['peak_mb']:.0f} MB (one process)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
