"""Figures for docs/SCENARIOS.md: activity by hour and weekday, campaign vs organic accounts.

Run: .venv/bin/python scripts/plot_scenarios.py   (writes docs/img/<scenario>-activity.png)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chorusline.sim import load_scenario, simulate  # noqa: E402
from chorusline.sim.scenario import PLACES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"


def plot(name: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        simulate(load_scenario(name), tmp)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        places = [(city, zone) for entries in PLACES.values() for city, zone in entries]
        con.execute("create table places (city varchar, zone varchar)")
        con.executemany("insert into places values (?, ?)", places)
        con.execute(f"""create view acts as
            select p.account_id, p.ts, coalesce(t.campaign, 'organic') grp, a.claimed_location
            from '{tmp}/posts.parquet' p join '{tmp}/truth/accounts.parquet' t using (platform, account_id)
            join '{tmp}/accounts.parquet' a using (platform, account_id)""")
        utc = con.sql("select grp, hour(ts) h, count(*) n from acts group by all").fetchall()
        local = con.sql("""select grp, hour(timezone(pl.zone, ts)) h, count(*) n from acts
                           join places pl on pl.city = acts.claimed_location group by all""").fetchall()
        weekday = con.sql("""select grp, isodow(timezone(coalesce(pl.zone, 'UTC'), ts)) d, count(*) n from acts
                             left join places pl on pl.city = acts.claimed_location group by all""").fetchall()
    groups = sorted({g for g, _, _ in utc}, key=lambda g: (g != "organic", g))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, data, width, title, label in (
            (axes[0], utc, 24, "posts by hour (UTC)", "hour, UTC"),
            (axes[1], local, 24, "posts by hour in the place the account claims", "hour, claimed local time"),
            (axes[2], weekday, 7, "posts by weekday (claimed local time)", "day (1 = Monday)")):
        for g in groups:
            counts = [0] * width
            for grp, k, n in data:
                if grp == g:
                    counts[(k - 1) if width == 7 else k] += n
            total = sum(counts) or 1
            xs = range(1, 8) if width == 7 else range(24)
            ax.plot(list(xs), [c / total for c in counts], marker="o", ms=3, lw=2 if g == "organic" else 1.5,
                    color="black" if g == "organic" else None, label=g)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(label)
        ax.set_ylabel("share of the group's posts")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"scenario {name}: campaign vs organic activity", fontsize=11)
    fig.tight_layout()
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / f"{name}-activity.png"
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


if __name__ == "__main__":
    for scenario in ("seed-case", "multi-campaign"):
        print(plot(scenario))
