import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The shared evaluation data (seeds, METER, ECB+, Multi-News, AEB): ../shared/data beside this
# checkout, as CI has it, or wherever $STORYTRACE_DATA points.
DATA = Path(os.environ.get("STORYTRACE_DATA") or REPO.parent / "shared" / "data")


def pytest_sessionstart(session) -> None:
    """Without the shared data most tests cannot run: say so once, not in 150 tracebacks."""
    if not (DATA / "seeds").is_dir():
        pytest.exit(f"the shared evaluation data is not at {DATA}: clone storytrace beside "
                    "../shared (as CI does) or set STORYTRACE_DATA to its data folder",
                    returncode=4)


@pytest.fixture(scope="session")
def seeds_result():
    """The whole pipeline run once over the five seed copies (shared by the end-to-end tests)."""
    import storytrace

    return storytrace.analyze([DATA / "seeds"])
