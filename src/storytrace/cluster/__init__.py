"""Cluster stage: copy families (components of copy relations) and stories (same event)."""

from storytrace.cluster.families import copy_families
from storytrace.cluster.stories import (
    StoryAssignment,
    StoryClusterer,
    assign_stories,
    cluster_stories,
    story_confidence,
)

__all__ = [
    "StoryAssignment",
    "StoryClusterer",
    "assign_stories",
    "cluster_stories",
    "copy_families",
    "story_confidence",
]
