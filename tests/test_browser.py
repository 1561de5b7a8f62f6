"""The report and the served pages in a real browser: headless Chromium from Debian's `chromium`
and `chromium-driver` packages (.ci/run installs them; nothing is downloaded by a test tool).

What a person sees: the story whose sources disagree reachable from the first screen of a
realistic pile, a jump to it not hidden under the sticky bar, the copy-kind filter, a
comparison opened, no sideways scrolling at 420 px, and the same in the served pages.
Screenshots are saved under out/browser/ as artefacts.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import DATA, REPO

SHOTS = REPO / "out" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
SEEDS_STORY_TITLE = "Blinken meets Lopez Obrador"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (CHROMIUM.exists() and DRIVER.exists()):
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed "
        "(apt-get install -y chromium chromium-driver; .ci/run does)",
        allow_module_level=True,
    )

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="storytrace-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_window_size(1280, 900)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def pile_report(tmp_path_factory) -> Path:
    """The pile of the issue: the five seeds, 150 Multi-News pages, 20 AEB pages."""
    import storytrace
    from storytrace.report import write_html

    folder = tmp_path_factory.mktemp("pile")
    for seed in sorted((DATA / "seeds").glob("*.txt")):
        shutil.copy(seed, folder)
    with (DATA / "multinews" / "dev.jsonl").open(encoding="utf-8") as rows:
        (folder / "multinews.jsonl").write_text("".join(next(rows) for _ in range(150)),
                                                encoding="utf-8")
    for page in sorted((DATA / "aeb" / "html").iterdir())[:20]:
        shutil.copy(page, folder)
    result = storytrace.analyze([folder])
    path = folder / "report.html"
    write_html(result, path)
    return path


def _shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _shown(driver, selector: str, attribute: str) -> list[str]:
    """`attribute` of each element matching `selector` that is displayed (one script call)."""
    return driver.execute_script(
        "var selector = arguments[0], name = arguments[1];"
        "return [].filter.call(document.querySelectorAll(selector),"
        " function (e) { return e.offsetParent !== null; }).map(function (e) {"
        " return e.getAttribute(name); })", selector, attribute)


def _visible(driver, element) -> bool:
    return driver.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight;", element)


def test_the_story_with_conflicts_is_on_the_first_screen_and_opens_below_the_bar(
    browser, pile_report: Path
) -> None:
    browser.set_window_size(1280, 900)
    browser.get(pile_report.as_uri())
    _shot(browser, "pile-first-screen")
    link = browser.find_element(By.CSS_SELECTOR, "a.lead-conflict")
    assert SEEDS_STORY_TITLE in link.text
    assert _visible(browser, link)
    link.click()
    target = WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "section.story:target h2"))
    time.sleep(0.3)  # let the jump's scroll settle before measuring positions
    assert SEEDS_STORY_TITLE in target.text
    bar_bottom = browser.execute_script(
        "return document.querySelector('nav.bar').getBoundingClientRect().bottom")
    assert target.rect["y"] - browser.execute_script("return window.scrollY") >= bar_bottom
    _shot(browser, "pile-seeds-story")


def test_filtering_to_spun_copies(browser, pile_report: Path) -> None:
    browser.set_window_size(1280, 900)
    browser.get(pile_report.as_uri())
    total = len(browser.find_elements(By.CSS_SELECTOR, "tr.story-row"))
    words = browser.find_element(By.ID, "filter")
    words.send_keys("spun")
    WebDriverWait(browser, 30).until(
        lambda b: "match" in b.find_element(By.ID, "filter-count").text)
    shown = _shown(browser, "tr.story-row", "data-story")
    assert 0 < len(shown) < total / 4  # not every card: the "spun 0.00" bars are not searched
    browser.get(pile_report.as_uri())  # start again with no filter
    for kind in ("translated", "spun"):
        Select(browser.find_element(By.ID, "filter-kind")).select_by_value(kind)
        kinds = _shown(browser, "tr.story-row", "data-kinds")
        assert kinds and all(kind in k.split() for k in kinds)
        assert set(_shown(browser, ".doc", "data-kind")) == {kind}
        assert "match" in browser.find_element(By.ID, "filter-count").text
        _shot(browser, f"pile-filter-{kind}")
    assert set(_shown(browser, ".doc", "id")) >= {"doc-000_f9d6d3d7f493658d",
                                                  "doc-003_67274aa80b6fdab2"}
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("")
    browser.find_element(By.ID, "filter-conflicts").click()
    rows = [r for r in browser.find_elements(By.CSS_SELECTOR, "tr.story-row") if r.is_displayed()]
    assert len(rows) == 1 and SEEDS_STORY_TITLE in rows[0].text


def test_a_comparison_opens_side_by_side(browser, pile_report: Path) -> None:
    browser.set_window_size(1280, 900)
    browser.get(pile_report.as_uri())
    details = browser.find_element(By.CSS_SELECTOR, "details.diff")
    browser.execute_script("arguments[0].scrollIntoView()", details)
    details.find_element(By.TAG_NAME, "summary").click()
    table = details.find_element(By.CSS_SELECTOR, "table.sbs")
    assert table.is_displayed()
    assert details.find_elements(By.TAG_NAME, "ins") and details.find_elements(By.TAG_NAME, "del")
    _shot(browser, "pile-comparison")


def test_nothing_scrolls_sideways_at_420_pixels(browser, pile_report: Path) -> None:
    browser.set_window_size(420, 900)
    try:
        browser.get(pile_report.as_uri() + "#overview")
        width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        _shot(browser, "pile-420px")
    finally:
        browser.set_window_size(1280, 900)


@pytest.fixture(scope="module")
def served():
    """The service over an index of the seeds, on a free loopback port."""
    import uvicorn

    from storytrace.index import Index
    from storytrace.service import create_app
    from storytrace.store import MemoryStore

    index = Index(MemoryStore())
    index.add([DATA / "seeds"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_the_served_pages_lead_to_the_conflicts_and_filter_on_the_server(browser, served) -> None:
    browser.set_window_size(1280, 900)
    browser.get(served + "/")
    link = browser.find_element(By.CSS_SELECTOR, "a.lead-conflict")
    assert _visible(browser, link)
    link.click()  # a click returns before the next page has loaded: wait for it
    WebDriverWait(browser, 30).until(lambda b: "/stories/" in b.current_url)
    WebDriverWait(browser, 30).until(lambda b: b.execute_script(
        "return document.readyState") == "complete")
    assert "Where the sources disagree" in browser.find_element(By.TAG_NAME, "main").text
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "mark.conflict-value")]
    assert "$3.3 billion" in marks and "$3 billion" in marks
    _shot(browser, "served-story")
    browser.get(served + "/")
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("translated")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda b: "kind=translated" in b.current_url)
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: "1 of 1 stories match" in b.find_element(By.ID, "overview").text)
    _shot(browser, "served-filtered")


def test_a_report_of_ten_thousand_documents_opens_and_filters(browser, tmp_path: Path) -> None:
    """5,000 two-copy stories: the 500 largest drawn, every one in the overview (8.6 MB)."""
    from storytrace.model import DocumentResult, Family, FamilyMember, Result, Signals, Story
    from storytrace.report import write_html

    docs, families, stories = [], [], []
    for n in range(5000):
        ids = [f"d{n}-a", f"d{n}-b"]
        docs += [DocumentResult(i, f"in/{i}.txt", f"Event {n}", f"Report {n} of event {n}. " * 40,
                                [], Signals(), f"F{n}", f"S{n}", [],
                                url=f"https://site{n % 50}.example/{i}") for i in ids]
        families.append(Family(f"F{n}", ids[0], [FamilyMember(ids[0], "origin"),
                                                  FamilyMember(ids[1], "verbatim", ids[0])]))
        stories.append(Story(f"S{n}", f"Event {n}", [f"F{n}"], ids))
    path = tmp_path / "report.html"
    write_html(Result(docs, [], families, stories, []), path)
    browser.set_window_size(1280, 900)
    started = time.perf_counter()
    browser.get(path.as_uri())
    loaded = time.perf_counter() - started
    assert browser.execute_script("return document.readyState") == "complete"
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.story")) == 500
    assert loaded < 60, f"{loaded:.0f} s to open"
    browser.find_element(By.ID, "filter").send_keys("event 4321")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.ID, "filter-count").text == "1 story matches")
    shown = browser.execute_script(  # one call, not a round trip per row
        "return [].filter.call(document.querySelectorAll('tr.story-row'),"
        " function (r) { return r.offsetParent !== null; }).map(function (r) {"
        " return r.getAttribute('data-story'); })")
    assert shown == ["S4321"]
    _shot(browser, "big-report-filtered")
