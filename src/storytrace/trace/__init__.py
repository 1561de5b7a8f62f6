"""Trace stage: attribution statements, family origin and copy tree."""

from storytrace.trace.attribution import find_attribution, page_attribution
from storytrace.trace.provenance import trace_family

__all__ = ["find_attribution", "page_attribution", "trace_family"]
