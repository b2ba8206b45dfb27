"""Machine suggestions for themes: group ideas by their words, offline on the CPU.

1. Features: TF-IDF of the ideas' analysed terms (`similarity.text`: umlauts folded, domain
   synonyms, stems; the title counts double), of character 3-5-grams inside words (compounds
   and inflections) and of the broader concepts the words point to (`themes.concepts`: an
   "Elektrolyseur" is about hydrogen), sublinear and L2-normalised, side by side.
2. Reduced to at most 100 dimensions with truncated SVD (latent semantic analysis), normalised.
3. k-means for every k in a range; k is the one with the best silhouette (on a sample), unless
   the moderator asked for a number.
4. Each theme's title: its most characteristic words (highest mean TF-IDF in the group, compared
   with all ideas), in the spelling the ideas use most.

Pure computation: no database, no web; `themes.jobs` runs it in a separate process.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import hstack
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from ideas_platform.similarity.text import DISPLAY, FOLD, GENERIC_STEMS, STOP_WORDS, stems
from ideas_platform.themes.concepts import concepts_of

SEED = 2026
MAX_DIMENSIONS = 100
CHARACTER_WEIGHT = 0.6
CONCEPT_WEIGHT = 0.5
SILHOUETTE_SAMPLE = 2000
_WORD = re.compile(r"[^\W\d_][\w-]{2,}")

Progress = Callable[[float, str], None]


@dataclass
class IdeaText:
    id: int
    title: str
    body: str


@dataclass
class ProposedTheme:
    title: str
    keywords: list[str]
    idea_ids: list[int] = field(default_factory=list)


def _no_progress(_share: float, _step: str) -> None:
    return None


def _document(idea: IdeaText) -> str:
    return f"{idea.title}. {idea.title}. {idea.body}"


def _terms(text: str) -> list[str]:
    return [term for term in stems(text) if term not in GENERIC_STEMS]


def k_range(n: int) -> range:
    """The k tried when the moderator does not choose: from 4 up to about √n, at most 30."""
    low = max(2, min(4, n // 3))
    high = max(low + 1, min(30, n // 3, round(math.sqrt(n))))
    return range(low, high + 1)


def features(ideas: Sequence[IdeaText]) -> tuple[np.ndarray, TfidfVectorizer, object]:
    documents = [_document(idea) for idea in ideas]
    min_df = 2 if len(ideas) >= 50 else 1
    words = TfidfVectorizer(analyzer=_terms, min_df=min_df, sublinear_tf=True)
    word_matrix = words.fit_transform(documents)
    characters = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        min_df=min_df,
        max_features=200_000,
        sublinear_tf=True,
        preprocessor=lambda text: text.lower().translate(FOLD),
    )
    char_matrix = characters.fit_transform(documents)
    concepts = TfidfVectorizer(analyzer=concepts_of, sublinear_tf=True)
    try:
        concept_matrix = concepts.fit_transform(documents)
    except ValueError:  # no idea touches a known concept
        concept_matrix = None
    parts = [word_matrix, CHARACTER_WEIGHT * char_matrix]
    if concept_matrix is not None:
        parts.append(CONCEPT_WEIGHT * concept_matrix)
    combined = hstack(parts).tocsr()
    dimensions = min(MAX_DIMENSIONS, combined.shape[1] - 1, len(ideas) - 1)
    if dimensions >= 2:
        reduced = TruncatedSVD(n_components=dimensions, random_state=SEED).fit_transform(combined)
    else:
        reduced = combined.toarray()
    return normalize(reduced), words, word_matrix


def _cluster(vectors: np.ndarray, k: int) -> np.ndarray:
    if len(vectors) > 5000:
        model = MiniBatchKMeans(n_clusters=k, random_state=SEED, n_init=3, batch_size=2048)
    else:
        model = KMeans(n_clusters=k, random_state=SEED, n_init=4)
    return np.asarray(model.fit_predict(vectors))


def choose_k(vectors: np.ndarray, progress: Progress = _no_progress) -> tuple[int, np.ndarray]:
    rng = np.random.default_rng(SEED)
    sample = (
        rng.choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)
        if len(vectors) > SILHOUETTE_SAMPLE
        else np.arange(len(vectors))
    )
    candidates = k_range(len(vectors))
    best: tuple[float, int, np.ndarray] | None = None
    for number, k in enumerate(candidates):
        labels = _cluster(vectors, k)
        if len(set(labels[sample])) < 2:
            continue
        score = float(silhouette_score(vectors[sample], labels[sample], metric="cosine"))
        if best is None or score > best[0]:
            best = (score, k, labels)
        progress(0.4 + 0.5 * (number + 1) / len(candidates), f"k={k}")
    if best is None:
        return 1, np.zeros(len(vectors), dtype=int)
    return best[1], best[2]


def _surface_form(term: str, ideas: Sequence[IdeaText]) -> str:
    """The word as the ideas spell it most often for a stem (for readable titles)."""
    if term in DISPLAY:
        return DISPLAY[term]
    forms: Counter[str] = Counter()
    for idea in ideas[:300]:
        for word in _WORD.findall(f"{idea.title} {idea.body}"):
            if word.lower().translate(FOLD).startswith(term[:4]) and term in stems(word):
                forms[word.strip("-")] += 1
    return forms.most_common(1)[0][0] if forms else term


def _titles(
    ideas: Sequence[IdeaText],
    labels: np.ndarray,
    words: TfidfVectorizer,
    word_matrix: object,
) -> dict[int, list[str]]:
    vocabulary = np.asarray(words.get_feature_names_out())
    matrix = word_matrix.tocsr()  # type: ignore[attr-defined]
    overall = np.asarray(matrix.mean(axis=0)).ravel()
    keywords: dict[int, list[str]] = {}
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        mean = np.asarray(matrix[rows].mean(axis=0)).ravel()
        distinct = mean - 0.5 * overall
        members = [ideas[int(i)] for i in rows]
        chosen: list[str] = []
        for index in np.argsort(-distinct):
            term = str(vocabulary[index])
            if term in STOP_WORDS or len(term) < 3 or distinct[index] <= 0:
                continue
            word = _surface_form(term, members)
            if all(word.lower() not in other.lower() for other in chosen):
                chosen.append(word)
            if len(chosen) == 3:
                break
        keywords[label] = chosen
    return keywords


def suggest(
    ideas: Sequence[IdeaText], k: int | None = None, progress: Progress = _no_progress
) -> list[ProposedTheme]:
    """Proposed themes for the ideas, largest first. `k` None: chosen automatically."""
    if len(ideas) < 2:
        return [ProposedTheme("", [], [i.id for i in ideas])] if ideas else []
    progress(0.05, "features")
    vectors, words, word_matrix = features(ideas)
    progress(0.4, "clusters")
    if k is None:
        k, labels = choose_k(vectors, progress)
    else:
        k = max(1, min(k, len(ideas)))
        labels = _cluster(vectors, k) if k > 1 else np.zeros(len(ideas), dtype=int)
    progress(0.92, "titles")
    keywords = _titles(ideas, labels, words, word_matrix)
    themes: dict[int, ProposedTheme] = {}
    for idea, label in zip(ideas, labels.tolist(), strict=True):
        words_of = keywords.get(label, [])
        title = " · ".join(words_of)[:120]  # a theme title has at most 120 characters
        theme = themes.setdefault(label, ProposedTheme(title, words_of))
        theme.idea_ids.append(idea.id)
    progress(1.0, "done")
    return sorted(themes.values(), key=lambda t: (-len(t.idea_ids), t.title))
