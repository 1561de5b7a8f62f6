"""The article-extraction benchmark's metric, so tests and bench/ score cleaning the same way.

Scrapinghub's article-extraction-benchmark: tokens are `\\w+` words, shingles of 4 tokens
compared as multisets, precision and recall per page, macro-averaged over pages, and F1 from
the averaged precision and recall (not the average of per-page F1).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """The multiset of n-token shingles of `text` (a text shorter than n gives one shingle)."""
    tokens = _TOKEN.findall(text)
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_precision_recall(extracted: str, truth: str) -> tuple[float, float]:
    """Shingle-multiset precision and recall of one page's extracted text against the truth."""
    got, want = shingles(extracted), shingles(truth)
    common = sum((got & want).values())
    n_got, n_want = sum(got.values()), sum(want.values())
    if n_got == 0 and n_want == 0:
        return 1.0, 1.0
    precision = common / n_got if n_got else 0.0
    recall = common / n_want if n_want else 0.0
    return precision, recall


@dataclass(slots=True)
class Score:
    precision: float
    recall: float
    pages: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_pages(pairs: Iterable[tuple[str, str]]) -> Score:
    """Macro-averaged precision/recall over (extracted, truth) pairs; F1 from the averages."""
    ps: list[float] = []
    rs: list[float] = []
    for extracted, truth in pairs:
        p, r = page_precision_recall(extracted, truth)
        ps.append(p)
        rs.append(r)
    n = len(ps)
    return Score(sum(ps) / n if n else 0.0, sum(rs) / n if n else 0.0, n)
