"""Clean stage: main text from HTML (trafilatura) and boilerplate lines out of plain text."""

from storytrace.model import CleanText, Document


def clean_corpus(docs: list[Document]) -> list[CleanText]:
    """Clean every document; corpus-wide statistics (repeated lines) are computed first."""
    raise NotImplementedError


__all__ = ["clean_corpus"]
