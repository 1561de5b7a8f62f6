"""Facts stage: numbers, dates, quotes and speakers; merged per story with conflicts.

`extract_facts(text)` finds what one document states; `story_facts(documents)` merges those
across a story's documents and reports where sources give different values of one kind about
the same thing.
"""

from storytrace.facts.extract import FactMention, extract_facts
from storytrace.facts.merge import story_facts

__all__ = ["FactMention", "extract_facts", "story_facts"]
