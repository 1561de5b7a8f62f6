from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def seeds_result():
    """The whole pipeline run once over the five seed copies (shared by the end-to-end tests)."""
    import storytrace

    return storytrace.analyze([DATA / "seeds"])
