"""Streaming TF-IDF cosine: each arriving row against every row seen, without re-weighting them.

Batch mode weighs every family with the final document frequencies. A stream cannot wait:
each arrival changes the document frequencies, so it changes the weights of every family seen
before, and weighing every seen family again per arrival made streaming quadratic in the
number of families times their features. This index gives the same cosine (sublinear tf x
smoothed idf, L2-normalised: sklearn's TfidfTransformer formula, as `cluster.stories._View`)
at a cost that grows only with the seen rows that share a feature with the new row:

- with idf_f = L - c_f, where L = ln(1 + n) + 1 and c_f = ln(1 + df_f), a row's squared norm
  is L^2 A - 2 L B + C over its sublinear tfs s_f (A = sum s^2, B = sum s^2 c, C = sum s^2 c^2);
- when df_f grows, only the rows that hold f change their B and C, and they are exactly the
  rows the new row's dot products visit (an inverted index: feature -> rows, tfs).
"""

from __future__ import annotations

from array import array

import numpy as np
import scipy.sparse as sp


class Growable:
    """A float or int array appended to in place, doubling its capacity."""

    __slots__ = ("data", "size")

    def __init__(self, dtype, capacity: int = 8) -> None:
        self.data = np.zeros(capacity, dtype=dtype)
        self.size = 0

    def append(self, value) -> None:
        if self.size == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class IncrementalTfidf:
    """Rows of hashed term counts, added one at a time; `add` returns the new row's cosine with
    every earlier row under the document frequencies that include it."""

    def __init__(self, n_features: int) -> None:
        self._df = np.zeros(n_features)
        self._postings: dict[int, array] = {}  # feature -> (row, tf, row, tf, ...)
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []  # (features, sublinear tfs)
        self._a = Growable(np.float64)
        self._b = Growable(np.float64)
        self._c = Growable(np.float64)

    @property
    def n_rows(self) -> int:
        return len(self._rows)

    def add(self, counts: sp.csr_matrix) -> np.ndarray:
        """Add one row (a 1 x n_features matrix of raw counts); its cosine with each earlier row."""
        features = counts.indices.astype(np.int32)
        tfs = 1.0 + np.log(counts.data.astype(np.float64))
        before = self.n_rows
        c_old = np.log1p(self._df[features])
        self._df[features] += 1.0
        c_new = np.log1p(self._df[features])
        big_l = np.log(2.0 + before) + 1.0  # with the new row: n = before + 1

        # The earlier rows that share a feature with the new one, as flat (row, tf, which) lists.
        # A feature's posting is one array.array of (row, tf) pairs (appends run in C); numpy
        # reads it without a copy, and those views are dropped before the postings grow.
        postings = self._postings
        present = np.flatnonzero(c_old > 0.0)  # features some earlier row has
        parts = [np.frombuffer(postings[f], dtype=np.float64) for f in features[present].tolist()]
        similarity = np.zeros(before)
        if parts:
            pairs = np.concatenate(parts).reshape(-1, 2)
            which = np.repeat(present, [len(part) // 2 for part in parts])
            del parts
            rows, shared_tfs = pairs[:, 0].astype(np.int64), pairs[:, 1]
            squared = shared_tfs**2
            b, c = self._b.view(), self._c.view()
            b += np.bincount(rows, squared * (c_new - c_old)[which], minlength=before)
            c += np.bincount(rows, squared * (c_new**2 - c_old**2)[which], minlength=before)
            idf = big_l - c_new
            dots = np.bincount(rows, shared_tfs * (tfs * idf**2)[which], minlength=before)
            touched = np.flatnonzero(dots)
            a = self._a.view()[touched]
            norms = np.sqrt(big_l**2 * a - 2.0 * big_l * b[touched] + c[touched])
            own_norm = float(np.sqrt(np.sum((tfs * idf) ** 2)))
            similarity[touched] = dots[touched] / (norms * own_norm)

        squared = tfs**2
        self._a.append(squared.sum())
        self._b.append((squared * c_new).sum())
        self._c.append((squared * c_new**2).sum())
        self._rows.append((features, tfs))
        for feature, tf in zip(features.tolist(), tfs.tolist(), strict=True):
            posting = postings.get(feature)
            if posting is None:
                postings[feature] = array("d", (before, tf))
            else:
                posting.extend((before, tf))
        return similarity

    def weighted(self, rows: np.ndarray) -> sp.csr_matrix:
        """TF-IDF rows (unit length, current document frequencies) of the given seen rows."""
        parts = [self._rows[row] for row in rows.tolist()]
        sizes = np.array([len(features) for features, _ in parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)])
        if not parts or not indptr[-1]:
            return sp.csr_matrix((len(rows), len(self._df)))
        features = np.concatenate([features for features, _ in parts])
        values = np.concatenate([tfs for _, tfs in parts])
        values *= np.log((1.0 + self.n_rows) / (1.0 + self._df[features])) + 1.0
        norms = np.sqrt(np.add.reduceat(values**2, indptr[:-1][sizes > 0]))
        values /= np.repeat(norms, sizes[sizes > 0])
        return sp.csr_matrix((values, features, indptr), shape=(len(rows), len(self._df)))


__all__ = ["Growable", "IncrementalTfidf"]
