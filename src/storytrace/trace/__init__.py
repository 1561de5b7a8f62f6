"""Trace stage: attribution statements, family origin and copy tree, reuse of cited outlets."""

from storytrace.trace.attribution import find_attribution, page_attribution
from storytrace.trace.provenance import trace_family
from storytrace.trace.reuse import cited_reuse

__all__ = ["cited_reuse", "find_attribution", "page_attribution", "trace_family"]
