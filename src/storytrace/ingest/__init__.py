"""Ingest stage: turn files, directories and record files into Documents, and bad input into errors.

`read_inputs(paths)` walks what it is given and dispatches on the file name:
`.txt` (plain text), `.html/.htm` (HTML), `.jsonl/.ndjson` and `.parquet` (one document a row),
`.warc` (HTML responses); text, HTML and JSONL optionally compressed (`.gz`, `.bz2`, `.xz`,
`.zst`), WARC optionally `.gz`. Anything unreadable becomes an `InputError`
naming the file (and record) and the reason; reading goes on with the rest. What any one input
may cost is bounded by `Limits` (ingest/limits.py).
"""

from storytrace.ingest.files import (
    FieldMap,
    Inputs,
    document_from_row,
    iter_inputs,
    note_skipped,
    read_inputs,
    safe_document,
    unique_ids,
    unique_stream,
)
from storytrace.ingest.limits import LIMITS, Limits

__all__ = [
    "LIMITS",
    "FieldMap",
    "Inputs",
    "Limits",
    "document_from_row",
    "iter_inputs",
    "note_skipped",
    "read_inputs",
    "safe_document",
    "unique_ids",
    "unique_stream",
]
