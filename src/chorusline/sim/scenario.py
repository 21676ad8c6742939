"""Scenario schema: every knob of the simulator, with defaults. A campaign with all defaults is the
seed case (docs/SCENARIOS.md). Loaded from YAML and validated with errors that name the setting."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

BUILTIN = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the setting."""


def _range(lo=None, hi=None):
    return {"range": (lo, hi)}


@dataclass
class BanWave:
    day: int | None = field(default=40, metadata=_range(1))  # None: no suspension
    suspended_fraction: float = field(default=0.6, metadata=_range(0, 1))
    return_fraction: float = field(default=0.5, metadata=_range(0, 1))  # of the suspended
    return_delay_days: int = field(default=3, metadata=_range(1))


@dataclass
class Evasion:
    timing_jitter_hours: float = field(default=0.0, metadata=_range(0, 12))  # blurs the operator clock
    ip_rotation: float = field(default=0.2, metadata=_range(0, 1))  # P(a call leaves the account's sticky IP)


@dataclass
class Campaign:
    name: str = "campaign-a"
    operators: int = field(default=3, metadata=_range(1))
    operator_tz: str = "Asia/Shanghai"
    work_hours: list[int] = field(default_factory=lambda: [9, 18])  # local [start, end)
    lunch_break: list[int] = field(default_factory=lambda: [12, 13])  # local [start, end); [] for none
    work_days: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    api_accounts: int = field(default=40, metadata=_range(1))
    personas: int = field(default=300, metadata=_range(1))
    persona_locations: dict[str, float] = field(
        default_factory=lambda: {"US": 0.6, "GB": 0.15, "DE": 0.1, "FR": 0.1, "CA": 0.05})
    egress_countries: list[str] = field(default_factory=lambda: ["SG", "MY"])
    network_types: list[str] = field(default_factory=lambda: ["hosting", "vpn"])
    ip_pool_size: int = field(default=30, metadata=_range(1))
    prompt_language: str = "zh"
    output_language: str = "en"
    prompt_templates: int = field(default=4, metadata=_range(1, 12))
    posts_per_persona: float = field(default=25.0, metadata=_range(1))  # mean; heavy-tailed
    credibility_days: int = field(default=14, metadata=_range(0))
    pivot_topics: list[str] = field(default_factory=lambda: ["trade", "elections"])
    stance: str = "pro"  # pro / anti: the side the operation pushes
    balanced_share: float = field(default=0.15, metadata=_range(0, 1))  # "balanced criticism" posts
    news_response_hours: float = field(default=3.0, metadata=_range(0.1))
    news_response_share: float = field(default=0.3, metadata=_range(0, 1))
    amplification_probability: float = field(default=0.4, metadata=_range(0, 1))
    amplification_lag_minutes: float = field(default=8.0, metadata=_range(0.1))
    paraphrase_rate: float = field(default=0.3, metadata=_range(0, 1))
    copypasta_share: float = field(default=0.1, metadata=_range(0, 1))  # one output posted by several personas
    spam_share: float = field(default=0.1, metadata=_range(0, 1))
    image_share: float = field(default=0.05, metadata=_range(0, 1))  # image-generation calls (avatars)
    model: str = "gpt-4o"
    user_agent: str = "OpenAI/Python 1.12.0"
    payment_cards: int = field(default=4, metadata=_range(1))  # shared by the operation's API accounts
    creation_burst_days: float = field(default=3.0, metadata=_range(0.01))
    ban_wave: BanWave = field(default_factory=BanWave)
    evasion: Evasion = field(default_factory=Evasion)
    # independent cells: each its own share of operators, API accounts, personas, addresses, cards and
    # templates, nothing shared between cells (the truth keeps the operation's name, and the cell)
    cells: int = field(default=1, metadata=_range(1))
    cell_zones: list[str] = field(default_factory=list)  # cell k works in cell_zones[k % len]; [] = operator_tz


