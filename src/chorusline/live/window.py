"""The signals the watcher keeps up to date per micro-batch, over a sliding window of event time,
without rerunning detection: what the new rows add, found against the window's state only.

- **Co-action within the window** (the batch ``coshare`` signal's rule: two accounts touching the
  same object — repost target, URL, domain, hashtag, mention, media — within ``coaction_window``
  seconds). The window's shares are kept (``live_shares``); a new share is paired with the others on
  its object, and each pair is kept once (``live_coaction``). An object more than
  ``max_object_accounts`` accounts touched inside the window (a trending hashtag, a news site) ties
  nobody: its pairs would grow with the square of its crowd.
- **Provenance of new posts against recent outputs** (the batch ``provenance`` signal's rule, on
  the same MinHash bands as ``signals.near_duplicate``). Each API output is shingled and banded
  once, when it arrives (``live_output_shingles``, ``live_output_bands``); a new post is banded and looked up among the outputs of the last
  ``max_lag`` seconds before it, candidates verified on the exact Jaccard of the two texts, each post
  kept with its closest output (``live_links``).

State older than its horizon is deleted as the stream's clock moves on, so it is bounded by the
window, not the stream. All tables are keyed: a redelivered batch adds nothing twice. The verbs are
Ibis expressions; the state lives in the watcher's DuckDB store (the watcher owns it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import pyarrow as pa
from ibis.expr.datatypes import Array

from chorusline.schema import FLOAT, INT, STR, TableSpec
from chorusline.signals.near_duplicate import NearDuplicateParams, output_texts, post_texts, shingles, signatures
from chorusline.signals.provenance import ProvenanceParams, best_source
from chorusline.signals.shares import shares_view

SHARES = TableSpec(
    name="live_shares", row="an object a post of the window touched", key=("content_id", "object_type", "object_id"),
    columns=(("platform", STR), ("account_id", STR), ("object_type", STR), ("object_id", STR), ("content_id", STR),
             ("ts", INT)))
COACTION = TableSpec(
    name="live_coaction", row="two posts of different accounts on one object within the co-action window",
    key=("object_type", "object_id", "a_content", "b_content"),
    columns=(("a_actor", STR), ("b_actor", STR), ("object_type", STR), ("object_id", STR), ("a_content", STR),
             ("b_content", STR), ("ts", INT)))
OUTPUT_BANDS = TableSpec(
    name="live_output_bands", row="one MinHash band of an API output of the window", key=("call_id", "band"),
    columns=(("call_id", STR), ("actor", STR), ("ts", INT), ("band", INT), ("key1", INT), ("key2", INT)))
OUTPUT_SHINGLES = TableSpec(
    name="live_output_shingles", row="the word-bigram hashes of an API output of the window", key=("call_id",),
    columns=(("call_id", STR), ("ts", INT), ("sh", Array(INT))))
LINKS = TableSpec(
    name="live_links", row="a post of the window and the API output it carries", key=("post_id",),
    columns=(("call_id", STR), ("post_id", STR), ("api_actor", STR), ("persona_actor", STR), ("call_ts", INT),
             ("post_ts", INT), ("lag", INT), ("jaccard", FLOAT)))
WINDOW_TABLES = (SHARES, COACTION, OUTPUT_BANDS, OUTPUT_SHINGLES, LINKS)


@dataclass(frozen=True)
class WindowParams:
    coaction_window: int = 60  # seconds between two accounts' touches of one object (as batch coshare)
    max_object_accounts: int = 50  # an object touched by more accounts inside the window ties nobody
    # how long pairs and links are kept to be counted (repeated co-action, a persona's copies)
    horizon: int = 3 * 86_400
    # how late an event may arrive and still be paired with the window's shares
    lateness: int = 3600
    # near-verbatim copies only (what the joining rule reads: links.min_jaccard 0.95; looser,
    # paraphrase-level matches are the detection's): 4 bands of 4 rows find a pair at Jaccard 0.8
    # with probability 0.88, at 0.9 0.99, at 0.95 0.999, for half the hashing of the batch's 8 bands
    provenance: ProvenanceParams = field(default_factory=lambda: ProvenanceParams(threshold=0.8))
    bands: NearDuplicateParams = field(default_factory=lambda: NearDuplicateParams(bands=4, rows=4))


@dataclass
class WindowUpdate:
    pairs: int = 0  # co-action pairs new to the window
    links: int = 0  # posts newly found carrying a recent output
    linked_personas: list[str] = field(default_factory=list)
    coacting: list[str] = field(default_factory=list)  # accounts in new co-action pairs


def ensure_window_tables(store) -> None:
    existing = set(store.backend.list_tables())
    for spec in WINDOW_TABLES:
        if spec.name not in existing:
            store.backend.create_table(spec.name, schema=spec.schema)


def update_window(store, posts: pa.Table | None, calls: pa.Table | None,
                  params: WindowParams = WindowParams()) -> WindowUpdate:
    """Add a micro-batch's posts and API calls (canonical columns) to the window; returns what
    they added. What fell out of the window stays until ``prune`` (after the alerts have read it).

    Each step's SQL is compiled once per process (``_sql``) and rerun on the next batch: the
    expressions read the batch under fixed names, and compiling them cost more than running them."""
    ensure_window_tables(store)
    con, t = store.backend.con, store.backend.table
    out = WindowUpdate()
    if calls is not None and calls.num_rows:
        con.register("_window_calls", calls)
        try:
            _materialize(store, "_window_output_docs", ("output_docs", params), lambda: shingles(
                output_texts(t("_window_calls")), params.bands.min_shingles, cache=False))
        finally:
            con.unregister("_window_calls")
        _append(store, OUTPUT_SHINGLES, _rows(store, ("output_shingles", params), lambda: t("_window_output_docs").select(
            call_id=ibis._.doc_id, ts=ibis._.ts, sh=ibis._.sh)))
        _append(store, OUTPUT_BANDS, _rows(store, ("output_bands", params),
                                           lambda: output_bands(t("_window_output_docs"), params.bands)))
    if posts is not None and posts.num_rows:
        con.register("_window_posts", posts)
        try:
            _materialize(store, "_window_post_docs", ("post_docs", params), lambda: shingles(
                post_texts(t("_window_posts")), params.bands.min_shingles, cache=False))
            _materialize(store, "_window_new_shares", ("new_shares", params), lambda: shares_view(t("_window_posts")))
        finally:
            con.unregister("_window_posts")
        _materialize(store, "_window_candidates", ("candidates", params),
                     lambda: link_candidates(store, t("_window_post_docs"), params))
        found = _rows(store, ("links", params), lambda: verified_links(
            store, t("_window_post_docs"), t("_window_candidates"), params))
        out.links = _append(store, LINKS, found)
        out.linked_personas = _distinct(found, "persona_actor")
        _append(store, SHARES, _rows(store, ("shares", params), lambda: t("_window_new_shares")))
        pairs = _rows(store, ("pairs", params), lambda: new_pairs(store, t("_window_new_shares"), params))
        out.pairs = _append(store, COACTION, pairs)
        out.coacting = sorted(set(_distinct(pairs, "a_actor")) | set(_distinct(pairs, "b_actor")))
    return out


def output_bands(docs: ibis.Table, params: NearDuplicateParams = NearDuplicateParams()) -> ibis.Table:
    """call_id, actor, ts, band, key1, key2 of the MinHash bands of outputs (their ``shingles``)."""
    sig = signatures(docs, params)
    who = docs.select(_doc=docs.doc_id, actor=docs.actor)
    j = sig.join(who, sig.doc_id == who._doc)
    return j.select(call_id=j.doc_id, actor=j.actor, ts=j.ts, band=j.band, key1=j.key1, key2=j.key2)


def link_candidates(store, docs: ibis.Table, params: WindowParams = WindowParams()) -> ibis.Table:
    """post_id, call_id, api_actor, call_ts, post_ts: the window's outputs sharing a MinHash band
    with a new post (its ``shingles``), at most ``max_lag`` before it."""
    sig = signatures(docs, params.bands)
    bands = store.table(OUTPUT_BANDS.name)
    j = sig.join(bands, [sig.band == bands.band, sig.key1 == bands.key1, sig.key2 == bands.key2])
    j = j.filter((bands.ts <= sig.ts) & (sig.ts - bands.ts <= params.provenance.max_lag))
    return j.select(post_id=sig.doc_id, call_id=bands.call_id, api_actor=bands.actor, call_ts=bands.ts,
                    post_ts=sig.ts).distinct()


def verified_links(store, docs: ibis.Table, cand: ibis.Table, params: WindowParams = WindowParams()) -> ibis.Table:
    """The candidates whose texts' Jaccard reaches ``provenance.threshold``, another account's,
    each post with its closest output (``best_source``): the ``live_links`` columns."""
    out_sh = store.table(OUTPUT_SHINGLES.name)
    pairs = cand.join(docs.select(post_id=docs.doc_id, persona_actor=docs.actor, _p=docs.sh), "post_id")
    pairs = pairs.join(out_sh.select(call_id=out_sh.call_id, _o=out_sh.sh), "call_id")
    pairs = pairs.filter(pairs.api_actor != pairs.persona_actor)
    jaccard = pairs._p.intersect(pairs._o).length().cast("float64") / pairs._p.union(pairs._o).length().cast("float64")
    pairs = pairs.mutate(jaccard=jaccard, lag=pairs.post_ts - pairs.call_ts)
    pairs = pairs.filter(pairs.jaccard >= params.provenance.threshold)
    best = best_source(pairs.select("call_id", "post_id", "api_actor", "persona_actor", "call_ts", "post_ts", "lag",
                                    "jaccard"))
    return best.select(*LINKS.schema.names)


def new_pairs(store, shares: ibis.Table, params: WindowParams = WindowParams()) -> ibis.Table:
    """Co-action pairs of the new ``shares`` with the window's (themselves included): different
    accounts on one object within ``coaction_window`` seconds, each pair once (a_content < b_content),
    objects of at most ``max_object_accounts`` accounts in the window."""
    w = store.table(SHARES.name)
    crowd = w.semi_join(shares.select("platform", "object_type", "object_id"), ["platform", "object_type", "object_id"])
    crowd = crowd.group_by(["platform", "object_type", "object_id"]).aggregate(_n=crowd.account_id.nunique())
    quiet = crowd.filter(crowd._n <= params.max_object_accounts).drop("_n")
    new = shares.semi_join(quiet, ["platform", "object_type", "object_id"])
    other = w.view()
    j = new.join(other, [new.platform == other.platform, new.object_type == other.object_type,
                         new.object_id == other.object_id, new.account_id != other.account_id,
                         (new.ts - other.ts).abs() <= params.coaction_window])
    x = j.select(na=new.platform.concat(":", new.account_id), nc=new.content_id, nt=new.ts,
                 oa=other.platform.concat(":", other.account_id), oc=other.content_id, ot=other.ts,
                 object_type=new.object_type, object_id=new.object_id)
    first = x.nc < x.oc
    return x.select(a_actor=ibis.ifelse(first, x.na, x.oa), b_actor=ibis.ifelse(first, x.oa, x.na),
                    object_type=x.object_type, object_id=x.object_id,
                    a_content=ibis.ifelse(first, x.nc, x.oc), b_content=ibis.ifelse(first, x.oc, x.nc),
                    ts=ibis.greatest(x.nt, x.ot)).distinct()


def prune(store, watermark: dt.datetime, params: WindowParams = WindowParams()) -> None:
    """Delete the state the window no longer needs: shares past the co-action window (with room for
    late events), outputs, links and pairs past the horizon."""
    now = int(watermark.timestamp())
    con = store.backend.con
    con.execute(f"DELETE FROM {SHARES.name} WHERE ts < ?", [now - params.coaction_window - params.lateness])
    for spec in (OUTPUT_BANDS, OUTPUT_SHINGLES, COACTION):
        con.execute(f"DELETE FROM {spec.name} WHERE ts < ?", [now - params.horizon])
    con.execute(f"DELETE FROM {LINKS.name} WHERE post_ts < ?", [now - params.horizon])


def repeated_pairs(store, min_objects: int = 2) -> ibis.Table:
    """a_actor, b_actor, objects: the window's account pairs that co-acted on ``min_objects`` or
    more objects (batch coshare's ``min_participation``)."""
    c = store.table(COACTION.name)
    per = c.group_by(["a_actor", "b_actor"]).aggregate(
        objects=c.object_type.concat(":", c.object_id).nunique())
    return per.filter(per.objects >= min_objects)


def _distinct(rows: pa.Table, column: str) -> list[str]:
    """The column's distinct values (Arrow's kernel: a batch's pairs can number tens of thousands)."""
    import pyarrow.compute as pc

    return sorted(pc.unique(rows.column(column)).to_pylist())


_COMPILED: dict[tuple, str] = {}


def _sql(key: tuple, build) -> str:
    """The SQL of ``build()``'s expression, compiled the first time ``key`` is asked for."""
    if key not in _COMPILED:
        _COMPILED[key] = str(ibis.to_sql(build(), dialect="duckdb"))
    return _COMPILED[key]


def _materialize(store, name: str, key: tuple, build) -> None:
    """A step's result as a temporary table of the store's connection (its own)."""
    store.backend.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_sql(key, build)}")


def _rows(store, key: tuple, build) -> pa.Table:
    return store.backend.con.execute(_sql(key, build)).fetch_arrow_table()


def _append(store, spec: TableSpec, rows: ibis.Table | pa.Table) -> int:
    """Inserts the rows new to ``spec``'s table, once each (its key de-duplicates a redelivered
    batch); how many. One statement, not the store's staging protocol: these tables are the
    watcher's own (DuckDB), and staging per micro-batch cost more than the signals."""
    table = rows.to_pyarrow() if isinstance(rows, ibis.Table) else rows
    if not table.num_rows:
        return 0
    con = store.backend.con
    view = f"_window_new_{spec.name}"
    con.register(view, table.select(spec.schema.names).cast(spec.arrow_schema))
    try:
        keys = ", ".join(spec.key)
        (inserted,) = con.execute(f"INSERT INTO {spec.name} SELECT DISTINCT ON ({keys}) * FROM {view} "
                                  f"ANTI JOIN {spec.name} USING ({keys})").fetchone()
    finally:
        con.unregister(view)
    return int(inserted)
