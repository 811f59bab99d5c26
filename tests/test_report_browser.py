"""The HTML report in headless Chromium: renders every chart, no console error, no request out.

Needs Debian's `chromium` (/usr/bin/chromium) and the PyPI `playwright` package driving it
(no browser download). Skipped only on a machine with no Chromium and no `CI` variable: CI
sets CI=true, so there a missing Chromium fails the test instead of hiding it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from traces.reader import read_traces
from traces.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "fixtures" / "compare"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
CHARTS = [
    "timeline",
    "timeline",
    "timeline",
    "tokens-per-run",
    "time-per-run",
    "tokens-per-agent",
    "time-per-agent",
    "eval-speed",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="needs /usr/bin/chromium (apt-get install chromium); CI must have it",
)


class Loaded:
    """The report opened in a page, with what the browser logged and requested."""

    def __init__(self, page: Any, errors: list[str], requests: list[str], blocked: list[str]):
        self.page = page
        self.errors = errors
        self.requests = requests
        self.blocked = blocked


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """The fixtures' report loaded in headless Chromium, off the network."""
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("report")
    report = write_report(read_traces([FIXTURES]), folder / "report.html")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(folder / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        errors: list[str] = []
        requests: list[str] = []
        blocked: list[str] = []

        def refuse(route: Any) -> None:
            blocked.append(route.request.url)
            route.abort()

        context.route("http*://**/*", refuse)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_function(
            "document.querySelectorAll('[data-chart] .main-svg').length >= 8", timeout=30_000
        )
        yield Loaded(page, errors, requests, blocked)
        context.close()


def test_no_console_error_and_no_request_leaves_the_file(loaded: Loaded) -> None:
    """The page loads with no console error and asks for nothing but its own file."""
    assert loaded.errors == []
    assert loaded.blocked == []
    assert loaded.requests and all(u.startswith(LOCAL_SCHEMES) for u in loaded.requests)


def test_every_chart_is_drawn(loaded: Loaded) -> None:
    """Each chart div holds a drawn Plotly figure with at least one trace of data."""
    drawn = loaded.page.eval_on_selector_all(
        "[data-chart]",
        """els => els.map(e => [e.dataset.chart,
            e.querySelectorAll('.main-svg').length > 0,
            e.querySelectorAll('.barlayer .trace, .scatterlayer .trace').length])""",
    )
    assert [name for name, _, _ in drawn] == CHARTS
    assert all(svg and traces > 0 for _, svg, traces in drawn)


def test_every_chart_fits_its_box(loaded: Loaded) -> None:
    """No figure is wider than its box, so no bar is hidden under the next chart."""
    overflow = loaded.page.eval_on_selector_all(
        "[data-chart]",
        """els => els.map(e => [e.dataset.chart,
            e.querySelector('.main-svg').getBoundingClientRect().right
            - e.getBoundingClientRect().right])""",
    )
    assert [name for name, over in overflow if over > 1] == []


def test_the_diff_view_follows_the_chosen_runs(loaded: Loaded) -> None:
    """Picking two runs shows their diff and hides the others."""
    page = loaded.page
    assert page.is_visible("#diff-0-1") and not page.is_visible("#diff-0-2")
    page.select_option("#diff-right", "2")
    assert page.is_visible("#diff-0-2") and not page.is_visible("#diff-0-1")
    page.select_option("#diff-left", "2")
    assert page.is_visible("#diff-same")
    page.select_option("#diff-left", "0")
    page.select_option("#diff-right", "1")


def test_a_full_page_screenshot_is_taken(loaded: Loaded, tmp_path: Path) -> None:
    """The whole report screenshots as a tall PNG (what docs/report.png is made from)."""
    shot = tmp_path / "report.png"
    loaded.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    height = int.from_bytes(data[20:24], "big")
    assert height > 2000
