"""simulate(scenario, out_dir): the canonical tables as Parquet, and the truth beside them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from chorusline.progress import stage
from chorusline.sim import campaign, clock, organic, text
from chorusline.sim.scenario import Scenario

TRUTH_SCHEMAS = {
    "accounts": pa.schema([("platform", pa.string()), ("account_id", pa.string()), ("campaign", pa.string()),
                           ("cell", pa.int64()), ("role", pa.string()), ("operator", pa.string()),
                           ("active_from", pa.timestamp("us", tz="UTC")), ("active_to", pa.timestamp("us", tz="UTC")),
                           ("suspended", pa.bool_()), ("predecessor", pa.string())]),
    "links": pa.schema([("api_platform", pa.string()), ("api_account_id", pa.string()), ("social_platform", pa.string()),
                        ("persona_account_id", pa.string()), ("campaign", pa.string())]),
    "provenance": pa.schema([("post_platform", pa.string()), ("post_id", pa.string()), ("call_platform", pa.string()),
                             ("call_id", pa.string()), ("paraphrased", pa.bool_())]),
}
# The tactics each campaign knob stands for, with DISARM Red Framework v1.6 technique ids.
TACTICS = [
    ("ai_generated_text", "T0085.001", lambda c: True),
    ("llm_platform", "T0154.001", lambda c: True),
    ("fabricated_local_personas", "T0097.101", lambda c: True),
    ("persona_template", "T0144.002", lambda c: c.prompt_templates <= 6),
    ("credibility_building", "T0129.002", lambda c: c.credibility_days > 0),
    ("conceal_network_identity", "T0128.002", lambda c: bool(set(c.network_types) & {"hosting", "vpn"})),
    ("amplification", "T0118", lambda c: c.amplification_probability > 0),
    ("trending_news_response", "T0080.003", lambda c: c.news_response_share > 0),
    ("copypasta", "T0084.001", lambda c: c.copypasta_share > 0),
    ("spamouflage", "T0049.004", lambda c: c.spam_share > 0),
    ("ai_generated_images", "T0086.002", lambda c: c.image_share > 0),
    ("newly_created_assets", "T0150.001", lambda c: c.ban_wave.day is not None and c.ban_wave.return_fraction > 0),
]


@dataclass
class Summary:
    out: Path
    seconds: float
    rows: dict[str, int]


def simulate(s: Scenario, out_dir: str | Path) -> Summary:
    started = time.perf_counter()
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(s.seed)
    tables = organic.Tables()
    with stage("simulate: organic posts"):
        news = _news(rng, s, tables)
        organic.organic_social(rng, s, tables, news)
    with stage("simulate: organic API calls"):
        organic.organic_api(rng, s, tables)
    with stage("simulate: campaigns", total=len(s.campaigns)) as campaigns:
        for c in s.campaigns:
            campaign.generate(rng, s, c, tables, news)
            campaigns.advance()
    rows = {}
    end = pa.scalar(clock.epoch_us(s.start) + s.days * clock.DAY_US, pa.timestamp("us", tz="UTC"))
    kept: dict[str, pa.Array] = {}
    with stage("simulate: write tables", total=4) as written:
        for name in ("accounts", "llm_calls", "posts", "news_events"):
            table = tables.table(name)
            if name in ("llm_calls", "posts"):
                # the collection window ends with the scenario: late reposts and replies fall outside it
                table = table.filter(pc.less(table.column("ts"), end))
                kept[name] = table.column("call_id" if name == "llm_calls" else "post_id")
            table = _sorted(table, name)
            _write(table, out_dir / f"{name}.parquet")
            rows[name] = table.num_rows
            written.advance()
    truth = _truth_accounts(tables)
    _write(truth, out_dir / "truth" / "accounts.parquet")
    for name, source in (("links", "truth_links"), ("provenance", "truth_provenance")):
        table = tables.table(source, TRUTH_SCHEMAS[name])
        if name == "provenance":
            table = table.filter(pc.and_(pc.is_in(table.column("post_id"), kept["posts"]),
                                         pc.is_in(table.column("call_id"), kept["llm_calls"])))
        _write(table.sort_by([(col, "ascending") for col in table.column_names[:4]]), out_dir / "truth" / f"{name}.parquet")
        rows[f"truth/{name}"] = table.num_rows
    rows["truth/accounts"] = truth.num_rows
    campaigns = [{"name": c.name, "settings": asdict(c),
                  "tactics": [{"tactic": t, "disarm": d} for t, d, used in TACTICS if used(c)]} for c in s.campaigns]
    (out_dir / "truth" / "campaigns.json").write_text(json.dumps(campaigns, indent=2, sort_keys=True) + "\n")
    (out_dir / "truth" / "scenario.yaml").write_text(yaml.safe_dump(asdict(s), sort_keys=True, allow_unicode=True))
    return Summary(out_dir, time.perf_counter() - started, rows)


def _news(rng, s: Scenario, tables) -> dict[int, np.ndarray]:
    """News events (mostly political, on US daytime); returns {topic code: event times}."""
    n = s.news_events
    start = clock.epoch_us(s.start)
    ts = clock.organic_times(rng, start, s.days, np.full(n, "America/New_York", dtype=object))
    topics = np.where(rng.random(n) < 0.8, rng.integers(len(text.NEUTRAL_TOPICS), len(text.TOPICS), n),
                      rng.integers(0, len(text.NEUTRAL_TOPICS), n))
    label, _ = text.sentences(rng, topics, np.full(n, text.BALANCED))
    tables.add("news_events", event_id=pa.array([f"news-{i:05d}" for i in range(n)]),
               ts=pa.array(ts, pa.timestamp("us", tz="UTC")), label=label,
               topic=pa.array(np.array(text.TOPICS, dtype=object)[topics].tolist(), pa.string()))
    return {int(t): np.sort(ts[topics == t]) for t in np.unique(topics)}


def _truth_accounts(tables) -> pa.Table:
    accounts = tables.table("truth_accounts", TRUTH_SCHEMAS["accounts"])
    roles = tables.table("truth_roles")
    if roles.num_rows:  # community membership refines an organic account's role (first community wins)
        at = pc.index_in(accounts.column("account_id"), value_set=roles.column("account_id").combine_chunks())
        refined = pc.coalesce(pc.take(roles.column("role"), at), accounts.column("role"))
        accounts = accounts.set_column(accounts.schema.get_field_index("role"), "role", refined)
    return accounts.sort_by([("platform", "ascending"), ("account_id", "ascending")])


def _sorted(table: pa.Table, name: str) -> pa.Table:
    key = {"accounts": ["platform", "account_id"], "llm_calls": ["ts", "call_id"], "posts": ["ts", "post_id"],
           "news_events": ["ts", "event_id"]}[name]
    return table.sort_by([(k, "ascending") for k in key])


def _write(table: pa.Table, path: Path) -> None:
    # Same data, same bytes: no timestamps in the metadata, fixed row groups and compression.
    pq.write_table(table, path, compression="zstd", row_group_size=262_144, write_statistics=True)


__all__ = ["simulate", "Summary"]