@dataclass
class Organic:
    social_accounts: int = field(default=3000, metadata=_range(0))
    posts_per_account: float = field(default=12.0, metadata=_range(0.1))  # mean; heavy-tailed
    api_customers: int = field(default=400, metadata=_range(0))
    calls_per_customer: float = field(default=40.0, metadata=_range(0.1))  # mean; heavy-tailed
    timezones: dict[str, float] = field(default_factory=lambda: {
        "America/New_York": 0.25, "America/Los_Angeles": 0.1, "Europe/London": 0.15, "Europe/Berlin": 0.15,
        "Asia/Shanghai": 0.1, "Asia/Kolkata": 0.08, "America/Sao_Paulo": 0.07, "Asia/Singapore": 0.1})
    hosting_share: float = field(default=0.15, metadata=_range(0, 1))  # API batch jobs from cloud hosting
    vpn_share: float = field(default=0.08, metadata=_range(0, 1))  # API customers on consumer VPNs
    corporate_labs: int = field(default=6, metadata=_range(0))  # developers behind one office IP
    corporate_lab_size: int = field(default=8, metadata=_range(2))
    self_posting_share: float = field(default=0.05, metadata=_range(0, 1))  # post their own outputs
    persona_prompt_share: float = field(default=0.05, metadata=_range(0, 1))  # "write as a friendly barista…"
    political_share: float = field(default=0.3, metadata=_range(0, 1))
    repost_share: float = field(default=0.3, metadata=_range(0, 1))
    reply_share: float = field(default=0.15, metadata=_range(0, 1))
    viral_events: int = field(default=12, metadata=_range(0))
    viral_size: int = field(default=150, metadata=_range(2))
    communities: int = field(default=5, metadata=_range(0))  # fan groups, activists, news syndication
    community_size: int = field(default=25, metadata=_range(2))
    community_size_max: int | None = field(default=None, metadata=_range(2))  # sizes spread up to this; None: equal
    community_links: int = field(default=40, metadata=_range(1))
    # syndication networks: accounts of one service that post a feed's items and repost each other's
    syndication_networks: int = field(default=0, metadata=_range(0))
    syndication_size: int = field(default=20, metadata=_range(2))
    syndication_items: int = field(default=60, metadata=_range(1))  # feed items per network
    syndication_lag_minutes: float = field(default=3.0, metadata=_range(0.1))  # mean lag after the first post
    batch_persona_share: float = field(default=0.0, metadata=_range(0, 1))  # batch jobs filling a persona template
    languages: dict[str, float] = field(default_factory=lambda: {
        "en": 0.7, "zh": 0.08, "es": 0.07, "de": 0.05, "fr": 0.05, "ru": 0.05})


@dataclass
class Scenario:
    name: str = "seed-case"
    description: str = ""
    seed: int = 7
    start: str = "2025-01-06"  # a Monday
    days: int = field(default=60, metadata=_range(1, 3650))
    news_events: int = field(default=30, metadata=_range(0))
    organic: Organic = field(default_factory=Organic)
    campaigns: list[Campaign] = field(default_factory=lambda: [Campaign()])

    def scaled(self, factor: float) -> Scenario:
        """Every population size multiplied by ``factor`` (rates and habits unchanged)."""
        if factor == 1:
            return self
        s = dataclasses.replace(self)
        s.organic = dataclasses.replace(self.organic, **{
            k: _scaled_count(getattr(self.organic, k), factor) for k in
            ("social_accounts", "api_customers", "viral_events", "communities", "corporate_labs",
             "syndication_networks")})
        s.campaigns = [_scaled_campaign(c, factor) for c in self.campaigns]
        return s


def _scaled_count(n: int, factor: float) -> int:
    """A count scaled but kept at one or more, except a knob that was off (0) stays off."""
    return max(1, round(n * factor)) if n else 0


