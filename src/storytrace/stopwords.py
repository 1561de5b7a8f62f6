"""scikit-learn's English stop words, without importing scikit-learn.

The match stage's derivation features and the trace stage's wording comparison use the list
that scikit-learn ships (`sklearn.feature_extraction.text.ENGLISH_STOP_WORDS`, the Glasgow IR
group's 318 words), and the shipped derivation model was trained with it. Importing it the
usual way imports scikit-learn's package (scipy, joblib, threadpoolctl): 1.5-2 s of the
3.5 s that one `storytrace index query` command took at 100,000 documents, for a frozenset
literal. The list sits alone in `sklearn/feature_extraction/_stop_words.py`, so that file is
loaded by itself; if a scikit-learn release moves it, the usual import is the fallback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _load() -> frozenset[str]:
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0], "feature_extraction", "_stop_words.py")
        alone = importlib.util.spec_from_file_location("storytrace._sklearn_stop_words", path)
        if path.is_file() and alone is not None and alone.loader is not None:
            module = importlib.util.module_from_spec(alone)
            alone.loader.exec_module(module)
            words = getattr(module, "ENGLISH_STOP_WORDS", None)
            if isinstance(words, frozenset):
                return words
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


ENGLISH_STOP_WORDS: frozenset[str] = _load()

__all__ = ["ENGLISH_STOP_WORDS"]
