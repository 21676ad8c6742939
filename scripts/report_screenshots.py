"""Screenshots of the seed-case report for docs/report/ (so a reader sees it without running
anything), at a desktop width and at a phone's 390 px. Run after `make demo`:
`.venv/bin/python scripts/report_screenshots.py [demo-output/report.html] [OUT_DIR]`.
Uses Debian's chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = ("summary", "scores-explained", "overview")
SECTIONS = ("timeline", "clock", "network", "infrastructure", "templates", "texts", "lifecycle", "disarm",
            "enforcement")
PHONE = ("summary", "clock", "templates", "enforcement")  # the ones a narrow screen used to break


def main() -> None:
    report = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo-output" / "report.html"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "report"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for width, suffix, names, sections in ((1400, "", DESKTOP, SECTIONS), (390, "-390", PHONE, ())):
            page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page.goto(report.resolve().as_uri())
            page.wait_for_function("document.documentElement.dataset.charts === 'drawn'", timeout=60_000)
            cid = page.eval_on_selector("article", "a => a.id.split('-')[1]")
            for name in names + sections:
                target = page.locator(f"#{name}" if name in DESKTOP else f"#{name}-{cid}")
                path = out / f"{name}{suffix}.png"
                target.screenshot(path=str(path))
                print(path)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
