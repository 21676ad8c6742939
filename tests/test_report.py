"""The HTML report: one self-contained file that renders in headless Chromium (Debian's, driven by
Playwright) without console errors, at a desktop width and at a phone's 390 px; it opens with a
summary and the scores explained, labels every chart's axes, lists every account to act on with a
reason, and shows non-Latin text with a transliteration."""

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chorusline.campaigns.score import ScoreParams
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
def store_copy(smoke_run, tmp_path_factory):
    """A copy of the smoke store, so a decision recorded here leaves the shared one as it was."""
    _, db, _ = smoke_run
    copy = tmp_path_factory.mktemp("report-store") / "s.duckdb"
    shutil.copy(db, copy)
    return str(copy)


@pytest.fixture(scope="module")
def report(store_copy, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", "--db", store_copy, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _store(db):
    from chorusline.store import Store

    return Store.open(db)


def _figures(text: str) -> dict[str, dict]:
    return {name: json.loads(body.replace("<\\/", "</")) for name, body in re.findall(
        r"<div class='chart' id='chart-([^']+)'[^>]*><script type='application/json' class='figure'>(.*?)</script>",
        text, flags=re.S)}


def test_report_is_one_self_contained_file(report):
    text = report.read_text()
    # nothing fetched when viewed: no external scripts, stylesheets or images
    assert not re.search(r"<(script|img)[^>]+src=['\"]https?:", text)
    assert not re.search(r"<link[^>]+href=['\"]https?:", text)
    assert "Plotly.newPlot" in text and "id='plotly-js-gz'" in text
    assert text.count("<section id=") >= 3 + len(SECTIONS)
    # the partial bundle, gzipped: the full plotly.js alone was 4.8 MB
    assert report.stat().st_size < 1_500_000


def test_every_chart_labels_its_axes(report):
    figures = _figures(report.read_text())
    assert figures, "no chart in the report"
    for name, fig in figures.items():
        layout = fig["layout"]
        assert layout.get("title", {}).get("text"), name
        if re.fullmatch(r"network-\d+", name):  # a force layout: positions have no scale, its axes are hidden
            assert layout["xaxis"]["visible"] is False and layout["yaxis"]["visible"] is False
            continue
        for axis in ("xaxis", "yaxis"):
            assert layout.get(axis, {}).get("title", {}).get("text"), f"{name}: {axis} has no label"


def test_summary_says_what_was_found_and_what_to_do(report, store_copy):
    text = report.read_text()
    summary = re.search(r"<section id='summary'.*?</section>", text, flags=re.S).group(0)
    s = _store(store_copy)
    c = s.table("campaigns")
    reported = c.filter(c.above_threshold).to_pyarrow().to_pylist()
    flagged = sum(r["flagged"] for r in reported)
    assert f"<b>{len(reported)} campaign" in summary and f"{flagged:,} accounts flagged" in summary
    for r in reported:
        assert f"Campaign {r['campaign_id']}</b>" in summary
        assert f"score {r['score']:.2f}" in summary
        assert f"chorusline decide confirm --campaign {r['campaign_id']}" in summary
    threshold = ScoreParams().campaign_threshold
    assert f"from the report threshold {threshold:.2f}" in summary
    explained = re.search(r"<section id='scores-explained'.*?</section>", text, flags=re.S).group(0)
    for word in ("coordination", "inauthenticity", "coverage", "mean evidence", "report threshold", "tiers"):
        assert word in explained.lower()
    assert f"<b>{threshold:.2f}</b>" in explained


def test_settings_reach_the_explanation(store_copy, tmp_path):
    from chorusline.campaigns.score import ScoreParams
    from chorusline.export.report import write_report

    out = tmp_path / "r.html"
    write_report(_store(store_copy), out, score_params=ScoreParams(campaign_threshold=0.3, min_coverage=0.4))
    text = out.read_text()
    assert "<b>0.30</b>" in text and "Under 40%" in text


def _rows(text: str, section: str) -> list[list[str]]:
    body = re.search(rf"<section id='{section}'.*?</section>", text, flags=re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in rows]


def test_enforcement_lists_everyone_with_a_reason(report, store_copy, tmp_path):
    s = _store(store_copy)
    m = s.table("campaign_members")
    text = report.read_text()
    for cid in s.table("campaigns").filter(lambda t: t.above_threshold).campaign_id.execute().tolist():
        rows = _rows(text, f"enforcement-{cid}")
        assert len(rows) == m.filter((m.campaign_id == cid) & m.flagged).count().execute()
        assert f"all {len(rows):,} flagged accounts" in text
        for row in rows:  # every account with something named: a tie, an indicator or carried posts
            reason = row[-1]
            assert reason.startswith("ties: ") and re.search(r"[a-z_]+ \(\d+\)|inauthentic: [a-z]|posts", reason), row
    # once confirmed, the list is the enforcement list, every row of it
    cid = s.table("campaigns").filter(lambda t: t.above_threshold).campaign_id.execute().tolist()[0]
    runner = CliRunner()
    assert runner.invoke(app, ["decide", "confirm", "--campaign", str(cid), "--analyst", "ana", "--note", "checked",
                               "--db", store_copy]).exit_code == 0
    out = tmp_path / "confirmed.html"
    assert runner.invoke(app, ["report", "--db", store_copy, "--out", str(out)]).exit_code == 0
    confirmed = out.read_text()
    from chorusline.act.enforcement import enforcement_list

    el = enforcement_list(s)
    n = el.filter(el.campaign_id == cid).count().execute()
    assert len(_rows(confirmed, f"enforcement-{cid}")) == n
    assert f"{n:,} accounts to suspend" in confirmed and "<b>confirmed</b> by ana" in confirmed
    assert "chorusline enforce --db DB" in confirmed


def test_non_latin_text_gets_a_transliteration():
    from chorusline.export.report_text import non_latin_script, readable, transliterate

    assert non_latin_script("a plain English sentence") is None
    assert non_latin_script("请以一位普通市民的口吻写一条帖子") == "Chinese"
    assert non_latin_script("Привет, как дела") == "Cyrillic"
    assert non_latin_script("東京タワーに行きました") == "Japanese"
    # words, not characters: 行 is háng in 银行 (bank) and xíng in 行动 (action); placeholders stay
    assert transliterate("银行") == "yín háng" and transliterate("行动") == "xíng dòng"
    assert transliterate("关于§的帖子，立场：客观") == "guān yú § de tiě zi, lì chǎng: kè guān"
    assert transliterate("Привет, мир") == "Privet, mir"
    html = readable("写一条关于<b>的帖子")
    assert "<span lang='zh'>写一条关于&lt;b&gt;的帖子</span>" in html and "not a translation" in html
    assert readable("plain <text>") == "plain &lt;text&gt;"


def test_report_css_names_fonts_that_cover_cjk():
    from chorusline.export.report_html import CSS

    for font in ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"):
        assert font in CSS


def test_campaign_sections_are_reusable(store_copy):
    from chorusline.export.report import SECTIONS, campaign_sections

    s = _store(store_copy)
    cid = s.table("campaigns").filter(lambda t: t.above_threshold).campaign_id.execute().tolist()[0]
    parts = campaign_sections(s, cid)
    assert list(parts) == ["head"] + [name for name, _, _ in SECTIONS]
    assert f"Campaign {cid}" in parts["head"]
    assert "<script type='application/json' class='figure'>" in parts["clock"]
    assert "<script>" not in "".join(parts.values())  # no inline script: fits a strict CSP
    # nor a style attribute (a CSP without 'unsafe-inline' styles refuses it): a chart's height to
    # keep free goes in data-height, for render.js
    assert " style=" not in "".join(parts.values()) and "data-height='300'" in parts["clock"]
    some = campaign_sections(s, cid, names=("clock", "disarm"))
    assert list(some) == ["head", "clock", "disarm"] and some["disarm"] == parts["disarm"]
    with pytest.raises(KeyError, match="no report section"):
        campaign_sections(s, cid, names=("clocks",))


AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core, vendored with the web app's tests


def _accessibility_problems(page) -> list:
    """axe-core's serious and critical violations on the page as it is drawn."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("async () => (await axe.run()).violations.filter(v => ['serious', 'critical']"
                         ".includes(v.impact)).map(v => [v.id, v.nodes.length, v.nodes[0].target.join(' ')])")


def _open(p, report, width):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.as_uri())
    page.wait_for_function("document.documentElement.dataset.charts === 'drawn'", timeout=60_000)
    return browser, page, errors


@needs_chromium
def test_report_renders_every_section_with_charts(report, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, errors = _open(p, report, 1400)
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
        for name in ("summary", "scores-explained", "overview"):
            page.locator(f"#{name}").screenshot(path=str(tmp_path / f"{name}.png"))
        assert _accessibility_problems(page) == []
        browser.close()
    assert errors == []


@needs_chromium
def test_report_fits_a_phone(report):
    """At 390 px nothing makes the page scroll sideways (tables scroll in their own box) and the two
    clock heat maps stack instead of overlapping."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, errors = _open(p, report, 390)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("document.body.scrollWidth") <= 390
        cid = page.eval_on_selector("article", "a => a.id.split('-')[1]")
        a = page.locator(f"#chart-clock-{cid}").bounding_box()
        b = page.locator(f"#chart-claimed-clock-{cid}").bounding_box()
        overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
        assert a["x"] + a["width"] <= 390 and b["x"] + b["width"] <= 390
        # a wide table scrolls inside its box, the box stays inside the screen
        boxes = page.eval_on_selector_all(".table-box", "els => els.map(e => e.getBoundingClientRect().right)")
        assert boxes and max(boxes) <= 390
        assert _accessibility_problems(page) == []
        browser.close()
    assert errors == []


def test_report_errors_are_clear(smoke_run, tmp_path):
    _, db, _ = smoke_run
    run = CliRunner().invoke
    empty = run(app, ["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html")])
    assert empty.exit_code == 2 and "no store at" in empty.output
    unknown = run(app, ["report", "--db", db, "--campaign", "999", "--out", str(tmp_path / "r.html")])
    assert unknown.exit_code == 2 and "no campaign 999" in unknown.output and "Traceback" not in unknown.output
