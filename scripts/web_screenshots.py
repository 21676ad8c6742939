"""Screenshots of the web app's main pages for docs/WEB.md (docs/img/web-*.png).

    .venv/bin/python scripts/web_screenshots.py [--db DETECTED.duckdb] [--out docs/img]

Works on a copy of the store (default: the smoke scenario, simulated, loaded, enriched and detected
here, about a minute), with a throwaway users file; confirms the best campaign so the enforcement
list and the watchlist have something to show; drives Debian's chromium with Playwright."""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def smoke_store(folder: Path) -> Path:
    cli = str(Path(sys.executable).with_name("chorusline"))
    db = folder / "smoke.duckdb"
    subprocess.run([cli, "simulate", "--scenario", "smoke", "--out", str(folder / "sim")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([cli, "ingest", "--db", str(db), *map(str, sorted((folder / "sim").glob("*.parquet")))],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cli, "enrich", "--db", str(db)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([cli, "detect", "--db", str(db)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return db


def ready(page) -> None:
    """A campaign page drawn: its network, and the report's charts where it has any."""
    page.locator("#network-status[data-edges]").wait_for()
    if page.locator("#report .chart").count():
        page.locator("html[data-charts]").wait_for(state="attached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a detected DuckDB store (default: build the smoke scenario's)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    options = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from chorusline import api
    from chorusline.web.app import create_app
    from chorusline.web.users import UserStore, users_file
    from web_support import running

    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chorusline-shots-") as tmp:
        folder = Path(tmp)
        db = folder / "web.duckdb"
        shutil.copy(options.db or smoke_store(folder), db)
        password = secrets.token_urlsafe(12)
        UserStore(users_file(db)).add_user("analyst", "analyst", password, by="screenshots")
        app = create_app(str(db))
        with app.state.web.using_store() as store:
            best = next(c for c in api.list_campaigns(store) if c["above_threshold"])
            cid = best["campaign_id"]
            row = api.decide(store, "confirm", "analyst", "one operator: shared prompt template, API → persona "
                             "provenance, operator clock UTC+8", campaign_id=cid)
            member = next(m for m in row["members"] if not m.startswith("llm-api:"))
            from chorusline.act.watchlist import save_watchlist

            save_watchlist(store)
        with running(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login")
            page.screenshot(path=str(options.out / "web-login.png"))
            page.fill("#username", "analyst")
            page.fill("#password", password)
            page.click("form.login button[type=submit]")
            page.wait_for_url(re.compile(r".*/campaigns$"))
            shots = {"web-campaigns.png": "/campaigns", "web-campaign.png": "/campaigns/0",
                     f"web-campaign-{cid}.png": f"/campaigns/{cid}", "web-account.png": f"/accounts/{member}",
                     "web-enforcement.png": "/enforcement", "web-watchlist.png": "/watchlist?top=15",
                     "web-decisions.png": "/decisions"}
            for name, path in shots.items():
                page.goto(f"{base}{path}")
                if path.startswith("/campaigns/"):
                    ready(page)
                page.screenshot(path=str(options.out / name), full_page=name != "web-campaign.png")
                print(f"{path} -> {options.out / name}")
            # the report's charts on the campaign page: its time line and operator clocks
            page.goto(f"{base}/campaigns/0")
            ready(page)
            top = page.locator("#report-timeline").bounding_box()
            bottom = page.locator("#report-clock").bounding_box()
            page.screenshot(path=str(options.out / "web-campaign-charts.png"), full_page=True,
                            clip={"x": 0, "y": top["y"] - 8, "width": 1280,
                                  "height": bottom["y"] + bottom["height"] - top["y"] + 16})
            print(f"/campaigns/0#report-timeline -> {options.out / 'web-campaign-charts.png'}")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/campaigns/{cid}")
            ready(phone)
            phone.screenshot(path=str(options.out / "web-campaign-390px.png"))
            print(f"/campaigns/{cid} at 390 px -> {options.out / 'web-campaign-390px.png'}")
            browser.close()


if __name__ == "__main__":
    main()
