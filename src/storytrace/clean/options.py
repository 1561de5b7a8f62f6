"""CleanOptions: every setting of the clean stage in one typed object, with tuned defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True)
class CleanOptions:
    """Settings for `clean_corpus`, `clean_text` and `clean_html`.

    Tuned constants live here. The line-cleaning values were chosen on the 181 flattened AEB
    pages (bench/cleaning.py, F1 0.913) from a few round values each, and checked on the seeds
    and on Multi-News (share of long lines kept), so that no single page set decides them.
    """

    # HTML, F1 of clean_html on the 181 AEB pages: favor_precision 0.964, neither 0.960,
    # favor_recall 0.960 (trafilatura.extract with its defaults, comments included: 0.953).
    favor_precision: bool = True
    favor_recall: bool = False
    # A line of this many words or more, rich in stop words, is prose: it counts for the body.
    prose_min_words: int = 10
    # Marker patterns naming how a line starts apply to lines up to this long only.
    marker_max_words: int = 20
    # Corpus repetition: a line is boilerplate when seen in at least this many documents...
    repeat_min_docs: int = 3
    # ...and in at least this share of the corpus (so 2 of 5 seeds never fire by accident).
    repeat_min_share: float = 0.005
    # Body search (lines.py): prose counts its length in characters; a short line costs
    # short_line_cost (half that when it ends like a sentence), a marked line bad_line_cost.
    # AEB F1 for (short, bad): (30, 60) 0.884, (60, 100) 0.896, (80, 150) 0.903, (150, 200) 0.878.
    short_line_cost: float = 80.0
    bad_line_cost: float = 150.0
    short_sentence_factor: float = 0.5
    # The body is the first section (between end-of-article markers) whose best run of lines
    # scores at least this share of the best section's: an article comes before its comments.
    # AEB F1: 0.2 -> 0.860, 0.3 -> 0.872, 0.5 -> 0.862 (measured before later rules).
    first_body_share: float = 0.3
    # Inside the body, a run of this many short lines without sentence ending is a menu.
    menu_run_min: int = 3
    # Keep prose lines found outside the body (other stories' teasers, comments): AEB precision
    # 0.66 with, 0.77 without, at the time it was measured.
    keep_outside_prose: bool = False
    detect_language: bool = True
    repair_text: bool = True

    def __post_init__(self) -> None:
        if self.prose_min_words < 1:
            raise ValueError("prose_min_words must be >= 1")
        if self.repeat_min_docs < 2:
            raise ValueError("repeat_min_docs must be >= 2")
        if not 0.0 <= self.repeat_min_share <= 1.0:
            raise ValueError("repeat_min_share must be in [0.0, 1.0]")
        if not 0.0 <= self.first_body_share <= 1.0:
            raise ValueError("first_body_share must be in [0.0, 1.0]")
        if self.favor_precision and self.favor_recall:
            raise ValueError("favor_precision and favor_recall exclude each other")

    def get_params(self) -> dict[str, Any]:
        """The exact configuration, for reports."""
        return asdict(self)
