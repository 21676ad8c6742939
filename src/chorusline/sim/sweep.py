"""Random scenarios for the generalisation sweep (scripts/evaluate_sweep.py, docs/EVALUATION.md):
``draw_scenario(seed)`` draws every campaign knob and every organic trap from the wide ranges in
``RANGES``, the same scenario for the same seed. The organic world is sized so that one draw runs
end to end (simulate → ingest → enrich → detect → evaluate) in about a minute on 2 shared cores
(16–137 s, mean 57 s, on commit 3ffa072: docs/EVALUATION.md); the detector's cost grows with the
number of accounts and the size of co-share communities.

A few knobs are bounded by others, within their range: an operation has no more API accounts than
personas, no more cells than either, a ban wave falls before the end; egress is re-drawn until the
network types and countries have real address ranges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chorusline.sim import network, text
from chorusline.sim.population import MODELS, USER_AGENTS
from chorusline.sim.scenario import PLACES, BanWave, Campaign, Evasion, Organic, Scenario, validate

ZONES = ("America/New_York", "America/Los_Angeles", "America/Chicago", "America/Toronto", "America/Sao_Paulo",
         "Europe/London", "Europe/Berlin", "Europe/Paris", "Asia/Shanghai", "Asia/Kolkata", "Asia/Singapore")
# operator clocks: some far from the organic world's zones, some inside them (the hard case)
OPERATOR_ZONES = ("Asia/Shanghai", "Europe/Moscow", "America/Caracas", "Asia/Tehran", "Asia/Manila", "Africa/Lagos",
                  "Asia/Bangkok", "Asia/Kolkata", "Europe/Berlin", "America/New_York")
WEEKS = ((0, 1, 2, 3, 4), (0, 1, 2, 3, 4, 5), (6, 0, 1, 2, 3), (0, 1, 2, 3, 4, 5, 6))
NETWORK_TYPES = ("hosting", "vpn", "residential", "mobile", "business")
CLIENTS = tuple(dict.fromkeys(USER_AGENTS + ["python-requests/2.31.0", "OpenAI/NodeJS 4.20.1"]))


@dataclass(frozen=True)
class Between:
    """A number drawn uniformly in [lo, hi] (on a log scale when ``log``); whole when ``whole``."""
    lo: float
    hi: float
    whole: bool = False
    log: bool = False

    def draw(self, rng: np.random.Generator):
        if self.log:
            value = float(np.exp(rng.uniform(np.log(self.lo), np.log(self.hi))))
        else:
            value = float(rng.uniform(self.lo, self.hi))
        return min(int(round(value)), int(self.hi)) if self.whole else round(value, 3)

    def holds(self, value) -> bool:
        return self.lo <= value <= self.hi and (not self.whole or float(value).is_integer())

    def text(self) -> str:
        lo, hi = (f"{int(self.lo):,}", f"{int(self.hi):,}") if self.whole else (f"{self.lo:g}", f"{self.hi:g}")
        return f"{lo}–{hi}" + (" (log-uniform)" if self.log else "")


@dataclass(frozen=True)
class OneOf:
    """One of ``options``, uniformly."""
    options: tuple

    def draw(self, rng: np.random.Generator):
        return self.options[int(rng.integers(0, len(self.options)))]

    def holds(self, value) -> bool:
        return value in self.options

    def text(self) -> str:
        return "one of " + ", ".join(_show(o) for o in self.options)


@dataclass(frozen=True)
class SomeOf:
    """lo to hi distinct ``options``; with ``weighted``, a mapping to weights drawn from a flat Dirichlet."""
    options: tuple
    lo: int
    hi: int
    weighted: bool = False

    def draw(self, rng: np.random.Generator):
        k = int(rng.integers(self.lo, self.hi + 1))
        picked = [self.options[i] for i in sorted(rng.choice(len(self.options), k, replace=False))]
        if not self.weighted:
            return picked
        weights = rng.dirichlet(np.ones(k))
        return {name: round(float(w), 3) + 0.001 for name, w in zip(picked, weights)}  # no zero weight

    def holds(self, value) -> bool:
        return (self.lo <= len(value) <= self.hi and set(value) <= set(self.options)
                and (not self.weighted or all(w > 0 for w in value.values())))

    def text(self) -> str:
        return (f"{self.lo}–{self.hi} of " + ", ".join(_show(o) for o in self.options)
                + (" (weights: flat Dirichlet)" if self.weighted else ""))


@dataclass(frozen=True)
class OrNone:
    """None with probability ``none_share``, else drawn from ``inner``."""
    inner: Between | OneOf | SomeOf
    none_share: float

    def draw(self, rng: np.random.Generator):
        return None if rng.random() < self.none_share else self.inner.draw(rng)

    def holds(self, value) -> bool:
        return value is None or self.inner.holds(value)

    def text(self) -> str:
        return f"none ({self.none_share:.0%}), else {self.inner.text()}"


def _show(option) -> str:
    return "[" + ",".join(map(str, option)) + "]" if isinstance(option, tuple) else str(option)


# Every drawn knob and its range. Paths name the scenario setting (docs/SCENARIOS.md); knobs not
# listed keep their defaults (start, output_language, corporate_lab zones and the like).
RANGES: dict[str, Between | OneOf | SomeOf | OrNone] = {
    "days": Between(20, 40, whole=True),
    "news_events": Between(10, 40, whole=True),
    "organic.social_accounts": Between(1000, 3000, whole=True),
    "organic.posts_per_account": Between(6, 20),
    "organic.api_customers": Between(100, 500, whole=True),
    "organic.calls_per_customer": Between(20, 60),
    "organic.timezones": SomeOf(ZONES, 3, 8, weighted=True),
    "organic.languages": SomeOf(text.LANGUAGES, 1, 6, weighted=True),
    "organic.hosting_share": Between(0, 0.35),
    "organic.vpn_share": Between(0, 0.2),
    "organic.corporate_labs": Between(0, 12, whole=True),
    "organic.corporate_lab_size": Between(3, 15, whole=True),
    "organic.self_posting_share": Between(0, 0.15),
    "organic.persona_prompt_share": Between(0, 0.2),
    "organic.batch_persona_share": Between(0, 0.5),
    "organic.political_share": Between(0.1, 0.5),
    "organic.repost_share": Between(0.1, 0.4),
    "organic.reply_share": Between(0.05, 0.25),
    "organic.viral_events": Between(0, 30, whole=True),
    "organic.viral_size": Between(30, 300, whole=True),
    "organic.communities": Between(0, 12, whole=True),
    "organic.community_size": Between(10, 300, whole=True, log=True),
    "organic.community_size_max": Between(10, 300, whole=True),
    "organic.community_links": Between(10, 80, whole=True),
    "organic.syndication_networks": Between(0, 6, whole=True),
    "organic.syndication_size": Between(5, 40, whole=True),
    "organic.syndication_items": Between(20, 150, whole=True),
    "organic.syndication_lag_minutes": Between(0.5, 10),
    "campaigns": Between(1, 3, whole=True),
    "campaigns[].operators": Between(1, 6, whole=True),
    "campaigns[].operator_tz": OneOf(OPERATOR_ZONES),
    "campaigns[].work_hours": OneOf(tuple((a, a + n) for a in range(6, 12) for n in range(6, 11))),
    "campaigns[].lunch_break": OneOf(("none", "the 4th hour")),
    "campaigns[].work_days": OneOf(WEEKS),
    "campaigns[].personas": Between(8, 400, whole=True, log=True),
    "campaigns[].api_accounts": Between(1, 60, whole=True, log=True),
    "campaigns[].cells": OrNone(Between(2, 5, whole=True), 0.5),
    "campaigns[].cell_zones": OrNone(SomeOf(OPERATOR_ZONES, 2, 5), 0.5),
    "campaigns[].persona_locations": SomeOf(tuple(PLACES), 1, 4, weighted=True),
    "campaigns[].egress_countries": SomeOf(tuple(sorted(network.POOL_COUNTRIES)), 1, 3),
    "campaigns[].network_types": SomeOf(NETWORK_TYPES, 1, 3),
    "campaigns[].ip_pool_size": Between(1, 60, whole=True, log=True),
    "campaigns[].payment_cards": Between(1, 8, whole=True),
    "campaigns[].prompt_language": OneOf(text.LANGUAGES),
    "campaigns[].prompt_templates": Between(1, 6, whole=True),
    "campaigns[].posts_per_persona": Between(8, 40),
    "campaigns[].credibility_days": Between(0, 21, whole=True),
    "campaigns[].pivot_topics": SomeOf(text.POLITICAL_TOPICS, 1, 3),
    "campaigns[].stance": OneOf(("pro", "anti")),
    "campaigns[].balanced_share": Between(0, 0.4),
    "campaigns[].news_response_hours": Between(0.5, 12),
    "campaigns[].news_response_share": Between(0, 0.6),
    "campaigns[].amplification_probability": Between(0, 0.8),
    "campaigns[].amplification_lag_minutes": Between(2, 60, log=True),
    "campaigns[].paraphrase_rate": Between(0, 1),
    "campaigns[].copypasta_share": Between(0, 0.3),
    "campaigns[].spam_share": Between(0, 0.4),
    "campaigns[].image_share": Between(0, 0.1),
    "campaigns[].model": OneOf(tuple(MODELS)),
    "campaigns[].user_agent": OneOf(CLIENTS),
    "campaigns[].creation_burst_days": Between(0.5, 20),
    "campaigns[].ban_wave.day": OrNone(Between(6, 38, whole=True), 0.5),
    "campaigns[].ban_wave.suspended_fraction": Between(0.2, 0.8),
    "campaigns[].ban_wave.return_fraction": Between(0, 0.8),
    "campaigns[].ban_wave.return_delay_days": Between(1, 7, whole=True),
    "campaigns[].evasion.timing_jitter_hours": Between(0, 3),
    "campaigns[].evasion.ip_rotation": Between(0, 0.8),
}
# How a knob bounded by another is kept inside both (documented with the ranges)
BOUNDS = {
    "campaigns[].api_accounts": "at most the personas",
    "campaigns[].cells": "1 when none; at most the API accounts and the personas",
    "campaigns[].cell_zones": "only with cells; none: every cell on operator_tz",
    "campaigns[].ban_wave.day": "from days/3, before the last two days",
    "campaigns[].egress_countries": "re-drawn with network_types until they have address ranges",
    "organic.community_size_max": "swapped with community_size when smaller (sizes spread between the two)",
}


def draw_scenario(rng_seed: int) -> Scenario:
    """One random scenario, the same for the same seed (also the simulator's seed); validated."""
    rng = np.random.default_rng(rng_seed)

    def pick(path: str):
        return RANGES[path].draw(rng)

    days = pick("days")
    organic = Organic(**{key.split(".", 1)[1]: pick(key) for key in RANGES if key.startswith("organic.")})
    organic.community_size, organic.community_size_max = sorted((organic.community_size, organic.community_size_max))
    campaigns = [_campaign(rng, pick, f"op-{k + 1}", days) for k in range(pick("campaigns"))]
    s = Scenario(name=f"sweep-{rng_seed}", seed=rng_seed, days=days, news_events=pick("news_events"),
                 organic=organic, campaigns=campaigns)
    s.description = describe(s)
    validate(s, s.name)
    return s


def _campaign(rng, pick, name: str, days: int) -> Campaign:
    def knob_value(knob: str):
        return pick(f"campaigns[].{knob}")

    c = Campaign(name=name)
    for knob in ("operators", "operator_tz", "work_days", "personas", "api_accounts", "persona_locations",
                 "ip_pool_size", "payment_cards", "prompt_language", "prompt_templates", "posts_per_persona",
                 "credibility_days", "pivot_topics", "stance", "balanced_share", "news_response_hours",
                 "news_response_share", "amplification_probability", "amplification_lag_minutes", "paraphrase_rate",
                 "copypasta_share", "spam_share", "image_share", "model", "user_agent", "creation_burst_days"):
        setattr(c, knob, knob_value(knob))
    c.work_days = list(c.work_days)
    start, end = knob_value("work_hours")
    c.work_hours = [start, end]
    c.lunch_break = [] if knob_value("lunch_break") == "none" else [start + 3, start + 4]
    c.api_accounts = min(c.api_accounts, c.personas)
    c.cells = min(knob_value("cells") or 1, c.api_accounts, c.personas)
    zones = knob_value("cell_zones")
    c.cell_zones = zones if c.cells > 1 and zones else []
    while True:  # egress with real address ranges (a VPN exit is always there)
        c.egress_countries, c.network_types = knob_value("egress_countries"), knob_value("network_types")
        if network.pool_keys(c.network_types, c.egress_countries):
            break
    ban_day = knob_value("ban_wave.day")
    c.ban_wave = BanWave(day=None if ban_day is None else int(np.clip(ban_day, days // 3, days - 2)),
                         suspended_fraction=knob_value("ban_wave.suspended_fraction"),
                         return_fraction=knob_value("ban_wave.return_fraction"),
                         return_delay_days=knob_value("ban_wave.return_delay_days"))
    c.evasion = Evasion(timing_jitter_hours=knob_value("evasion.timing_jitter_hours"),
                        ip_rotation=knob_value("evasion.ip_rotation"))
    return c


def drawn_values(s: Scenario) -> list[tuple[str, object]]:
    """(path in RANGES, value) for every drawn knob of a scenario, in the terms of its range (the
    number of campaigns, a lunch break as "none" or "the 4th hour", one cell as None)."""
    values: list[tuple[str, object]] = [("days", s.days), ("news_events", s.news_events),
                                        ("campaigns", len(s.campaigns))]
    values += [(path, getattr(s.organic, path.split(".", 1)[1])) for path in RANGES if path.startswith("organic.")]
    for c in s.campaigns:
        stored = {"work_hours": tuple(c.work_hours), "work_days": tuple(c.work_days),
                  "lunch_break": "none" if not c.lunch_break else
                  "the 4th hour" if c.lunch_break == [c.work_hours[0] + 3, c.work_hours[0] + 4] else c.lunch_break,
                  "cells": None if c.cells == 1 else c.cells, "cell_zones": c.cell_zones or None}
        for path in RANGES:
            if path.startswith("campaigns[]."):
                knob = path.split(".", 1)[1]
                value = c
                for part in knob.split("."):
                    value = getattr(value, part)
                values.append((path, stored.get(knob, value)))
    return values


def describe(s: Scenario) -> str:
    """The main knobs of a scenario in one line (the sweep's tables)."""
    o = s.organic
    world = (f"{s.days} d; {o.social_accounts:,} users, {o.api_customers} API; "
             f"{o.communities} comm {o.community_size}–{o.community_size_max or o.community_size}; "
             f"{o.syndication_networks}×{o.syndication_size} synd; batch {o.hosting_share:.2f} "
             f"(persona {o.batch_persona_share:.2f}); self {o.self_posting_share:.2f}")
    ops = "; ".join(
        f"{c.name}: {c.personas} p/{c.api_accounts} api/{c.cells} cell, {c.operator_tz.split('/')[-1]} "
        f"{c.work_hours[0]}–{c.work_hours[1]}, {c.prompt_templates} tpl, para {c.paraphrase_rate:.2f}, "
        f"jit {c.evasion.timing_jitter_hours:.1f} h, amp {c.amplification_probability:.2f}, "
        f"cred {c.credibility_days} d, ban {c.ban_wave.day if c.ban_wave.day is not None else '–'}"
        for c in s.campaigns)
    return f"{world} — {ops}"


def ranges_markdown() -> str:
    """The ranges as a Markdown table (docs/EVALUATION.md)."""
    rows = ["| knob | drawn from |", "| --- | --- |"]
    for path, spec in RANGES.items():
        bound = f"; {BOUNDS[path]}" if path in BOUNDS else ""
        rows.append(f"| `{path}` | {spec.text()}{bound} |")
    return "\n".join(rows)


__all__ = ["RANGES", "draw_scenario", "describe", "drawn_values", "ranges_markdown"]
