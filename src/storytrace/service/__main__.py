"""`python -m storytrace.service INDEX` (the same as `storytrace serve INDEX`)."""

import typer

from storytrace.service.cli import serve

typer.run(serve)
