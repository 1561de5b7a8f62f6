"""Cluster stage: copy families (components of copy relations) and stories (same event)."""

from storytrace.cluster.families import copy_families
from storytrace.cluster.stories import StoryClusterer, cluster_stories

__all__ = ["StoryClusterer", "cluster_stories", "copy_families"]
