"""Report stage: result.json, Parquet tables and the self-contained HTML report."""

from storytrace.report.export import write_json, write_parquet


def write_html(result, path, **limits) -> None:
    """The HTML report (see `storytrace.report.html.write_html` for `limits`)."""
    from storytrace.report.html import write_html as _write_html

    _write_html(result, path, **limits)


def write_outputs(result, directory, **options) -> None:
    """result.json, Parquet and report.html, on an engine's workers when it has several (see
    `storytrace.report.write.write_outputs` for `options`)."""
    from storytrace.report.write import write_outputs as _write_outputs

    _write_outputs(result, directory, **options)


__all__ = ["write_html", "write_json", "write_outputs", "write_parquet"]
