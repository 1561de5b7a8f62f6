"""Report stage: result.json, Parquet tables and the self-contained HTML report."""

from storytrace.report.export import write_json, write_parquet


def write_html(result, path, **limits) -> None:
    """The HTML report (see `storytrace.report.html.write_html` for `limits`)."""
    from storytrace.report.html import write_html as _write_html

    _write_html(result, path, **limits)


__all__ = ["write_html", "write_json", "write_parquet"]
