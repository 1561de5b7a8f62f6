"""One document that breaks a stage costs that document, not the run.

The stages are written to take any text (the hostile tests feed them arbitrary Unicode), so
this is the net under them: when a run fails, each document goes alone through the
per-document stages (clean, signals and attribution, candidate keys, facts); those that raise
become error records naming the document and the exception, and the run is made again without
them. A failure no single document explains is raised as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from storytrace.errors import StorytraceError
from storytrace.model import Document, InputError, Result


def failing_documents(docs: Iterable[Document]) -> list[tuple[Document, str]]:
    """The documents that make a per-document stage raise, each with the reason."""
    from storytrace.clean import clean_corpus
    from storytrace.facts import extract_facts
    from storytrace.match.options import MatchOptions
    from storytrace.stages import document_keys, document_results

    failing = []
    options = MatchOptions()
    for doc in docs:
        try:
            (result,) = document_results([doc], clean_corpus([doc]))
            document_keys([result.clean_text], options)
            extract_facts(result.clean_text, result.date)
        except Exception as exc:  # noqa: BLE001 - finding what fails is the point
            failing.append((doc, f"processing failed: {type(exc).__name__}: {exc}"[:300]))
    return failing


def analyze_isolated(docs: list[Document], errors: list[InputError], **kwargs) -> Result:
    """`pipeline.analyze_documents`, with documents that break a stage moved to the errors."""
    from storytrace.pipeline import analyze_documents

    try:
        return analyze_documents(list(docs), list(errors), **kwargs)
    except StorytraceError:
        raise  # a bad option, not a bad document
    except Exception:
        failing = failing_documents(docs)
        if not failing:
            raise
    bad = {id(doc) for doc, _ in failing}
    kept = [doc for doc in docs if id(doc) not in bad]
    rejected = [InputError(doc.source, reason, record=f"document {doc.id}")
                for doc, reason in failing]
    return analyze_documents(kept, [*errors, *rejected], **kwargs)


__all__ = ["analyze_isolated", "failing_documents"]
