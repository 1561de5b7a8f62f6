"""One frozen configuration for the whole pipeline: `Config(clean, match, stories, facts)`.

Each stage keeps its own typed options where they were tuned (`clean.CleanOptions`,
`match.MatchOptions`, `StoryClusterer`'s parameters, `facts/settings.py`); this object only
gathers them, validates them once, and gives `get_params()` so a result records the exact
configuration it ran with (`stats["config"]`). Nothing here re-tunes a value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from storytrace.clean.options import CleanOptions
from storytrace.errors import ConfigError
from storytrace.match.options import MatchOptions

STORY_MODES = ("batch", "streaming")


def _story_defaults() -> dict[str, Any]:
    from storytrace.cluster import stories as s  # sklearn/scipy: loaded when first needed

    return {
        "min_similarity": s.MIN_SIMILARITY,
        "word_weight": s.WORD_WEIGHT,
        "name_weight": s.NAME_WEIGHT,
        "number_weight": s.NUMBER_WEIGHT,
        "min_content_words": s.MIN_CONTENT_WORDS,
        "date_scale_days": s.DATE_SCALE_DAYS,
        "split_neighbours": s.SPLIT_NEIGHBOURS,
        "split_max_ncut": s.SPLIT_MAX_NCUT,
        "embedding_weight": s.EMBEDDING_WEIGHT,
        "dense_limit": s.DENSE_LIMIT,
    }


@dataclass(frozen=True, slots=True)
class StoryOptions:
    """Story clustering: the mode and `StoryClusterer`'s constructor parameters.

    `params` left empty means the clusterer's tuned defaults (cluster/stories.py); any key given
    overrides one of them and is validated by the clusterer's own constructor.
    """

    mode: str = "batch"
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in STORY_MODES:
            raise ConfigError(
                f"story mode must be one of {', '.join(STORY_MODES)}, not {self.mode!r}"
            )
        if not self.params:  # the clusterer's own defaults: nothing to check, nothing to
            return  # import (a query or a dedup never loads scikit-learn for it)
        unknown = {k for k, _ in self.params} - set(_story_defaults())
        if unknown:
            raise ConfigError(f"unknown story parameter(s): {', '.join(sorted(unknown))}")
        try:
            self.clusterer()
        except ValueError as exc:
            raise ConfigError(f"story parameters: {exc}") from exc

    def clusterer(self, embedder=None):
        """A fresh `StoryClusterer` with these parameters."""
        from storytrace.cluster import StoryClusterer

        return StoryClusterer(embedder=embedder, **dict(self.params))

    def get_params(self) -> dict[str, Any]:
        return {"mode": self.mode, **_story_defaults(), **dict(self.params)}


def _facts_settings() -> dict[str, Any]:
    from storytrace.facts import settings

    return {k: v for k, v in vars(settings).items() if k.isupper()}


def _trace_settings() -> dict[str, Any]:
    from storytrace.trace import wording

    return {k: getattr(wording, k) for k in ("MIN_RARITY_GAP", "MIN_VOTES", "MIN_MAJORITY")}


@dataclass(frozen=True, slots=True)
class Config:
    """Every option of a run. `Config()` is the tuned default; stages are built from it.

    The facts and trace constants (facts/settings.py, trace/wording.py) are read, not set
    here: `get_params()` records them so a result names every value it ran with.
    """

    clean: CleanOptions = field(default_factory=CleanOptions)
    match: MatchOptions = field(default_factory=MatchOptions)
    stories: StoryOptions = field(default_factory=StoryOptions)

    def __post_init__(self) -> None:
        for name, kind in (("clean", CleanOptions), ("match", MatchOptions),
                           ("stories", StoryOptions)):
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(f"Config.{name} must be a {kind.__name__}")

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def get_params(self) -> dict[str, Any]:
        """The exact configuration, as plain JSON-able data (recorded in result stats)."""
        return {
            "clean": self.clean.get_params(),
            "match": self.match.get_params(),
            "stories": self.stories.get_params(),
            "trace": _trace_settings(),
            "facts": _facts_settings(),
        }


__all__ = ["STORY_MODES", "Config", "StoryOptions"]