def _scaled_campaign(c: Campaign, factor: float) -> Campaign:
    api_accounts, personas = max(1, round(c.api_accounts * factor)), max(1, round(c.personas * factor))
    return dataclasses.replace(c, api_accounts=api_accounts, personas=personas,
                               ip_pool_size=max(1, round(c.ip_pool_size * factor)),
                               cells=min(c.cells, api_accounts, personas))  # a cell needs an account and a persona


def load_scenario(name_or_path: str | Path, *, seed: int | None = None, scale: float | None = None) -> Scenario:
    """A built-in scenario by name (``seed-case``, ``smoke``…) or a YAML file."""
    path = Path(name_or_path)
    if not path.suffix and not path.is_file():  # a built-in name, even where a folder of that name exists
        path = BUILTIN / f"{name_or_path}.yaml"
        if not path.exists():
            names = ", ".join(sorted(p.stem for p in BUILTIN.glob("*.yaml")))
            raise ScenarioError(f"no scenario {str(name_or_path)!r}: built-in ones are {names}, or give a YAML file")
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file" if not path.exists() else f"{path}: is a folder, not a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2025-02-30
        raise ScenarioError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    scenario = from_mapping(Scenario, data, str(path.name))
    if seed is not None:
        scenario.seed = seed
    if scale is not None:
        if scale <= 0:
            raise ScenarioError(f"--scale must be positive, got {scale}")
        scenario = scenario.scaled(scale)
    validate(scenario, str(path.name))
    return scenario


