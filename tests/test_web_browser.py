"""The web app in a real browser: Playwright driving Debian's chromium (never `playwright install`)
against uvicorn on loopback. An analyst signs in, opens a campaign, filters its network, clicks
through to an account, confirms with a reason, downloads the STIX bundle and signs out; a viewer
cannot confirm; axe-core finds no serious or critical accessibility violation on the main pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from web_support import PASSWORDS, running, store_copy

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # scripts/vendor_web_js.sh
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (`make system` installs "
                                "Debian's chromium; Playwright's own browser download is never used)")


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    from chorusline.web.app import create_app

    db, tokens = store_copy(request, tmp_path_factory.mktemp("web-browser"))
    with running(create_app(db)) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def sign_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r".*/campaigns$"))


# the app's CSP forbids eval, so waits use locators and expect(), not wait_for_function
def shown_edges(page) -> int:
    page.locator("#network-status[data-edges]").wait_for()
    return int(page.get_attribute("#network-status", "data-edges"))


def wait_for_new_network(page, before: str) -> int:
    from playwright.sync_api import expect

    status = page.locator("#network-status")
    expect(status).not_to_have_text(before)
    expect(status).not_to_have_text(re.compile("^Loading"))
    return shown_edges(page)


def settled_position(page, node_id: str) -> dict:
    """The node's position on screen once the graph has stopped moving (a layout or the search's
    zoom may still be animating; a click at a moving target misses it under load)."""
    last = None
    for _ in range(40):
        at = page.evaluate("id => window.chorusNetwork.getElementById(id).renderedPosition()", node_id)
        if at == last:
            return at
        last = at
        page.wait_for_timeout(250)
    return last


def test_analyst_works_a_campaign_end_to_end(served, browser, tmp_path):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served, "ana")
    page.click("text=campaign 0")
    page.wait_for_url(re.compile(r".*/campaigns/0$"))
    everything = shown_edges(page)
    assert everything > 10

    # filter: a minimum weight, then one role, then search
    status = page.text_content("#network-status")
    page.fill("#min-weight", "1.5")
    heavier = wait_for_new_network(page, status)
    assert 0 < heavier < everything
    status = page.text_content("#network-status")
    page.select_option("#role", "api")
    api_only = wait_for_new_network(page, status)
    assert api_only <= heavier
    platforms = page.evaluate("window.chorusNetwork.nodes().map(n => n.data('platform'))")
    assert platforms and set(platforms) == {"llm-api"}
    first = platforms and page.evaluate("window.chorusNetwork.nodes()[0].id()")
    page.fill("#search", first.split(":")[1][:10])
    page.click("#search-button")
    assert "1 match" in page.text_content("#network-status")

    # click the node in the canvas: its account page opens
    page.locator("#network").scroll_into_view_if_needed()
    box = page.locator("#network").bounding_box()
    at = settled_position(page, first)
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    page.wait_for_url(re.compile(r".*/accounts/llm-api:.*"))
    assert page.locator("#ties").count() == 1 and page.locator("svg.timeline").count() == 1

    # confirm campaign 0 with a reason
    page.goto(f"{served}/campaigns/0")
    page.check("input[name=decision][value=confirm]")
    page.select_option("#tlp", "green")
    page.fill("#reason", "one operator behind three accounts: shared template and provenance")
    page.click("#decide-submit")
    page.wait_for_url(re.compile(r".*/campaigns/0\?decided=confirm.*"))
    assert page.text_content("h1 .status") == "confirm"
    assert "shared template and provenance" in page.text_content("#campaign-decisions")

    # the STIX bundle downloads
    with page.expect_download() as download:
        page.click("#export-stix")
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["type"] == "bundle" and any(o["type"] == "campaign" for o in bundle["objects"])

    assert not errors, errors  # no script error, no CSP violation, no failed request

    # sign out: the pages ask for a sign-in again (the browser logs that 401)
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(f"{served}/campaigns")
    assert page.locator("form.login").count() == 1
    context.close()


def test_campaign_page_draws_the_reports_charts(served, browser):
    """The report's figures on the campaign page: plotly.js and render.js as files under the app's
    CSP (which the browser reports on the console when violated), every chart drawn as SVG."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served, "vic")
    page.goto(f"{served}/campaigns/0")
    page.locator("html[data-charts]").wait_for(state="attached")
    assert page.get_attribute("html", "data-charts") == "drawn"
    charts = page.locator("#report .chart")
    assert charts.count() >= 5  # time line, two clocks, network classes, pivot days and shares
    for i in range(charts.count()):
        assert charts.nth(i).locator("svg.main-svg").count() >= 1, charts.nth(i).get_attribute("id")
    clock = page.locator("#chart-clock-0")
    assert clock.locator("image").count() == 1  # the heat map, its cells drawn as one scaled image
    assert clock.bounding_box()["height"] >= 300  # its data-height
    assert page.locator("#chart-timeline-0 .xtitle").text_content() == "day (UTC)"
    assert not errors, errors  # no script error, no CSP violation, no failed request
    context.close()


def test_a_viewer_cannot_confirm(served, browser):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, served, "vic")
    page.goto(f"{served}/campaigns/0")
    assert page.locator("#decide-form").count() == 0
    csrf = page.get_attribute("form.logout input[name=csrf_token]", "value")
    forged = page.request.post(f"{served}/campaigns/0/decide",
                               form={"decision": "confirm", "reason": "I should not", "csrf_token": csrf},
                               max_redirects=0)
    assert forged.status == 403
    context.close()


@pytest.mark.skipif(not AXE.exists(), reason="tests/vendor/axe.min.js is missing: run scripts/vendor_web_js.sh")
def test_main_pages_have_no_serious_accessibility_violations(served, browser):
    # the app's CSP forbids inline script, axe is injected as one: this context alone bypasses the CSP
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found = {}
    page.goto(f"{served}/login")
    pages = ["/login"]
    sign_in(page, served, "adam")
    pages += ["/campaigns", "/campaigns/0", "/accounts/x:1876603769898202600", "/decisions", "/enforcement",
              "/watchlist", "/users"]
    axe = AXE.read_text()
    for path in pages:
        if path == "/login":
            login_page = context.new_page()  # signed out: a fresh page without the cookie's effect
            login_page.context.clear_cookies()
            target = login_page
        else:
            target = page
        target.goto(f"{served}{path}")
        if path.startswith("/campaigns/"):
            target.locator("#network-status[data-edges]").wait_for()
            target.locator("html[data-charts=drawn]").wait_for(state="attached")  # the report's charts too
        target.add_script_tag(content=axe)
        result = target.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
        if serious:
            found[path] = serious
        if path == "/login":
            sign_in(page, served, "adam")
    assert not found, found
    context.close()
