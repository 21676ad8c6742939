"""The HTML report renders in headless Chromium (Debian's, driven by Playwright) without console
errors; every section is screenshotted and its charts are present and drawn."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chorusline.cli import app

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian chromium is not installed (make system installs it)")
SECTIONS = ("timeline", "clock", "network", "infrastructure", "links", "meaning", "machine-text", "templates", "texts",
            "lifecycle", "disarm", "breakout", "enforcement")
CHARTS = {"timeline": 1, "clock": 2, "network": 1, "infrastructure": 1, "lifecycle": 2}


@pytest.fixture(scope="module")
def report(smoke_run, tmp_path_factory):
    _, db, _ = smoke_run
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_is_one_self_contained_file(report):
    text = report.read_text()
    # nothing fetched when viewed: no external scripts, stylesheets or images
    assert not re.search(r"<(script|img)[^>]+src=['\"]https?:", text)
    assert not re.search(r"<link[^>]+href=['\"]https?:", text)
    assert "Plotly.newPlot" in text
    assert text.count("<section id=") >= 1 + len(SECTIONS)


@needs_chromium
def test_report_renders_every_section_with_charts(report, tmp_path):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        cid = page.eval_on_selector("article", "a => a.id.split('-')[1]")
        for name in SECTIONS:
            section = page.locator(f"#{name}-{cid}")
            assert section.count() == 1, name
            section.screenshot(path=str(tmp_path / f"{name}.png"))
            assert (tmp_path / f"{name}.png").stat().st_size > 2_000, name
            charts = section.locator(".js-plotly-plot")
            assert charts.count() == CHARTS.get(name, 0), name
            for i in range(charts.count()):  # drawn (a laid-out plot with an SVG) and holding data points
                drawn = charts.nth(i).evaluate(
                    "el => !!el._fullLayout && el.querySelectorAll('.main-svg').length > 0 && "
                    "el.data.some(t => ['x', 'y', 'z'].some(k => t[k] && t[k].length > 0))")
                assert drawn, f"{name} chart {i} is empty"
        page.locator("#overview").screenshot(path=str(tmp_path / "overview.png"))
        browser.close()
    assert errors == []


def test_report_errors_are_clear(smoke_run, tmp_path):
    _, db, _ = smoke_run
    run = CliRunner().invoke
    empty = run(app, ["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html")])
    assert empty.exit_code == 2 and "no store at" in empty.output
    unknown = run(app, ["report", "--db", db, "--campaign", "999", "--out", str(tmp_path / "r.html")])
    assert unknown.exit_code == 2 and "no campaign 999" in unknown.output and "Traceback" not in unknown.output
