"""`storytrace serve INDEX`: the index over HTTP (JSON API, OpenAPI schema, the report's pages).

Needs the `serve` extra: `pip install 'storytrace[serve]'` (FastAPI and uvicorn).
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any):
    """The FastAPI app (see `storytrace.service.app.create_app`)."""
    try:
        from storytrace.service.app import create_app as _create_app
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "storytrace serve needs FastAPI and uvicorn: pip install 'storytrace[serve]'"
        ) from exc
    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