def from_mapping(cls, data: Any, where: str):
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping of settings, found {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise ScenarioError(f"{where}.{key}: unknown setting (known: {', '.join(fields)})")
        values[key] = _coerce(hints[key], value, f"{where}.{key}", fields[key])
    return cls(**values)


def _coerce(hint, value, where, fld=None):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(options[0], value, where, fld)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ScenarioError(f"{where}: expected a list, found {type(value).__name__}")
        (item,) = typing.get_args(hint)
        return [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: expected a mapping, found {type(value).__name__}")
        _, item = typing.get_args(hint)
        return {str(k): _coerce(item, v, f"{where}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"{where}: expected true or false, found {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{where}: expected a whole number, found {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"{where}: expected a number, found {value!r}")
        value = float(value)
    elif hint is str:
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ScenarioError(f"{where}: expected text, found {value!r}")
    lo, hi = (fld.metadata.get("range", (None, None)) if fld is not None else (None, None))
    if lo is not None and value < lo or hi is not None and value > hi:
        bounds = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        raise ScenarioError(f"{where}: {value} is out of range (must be {bounds})")
    return value


def validate(s: Scenario, where: str) -> None:
    """Checks across settings, after types and ranges."""
    from zoneinfo import available_timezones

    from chorusline.sim.network import POOL_COUNTRIES, pool_keys
    from chorusline.sim.text import LANGUAGES, POLITICAL_TOPICS

    zones = available_timezones()
    try:
        date.fromisoformat(s.start)
    except ValueError:
        raise ScenarioError(f"{where}.start: not a date (YYYY-MM-DD): {s.start!r}") from None
    for name in s.organic.timezones:
        if name not in zones:
            raise ScenarioError(f"{where}.organic.timezones.{name}: unknown time zone")
    for lang in s.organic.languages:
        if lang not in LANGUAGES:
            raise ScenarioError(f"{where}.organic.languages.{lang}: no text for this language (have {', '.join(LANGUAGES)})")
    if s.organic.community_size_max is not None and s.organic.community_size_max < s.organic.community_size:
        raise ScenarioError(f"{where}.organic.community_size_max: {s.organic.community_size_max} is below "
                            f"community_size ({s.organic.community_size})")
    names = set()
    for i, c in enumerate(s.campaigns):
        at = f"{where}.campaigns[{i}]"
        if c.name in names:
            raise ScenarioError(f"{at}.name: {c.name!r} is used twice")
        names.add(c.name)
        if c.operator_tz not in zones:
            raise ScenarioError(f"{at}.operator_tz: unknown time zone {c.operator_tz!r}")
        for zone in c.cell_zones:
            if zone not in zones:
                raise ScenarioError(f"{at}.cell_zones: unknown time zone {zone!r}")
        if c.cells > min(c.api_accounts, c.personas):
            raise ScenarioError(f"{at}.cells: {c.cells} cells need at least as many API accounts and personas "
                                f"(have {c.api_accounts} and {c.personas})")
        if len(c.work_hours) != 2 or not 0 <= c.work_hours[0] < c.work_hours[1] <= 24:
            raise ScenarioError(f"{at}.work_hours: expected [start, end) hours with 0 <= start < end <= 24")
        if c.lunch_break and (len(c.lunch_break) != 2 or not c.work_hours[0] <= c.lunch_break[0] < c.lunch_break[1] <= c.work_hours[1]):
            raise ScenarioError(f"{at}.lunch_break: expected [start, end) inside work_hours, or []")
        if not c.work_days or any(not 0 <= d <= 6 for d in c.work_days):
            raise ScenarioError(f"{at}.work_days: expected days 0 (Monday) to 6")
        if c.prompt_language not in LANGUAGES:
            raise ScenarioError(f"{at}.prompt_language: no prompts in {c.prompt_language!r} (have {', '.join(LANGUAGES)})")
        if c.output_language != "en":
            raise ScenarioError(f"{at}.output_language: the text generator writes English outputs only, got {c.output_language!r}")
        for topic in c.pivot_topics:
            if topic not in POLITICAL_TOPICS:
                raise ScenarioError(f"{at}.pivot_topics: unknown topic {topic!r} (have {', '.join(POLITICAL_TOPICS)})")
        if c.stance not in ("pro", "anti"):
            raise ScenarioError(f"{at}.stance: expected 'pro' or 'anti'")
        for kind in c.network_types:
            if kind not in ("hosting", "vpn", "residential", "mobile", "business"):
                raise ScenarioError(f"{at}.network_types: unknown network type {kind!r}")
        for country in c.egress_countries:
            if country not in POOL_COUNTRIES:
                raise ScenarioError(f"{at}.egress_countries: no IP ranges for {country!r} (have {', '.join(sorted(POOL_COUNTRIES))})")
        if not pool_keys(c.network_types, c.egress_countries):
            raise ScenarioError(f"{at}.network_types: no IP ranges for {', '.join(c.network_types)} networks in "
                                f"{', '.join(c.egress_countries)}")
        for country in c.persona_locations:
            if country not in PLACES:
                raise ScenarioError(f"{at}.persona_locations: no places for {country!r} (have {', '.join(PLACES)})")
        if c.ban_wave.day is not None and c.ban_wave.day >= s.days:
            raise ScenarioError(f"{at}.ban_wave.day: {c.ban_wave.day} is not before the end (days = {s.days})")


# Claimed places by country: (city, time zone). Personas claim these; organic users live in them.
PLACES: dict[str, list[tuple[str, str]]] = {
    "US": [("Columbus, OH", "America/New_York"), ("Austin, TX", "America/Chicago"), ("Phoenix, AZ", "America/Phoenix"),
           ("Tampa, FL", "America/New_York"), ("Denver, CO", "America/Denver"), ("Portland, OR", "America/Los_Angeles")],
    "GB": [("Leeds, England", "Europe/London"), ("Bristol", "Europe/London")],
    "DE": [("Köln", "Europe/Berlin"), ("Leipzig", "Europe/Berlin")],
    "FR": [("Lyon, France", "Europe/Paris"), ("Nantes", "Europe/Paris")],
    "CA": [("Ottawa, ON", "America/Toronto"), ("Calgary", "America/Edmonton")],
    "IN": [("Pune", "Asia/Kolkata")],
    "BR": [("Curitiba", "America/Sao_Paulo")],
    "CN": [("Shanghai", "Asia/Shanghai")],
    "SG": [("Singapore", "Asia/Singapore")],
}
