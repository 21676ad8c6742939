"""Screenshots of the seed-case report's sections for docs/report/ (so a reader sees them without
running anything). Run after `make demo`: `.venv/bin/python scripts/report_screenshots.py
[demo-output/report.html]`. Uses Debian's chromium through Playwright."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTIONS = ("timeline", "clock", "network", "infrastructure", "templates", "lifecycle", "disarm")


def main() -> None:
    report = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo-output" / "report.html"
    out = ROOT / "docs" / "report"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(report.resolve().as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        cid = page.eval_on_selector("article", "a => a.id.split('-')[1]")
        page.locator("#overview").screenshot(path=str(out / "overview.png"))
        for name in SECTIONS:
            page.locator(f"#{name}-{cid}").screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
