"""`storytrace serve INDEX`: thin, like cli.py: parse arguments, build the app, run uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    index: Annotated[Path, typer.Argument(help="The index file (storytrace index add), or a "
                                                "result.json to serve read-only.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse adds.")] = False,
) -> None:
    """Serve an index over HTTP: JSON API (/api/...), OpenAPI schema (/openapi.json) and the
    report's pages (/).

    Example: storytrace serve news.duckdb --port 8000 --read-only
    """
    try:
        import uvicorn

        from storytrace.service import create_app
    except ImportError as exc:
        typer.echo(f"error: {exc}; pip install 'storytrace[serve]'", err=True)
        raise typer.Exit(2) from exc
    if not index.exists():
        typer.echo(f"error: {index}: no such file", err=True)
        raise typer.Exit(2)
    if index.suffix == ".json":
        from storytrace.report.export import read_json

        app = create_app(result=read_json(index))
    else:
        import gc

        from storytrace.index import Index

        opened = Index.open(index, read_only=read_only, keys_in_memory=True)
        opened.warm()  # the first request is answered as fast as the next
        # What is loaded now lives as long as the process: frozen, it is left out of the full
        # collections that otherwise walk it every few hundred requests.
        gc.freeze()
        app = create_app(opened, read_only=read_only)
    uvicorn.run(app, host=host, port=port, log_level="warning")
