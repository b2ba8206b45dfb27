"""Machine suggestions for themes: group ideas by what they mean, offline on the CPU.

1. Meaning: the ideas' sentence vectors (`similarity.embedder`, stored with each idea),
   reduced to their 32 main directions (PCA, not whitened: the strongest directions of meaning
   carry the themes, the weak ones mostly noise), normalised.
2. Words, beside them at weight 0.9: TF-IDF of the ideas' analysed terms (`similarity.text`),
   of character 3-5-grams inside words (compounds, inflections) and of the broader concepts the
   words point to (`themes.concepts`, a small tie-breaker), reduced by truncated SVD (latent
   semantic analysis) to at most 100 dimensions, normalised.
3. k-means for every k in a range; k is the one with the best silhouette (cosine, on a sample),
   unless the moderator asked for a number. The scores of every k tried go to the moderator.
4. Each theme's title: the title of the idea nearest to the group's centre of meaning (of the
   three nearest, the first short one), a phrase a person wrote; its characteristic words
   (highest mean TF-IDF against all ideas) are kept as keywords beside it.

The weights were chosen on the news teasers of 10kGNAD and our own labelled ideas (see
`make bench-clusters` and bench/README.md). Pure computation: no database, no web; `themes.jobs`
runs it in a separate process.
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
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from ideas_platform.similarity.text import DISPLAY, FOLD, GENERIC_STEMS, STOP_WORDS, stems
from ideas_platform.themes.concepts import concepts_of

SEED = 2026
MAX_DIMENSIONS = 100
MEANING_DIMENSIONS = 32
WORDS_WEIGHT = 0.9
CHARACTER_WEIGHT = 0.6
CHARACTER_NGRAMS = (4, 4)  # as good as (3, 5) on the three labelled files, twice as fast
CONCEPT_WEIGHT = 0.5
SILHOUETTE_SAMPLE = 2000
SVD_SAMPLE = 5000
TITLE_LENGTH = 120
SHORT_TITLE = 90
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


@dataclass
class KChoice:
    """How the number of themes came about, for the moderator."""

    k: int
    automatic: bool
    silhouettes: dict[int, float] = field(default_factory=dict)  # k tried -> its score


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


def lexical_features(ideas: Sequence[IdeaText]) -> tuple[np.ndarray, TfidfVectorizer, object]:
    documents = [_document(idea) for idea in ideas]
    min_df = 2 if len(ideas) >= 50 else 1
    words = TfidfVectorizer(analyzer=_terms, min_df=min_df, sublinear_tf=True)
    word_matrix = words.fit_transform(documents)
    characters = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=CHARACTER_NGRAMS,
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
        svd = TruncatedSVD(n_components=dimensions, random_state=SEED)
        if combined.shape[0] > SVD_SAMPLE:  # the directions are found on a sample (speed)
            rows = np.random.default_rng(SEED).choice(combined.shape[0], SVD_SAMPLE, replace=False)
            reduced = svd.fit(combined[np.sort(rows)]).transform(combined)
        else:
            reduced = svd.fit_transform(combined)
    else:
        reduced = combined.toarray()
    return normalize(reduced), words, word_matrix


def combined(meaning: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Meaning (main directions of the sentence vectors) and words side by side, normalised."""
    dimensions = min(MEANING_DIMENSIONS, len(meaning) - 1, meaning.shape[1])
    if dimensions >= 2:
        meaning = PCA(n_components=dimensions, random_state=SEED).fit_transform(meaning)
    return np.asarray(normalize(np.hstack([normalize(meaning), WORDS_WEIGHT * lexical])))


def readable_title(members: Sequence[IdeaText], meaning: np.ndarray) -> str:
    """The title of the member nearest the group's centre (of the 3 nearest, the first short
    one), cut at a word to fit a theme title."""
    centre = meaning.mean(axis=0)
    nearest = np.argsort(-(meaning @ centre), kind="stable")[:3]
    titles = [" ".join(members[int(i)].title.split()).rstrip(" .") for i in nearest]
    title = next((t for t in titles if 0 < len(t) <= SHORT_TITLE), titles[0])
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–") + "…"
    return title


def _cluster(vectors: np.ndarray, k: int, *, tries: int = 3) -> np.ndarray:
    if len(vectors) > 5000:
        model = MiniBatchKMeans(n_clusters=k, random_state=SEED, n_init=tries, batch_size=2048)
    else:
        model = KMeans(n_clusters=k, random_state=SEED, n_init=10)
    return np.asarray(model.fit_predict(vectors))


def choose_k(
    vectors: np.ndarray, progress: Progress = _no_progress
) -> tuple[int, np.ndarray, dict[int, float]]:
    rng = np.random.default_rng(SEED)
    sample = (
        rng.choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)
        if len(vectors) > SILHOUETTE_SAMPLE
        else np.arange(len(vectors))
    )
    candidates = k_range(len(vectors))
    best: tuple[float, int, np.ndarray] | None = None
    scores: dict[int, float] = {}
    for number, k in enumerate(candidates):
        # Many ideas: one try per k while searching, the usual three for the k chosen.
        labels = _cluster(vectors, k, tries=1)
        if len(set(labels[sample])) < 2:
            continue
        score = float(silhouette_score(vectors[sample], labels[sample], metric="cosine"))
        scores[k] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, k, labels)
        progress(0.4 + 0.5 * (number + 1) / len(candidates), f"k={k}")
    if best is None:
        return 1, np.zeros(len(vectors), dtype=int), scores
    _, k, labels = best
    if len(vectors) > 5000:
        labels = _cluster(vectors, k)
    return k, labels, scores


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
    ideas: Sequence[IdeaText],
    meaning: np.ndarray,
    k: int | None = None,
    progress: Progress = _no_progress,
) -> tuple[list[ProposedTheme], KChoice]:
    """Proposed themes for the ideas, largest first, and how k was chosen.

    `meaning`: the ideas' sentence vectors, one row per idea. `k` None: chosen automatically.
    """
    if len(ideas) < 2:
        alone = [ProposedTheme(ideas[0].title[:TITLE_LENGTH], [], [ideas[0].id])] if ideas else []
        return alone, KChoice(len(alone), k is None)
    progress(0.05, "features")
    lexical, words, word_matrix = lexical_features(ideas)
    vectors = combined(np.asarray(meaning, dtype=np.float32), lexical)
    progress(0.4, "clusters")
    if k is None:
        k, labels, scores = choose_k(vectors, progress)
        choice = KChoice(k, True, scores)
    else:
        k = max(1, min(k, len(ideas)))
        labels = _cluster(vectors, k) if k > 1 else np.zeros(len(ideas), dtype=int)
        choice = KChoice(k, False)
    progress(0.92, "titles")
    keywords = _titles(ideas, labels, words, word_matrix)
    themes: dict[int, ProposedTheme] = {}
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        members = [ideas[int(i)] for i in rows]
        themes[label] = ProposedTheme(
            readable_title(members, meaning[rows]),
            keywords.get(label, []),
            [idea.id for idea in members],
        )
    progress(1.0, "done")
    return sorted(themes.values(), key=lambda t: (-len(t.idea_ids), t.title)), choice
