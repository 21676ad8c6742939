"""The detection run: signals → fuse → cluster → scored campaigns, each stage's result a table in
the store (``edges``/``account_features``, ``fused_edges``, ``clusters``, ``campaign_members``,
``campaigns``, ``campaign_links``), with every threshold from one config file (``chorusline.toml``)."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import ibis

from chorusline.campaigns.consolidate import SCRATCH_PREFIX as CONSOLIDATE_SCRATCH
from chorusline.campaigns.consolidate import ConsolidateParams, consolidate
from chorusline.campaigns.links import LinkParams, campaign_links, member_links, recruit_personas, recruit_writers
from chorusline.campaigns.narratives import NarrativeParams, save_narratives
from chorusline.campaigns.score import ScoreParams, campaign_table, score_members
from chorusline.campaigns.suspicion import SuspicionParams, account_indicators
from chorusline.graph.cluster import ClusterParams, cluster_members
from chorusline.graph.fuse import FuseParams, fuse
from chorusline.progress import stage
from chorusline.signals.ghostwriting import WRITERS_TABLE
from chorusline.signals.semantic import MATCH_TABLE, SemanticParams


class NothingToDetect(ValueError):
    """The store holds no posts and no API calls."""


class ConfigError(ValueError):
    """The config file names a section or key that does not exist, or a value of the wrong type."""


@dataclass(frozen=True)
class DetectConfig:
    fuse: FuseParams = field(default_factory=FuseParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    consolidate: ConsolidateParams = field(default_factory=ConsolidateParams)
    links: LinkParams = field(default_factory=LinkParams)
    narratives: NarrativeParams = field(default_factory=NarrativeParams)
    semantic: SemanticParams = field(default_factory=SemanticParams)


def _build(cls, values: dict, where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"[{where}] has no setting {key!r}; known: {', '.join(known)}")
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            value = _build(type(default), value, f"{where}.{key}")
        elif isinstance(default, float) and isinstance(value, int):
            value = float(value)
        elif isinstance(default, tuple) and isinstance(value, list):  # TOML has arrays, settings tuples
            value = tuple(value)
        elif not isinstance(value, type(default)):
            raise ConfigError(f"[{where}] {key} should be {type(default).__name__}, got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


def load_config(path: Path | None) -> DetectConfig:
    """The defaults, overridden by a TOML file's [fuse], [cluster], [score], [consolidate], [links],
    [narratives], [semantic] sections."""
    if path is None:
        return DetectConfig()
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _build(DetectConfig, data, "config")


def detect(store, config: DetectConfig = DetectConfig(), signals_dir: Path | str | None = None) -> ibis.Table:
    """Run every stage on the store and return the ``campaigns`` table (ranked by score)."""
    from chorusline.signals.run import run_signals

    if all(store.table(name).count().execute() == 0 for name in ("posts", "llm_calls")):
        raise NothingToDetect("the store has no posts and no API calls: load some with `chorusline ingest` first")
    if signals_dir is not None:
        run_signals(store, signals_dir, semantic=config.semantic)
    backend = store.backend
    with stage("fuse"):
        backend.create_table("fused_edges", fuse(store.table("edges"), config.fuse), overwrite=True)
    with stage("cluster"):
        backend.create_table("clusters", cluster_members(store.table("fused_edges"), config.cluster), overwrite=True)
    with stage("score and link"):
        score_campaigns(store, config)
    with stage("narratives"):
        save_narratives(store, config.narratives)
    return store.table("campaigns").order_by([ibis.desc("score"), "campaign_id"])


INDICATORS_SCRATCH, SCORED_SCRATCH = "scoring_indicators", "scored_clusters"  # dropped once campaigns are made


def score_campaigns(store, config: DetectConfig = DetectConfig()) -> None:
    """clusters → ``campaign_members`` (scored, then the API accounts that write for flagged personas,
    the reported campaigns that are one operation merged and the accounts tied mostly into them
    attached (`campaigns.consolidate`), and the personas the links recruit),
    ``campaign_links`` and ``campaigns``."""
    backend = store.backend
    # the indicators and the scored clusters are stored before the steps that read them: one query
    # carrying all of them is over 100,000 characters of SQL, which Spark plans for a minute on smoke
    backend.create_table(INDICATORS_SCRATCH, account_indicators(store.table("account_features"), config.score.suspicion),
                         overwrite=True)
    indicators = store.table(INDICATORS_SCRATCH)
    backend.create_table(SCORED_SCRATCH, score_members(store.table("clusters"), store.table("account_features"),
                                                       config.score, indicators), overwrite=True)
    scored = store.table(SCORED_SCRATCH)
    if WRITERS_TABLE in backend.list_tables():  # API accounts writing for flagged personas join them first
        scored = recruit_writers(scored, store.table(WRITERS_TABLE), indicators, config.links)
    scored = consolidate(scored, store.table("fused_edges"), indicators, config.score, config.consolidate)
    backend.create_table("cluster_members", scored, overwrite=True)
    semantic = (store.table(MATCH_TABLE) if config.semantic.enabled and MATCH_TABLE in backend.list_tables()
                else None)
    link_params = dataclasses.replace(config.links, semantic_horizon=float(config.semantic.max_lag))
    links = campaign_links(store.table("llm_calls"), store.table("posts"), store.table("cluster_members"),
                           link_params, semantic)
    backend.create_table("candidate_links", links, overwrite=True)
    members = recruit_personas(store.table("cluster_members"), store.table("candidate_links"), store.table("posts"),
                               indicators, config.links)
    backend.create_table("campaign_members", members, overwrite=True)
    backend.create_table("campaign_links", member_links(store.table("candidate_links"),
                                                        store.table("campaign_members")), overwrite=True)
    for scratch in ("cluster_members", "candidate_links", INDICATORS_SCRATCH, SCORED_SCRATCH):
        backend.drop_table(scratch)
    for scratch in backend.list_tables():
        if scratch.startswith(CONSOLIDATE_SCRATCH):
            backend.drop_table(scratch)
    backend.create_table("campaigns", campaign_table(store.table("campaign_members"), config.score), overwrite=True)


__all__ = ["ConfigError", "DetectConfig", "NothingToDetect", "SuspicionParams", "detect", "load_config",
           "score_campaigns"]
