"""Language of a document (py3langid) and the stop words the line classifier counts for it."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Characters of text the language is judged on (py3langid is linear in length): on the 472
# AEB and Multi-News documents, 200 gives the same languages as longer samples (300-3,000).
_SAMPLE_CHARS = 200
_SENTENCE_ENDS = frozenset('.!?。！？"”')

# ISO 639-1 code -> jusText stoplist name (the languages news scrapes mostly come in).
_STOPLIST_NAMES = {
    "en": "English",
    "pt": "Portuguese",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "pl": "Polish",
    "tr": "Turkish",
    "id": "Indonesian",
    "ms": "Malay",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian_Bokmal",
    "fi": "Finnish",
    "cs": "Czech",
    "sk": "Slovak",
    "hu": "Hungarian",
    "ro": "Romanian",
    "uk": "Ukrainian",
    "bg": "Bulgarian",
    "el": "Greek",
    "hr": "Croatian",
    "sr": "Serbian",
    "sl": "Slovenian",
    "ca": "Catalan",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "fa": "Persian",
    "hi": "Hindi",
    "he": "Hebrew",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "et": "Estonian",
    "tl": "Tagalog",
    "sw": "Swahili",
    "af": "Afrikaans",
    "gl": "Galician",
    "eu": "Basque",
}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None for text too short to tell."""
    # Long lines ending like sentences are the prose; menus, archive lists and URLs mislead the
    # model. The first such lines, 200 characters of each, so no single line fills the sample.
    sample, size = [], 0
    for line in text.splitlines():
        if len(line) >= 60 and line.rstrip()[-1:] in _SENTENCE_ENDS:
            sample.append(line[:200])
            size += len(sample[-1])
            if size >= _SAMPLE_CHARS:
                break
    if not sample:
        sample = [text[: _SAMPLE_CHARS * 2]]
    joined = "\n".join(sample)[:_SAMPLE_CHARS]
    if sum(map(str.isalpha, joined[:200])) < 20:
        return None
    code, _score = _identifier().classify(joined)
    return code


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """py3langid limited to living ISO 639-1 languages (two-letter codes).

    The full model also knows regional and historical varieties (Nigerian Pidgin, Extremaduran,
    Wu Chinese...) that, on short samples, it picks for English or Japanese news; our own
    identifier leaves py3langid's global one untouched for other users.
    """
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    labels = {code for code in identifier.nb_classes if len(code) == 2}
    identifier.set_languages(sorted(labels - {"la", "eo", "vo", "sa"}))
    # set_languages keeps the chosen columns as a column-major view: every classification
    # gathers the sample's feature rows from it, one cache miss a value. A row-major copy holds
    # the same float16 values (so the same scores, bit for bit) and halves the scoring time.
    identifier.nb_ptc = np.ascontiguousarray(identifier.nb_ptc)
    return identifier


@lru_cache(maxsize=64)
def stopwords_for(language: str | None) -> frozenset[str]:
    """jusText's stop words for `language`; English when unknown; empty when jusText has none."""
    name = _STOPLIST_NAMES.get(language or "en")
    if name is None:
        return frozenset()
    try:
        return _justext_stoplist(name)
    except (ValueError, KeyError, OSError):
        return frozenset()


def _justext_stoplist(name: str) -> frozenset[str]:
    """justext.get_stoplist(name), read from jusText's package folder without importing it
    (its import loads lxml's HTML cleaner and urllib: 30 ms of every dedup start)."""
    spec = importlib.util.find_spec("justext")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("jusText is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    data = (folder / "stoplists" / f"{name}.txt").read_bytes()
    return frozenset(word.decode("utf8").lower() for word in data.splitlines())
