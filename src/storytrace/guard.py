"""One document that breaks a stage costs that document, not the run.

The stages are written to take any text (the hostile tests feed them arbitrary Unicode), so
this is the net under them. When a run fails, each document first goes alone through the
per-document stages (clean, signals and attribution, candidate keys, facts); those that raise
are the culprits. When none does, the failure is in a later stage (match, families, stories,
trace, story facts): the documents are halved, and each half that still fails halved again,
down to the single documents that make the whole pipeline fail on their own. The culprits
become error records naming the document and the exception, and the run is made again
without them. A failure no single document explains (two documents that only fail together)
is raised as it was.

A run that hands its documents over (`hand_over=True`: the index empties each raw text once
it is cleaned, which keeps a pile's raw texts out of memory through the later stages) keeps
the raw texts in a temporary file meanwhile (`RawTexts`), to put them back for that search.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Self

from storytrace.errors import StorytraceError
from storytrace.model import Document, InputError, Result


def _reason(exc: BaseException) -> str:
    return " ".join(f"processing failed: {type(exc).__name__}: {exc}".split())[:300]


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
            failing.append((doc, _reason(exc)))
    return failing


def breaking_documents(docs: list[Document], run: Callable[[list[Document]], object],
                       failure: BaseException) -> list[tuple[Document, str]]:
    """The documents that make `run` raise on their own, found by halving: `run(docs)`
    raised `failure`; a half that runs clean holds no culprit, a half that raises is halved
    again. About 2 log2(n) runs of shrinking parts per culprit."""
    found: list[tuple[Document, str]] = []

    def search(group: list[Document], exc: BaseException) -> None:
        if len(group) == 1:
            found.append((group[0], _reason(exc)))
            return
        half = len(group) // 2
        for part in (group[:half], group[half:]):
            try:
                run(part)
            except StorytraceError:
                raise  # a bad option, not a bad document
            except Exception as part_exc:  # noqa: BLE001 - finding what fails is the point
                search(part, part_exc)

    search(list(docs), failure)
    return found


class RawTexts:
    """The raw texts of `docs` in a temporary file, so that a run may empty them (see
    `Index.add`'s `hand_over`) and `restore` them if it fails. In memory: 16 bytes a document.
    """

    def __init__(self, docs: list[Document]) -> None:
        self._docs = list(docs)
        self._ends = array("q")
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() / the with
        end = 0
        for doc in self._docs:
            end += self._file.write((doc.raw or "").encode("utf-8", "surrogatepass"))
            self._ends.append(end)

    def restore(self) -> None:
        """Give every document its raw text back, as it was when this was made."""
        self._file.seek(0)
        start = 0
        for doc, end in zip(self._docs, self._ends, strict=True):
            doc.raw = self._file.read(end - start).decode("utf-8", "surrogatepass")
            start = end

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def analyze_isolated(docs: list[Document], errors: list[InputError], *, hand_over: bool = False,
                     **kwargs) -> Result:
    """`pipeline.analyze_documents`, with documents that break a stage moved to the errors.

    `hand_over`: the documents are the run's to change (the caller will not read them
    again): their raw texts are emptied once cleaned, and kept on disk for a re-run.
    """
    from storytrace.pipeline import analyze_documents

    docs = list(docs)
    with RawTexts(docs) if hand_over else nullcontext() as saved:
        try:
            return analyze_documents(docs, list(errors), hand_over=hand_over, **kwargs)
        except StorytraceError:
            raise  # a bad option, not a bad document
        except Exception as exc:
            if saved is not None:
                saved.restore()  # the search runs the stages on the documents again
            failing = failing_documents(docs)
            if not failing:
                quiet = {k: v for k, v in kwargs.items() if k != "progress"}
                failing = breaking_documents(
                    docs, lambda part: analyze_documents(part, [], **quiet), exc)
            if not failing:
                raise
    bad = {id(doc) for doc, _ in failing}
    kept = [doc for doc in docs if id(doc) not in bad]
    rejected = [InputError(doc.source, reason, record=f"document {doc.id}")
                for doc, reason in failing]
    return analyze_documents(kept, [*errors, *rejected], hand_over=hand_over, **kwargs)


__all__ = ["RawTexts", "analyze_isolated", "breaking_documents", "failing_documents"]
