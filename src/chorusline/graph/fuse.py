"""From raw signal edges to one fused graph: each edge's evidence against chance, then agreement
across independent signal families (docs/DETECTION.md has the formulas and why).

1. **Null model per signal** (a configuration model on the signal's own edge list). For signal s,
   an account's strength is the events on all its s-edges, ``k_a = Σ_b n_ab``, and ``W = Σ n``.
   If the accounts' events were paired at random, a pair would share ``E_ab = k_a k_b / 2W`` events:
   a busy account that co-shares everything viral with everyone has a large expectation, two quiet
   accounts that keep meeting do not. Signals that carry their own null use it instead:
   ``synchrony`` (its weight is observed / expected, so ``E = n / weight``). Signals whose weight
   is a rarity sum (``infrastructure``, ``prompt_template``: a shared key counts log(N/n)/log N)
   scale the excess by their mean rarity, so a shared big-cloud ASN adds little.
2. **Evidence**: ``e = 1 − exp(−max(0, n − E) · rarity / k_f)``, 0..1, where ``k_f`` is the
   excess a family needs for strong evidence (default 3 events; ``FuseParams.saturation``).
3. **Fusion**: signals of one family (``infrastructure:ip`` and ``infrastructure:prefix``, the two
   ``near_duplicate`` surfaces) are one source — the family keeps its strongest evidence. Families
   combine by noisy-OR, ``P = 1 − Π_f (1 − e_f)``: two independent families at 0.6 give 0.84, one
   family repeated gives 0.6. The fused weight is ``−ln(1 − P) = Σ_f −ln(1 − e_f)`` (additive, what
   clustering uses). Each fused edge keeps its families and their evidence.

Everything is engine expressions over the ``edges`` table; no rows leave the engine here."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis

OWN_NULL = ("synchrony",)  # weight = observed / expected
# weight = summed rarity (0..1 each): shared keys, and co-shared objects (signals.coshare.object_rarity)
RARITY_WEIGHTED = ("infrastructure", "prompt_template", "coshare", "fast_share", "hashtag_sequence")


@dataclass(frozen=True)
class FuseParams:
    saturation: dict[str, float] = field(default_factory=dict)  # family → excess events for strong evidence
    default_saturation: float = 3.0
    max_evidence: float = 0.99  # no single family is ever certain (keeps −ln(1 − e) finite)
    min_probability: float = 0.0  # fused edges below this are dropped


def family(signal: ibis.StringValue) -> ibis.StringValue:
    """The part of a signal's name before the first colon: ``infrastructure:ip`` → ``infrastructure``."""
    return signal.split(":")[0]


def signal_evidence(edges: ibis.Table, params: FuseParams = FuseParams()) -> ibis.Table:
    """a_actor, b_actor, signal, family, n_events, expected, evidence (0..1) per raw edge."""
    e = edges.mutate(family=family(edges.signal), n=edges.n_events.cast("float64"), w=edges.weight.cast("float64"))
    ends = e.select(signal=e.signal, actor=e.a_actor, n=e.n).union(
        e.select(signal=e.signal, actor=e.b_actor, n=e.n), distinct=False)
    # (signal, actor) as one key: joined on two columns, both strength tables would carry `signal`,
    # and DuckDB may infer ka.signal = kb.signal and join them to each other first — a product per
    # signal (on the `large` scenario it spilled 45 GB before giving up)
    sep = ibis.literal("\x1f")
    strength = ends.group_by(_key=ends.signal.concat(sep, ends.actor)).aggregate(k=ends.n.sum())
    total = e.group_by("signal").aggregate(total=e.n.sum())
    ka = strength.select(_ka=strength._key, k_a=strength.k)
    kb = strength.select(_kb=strength._key, k_b=strength.k)
    e = e.mutate(_ka=e.signal.concat(sep, e.a_actor), _kb=e.signal.concat(sep, e.b_actor))
    e = e.join(ka, "_ka").join(kb, "_kb").join(total, "signal")
    configuration = e.k_a * e.k_b / (2.0 * e.total)
    expected = ibis.ifelse(e.family.isin(list(OWN_NULL)), e.n / ibis.greatest(e.w, 1.0), configuration)
    rarity = ibis.ifelse(e.family.isin(list(RARITY_WEIGHTED)),
                         ibis.least(e.w / ibis.greatest(e.n, 1.0), 1.0), ibis.literal(1.0))
    saturation = ibis.literal(params.default_saturation)
    for name, value in sorted(params.saturation.items()):
        saturation = ibis.ifelse(e.family == name, value, saturation)
    excess = ibis.greatest(e.n - expected, 0.0) * rarity
    evidence = ibis.least(1.0 - (-excess / saturation).exp(), params.max_evidence)
    return e.select("a_actor", "b_actor", "signal", "family", n_events=e.n_events, expected=expected,
                    evidence=evidence, first_ts=e.first_ts, last_ts=e.last_ts)


def fuse(edges: ibis.Table, params: FuseParams = FuseParams()) -> ibis.Table:
    """The fused graph: a_actor, b_actor, weight (Σ −ln(1 − e_f)), probability, n_families,
    families (JSON list of "family=evidence"), n_events, first_ts, last_ts."""
    ev = signal_evidence(edges, params)
    fam = ev.group_by(["a_actor", "b_actor", "family"]).aggregate(
        evidence=ev.evidence.max(), n_events=ev.n_events.sum(), first_ts=ev.first_ts.min(), last_ts=ev.last_ts.max())
    fam = fam.filter(fam.evidence > 0)
    fam = fam.mutate(log_miss=-(1.0 - fam.evidence).ln(),
                     label=fam.family.concat("=", (fam.evidence * 100).round().cast("int64").cast("string"), "%"))
    fused = fam.group_by(["a_actor", "b_actor"]).aggregate(
        weight=fam.log_miss.sum(), n_families=fam.count(), labels=fam.label.collect().sort(),
        n_events=fam.n_events.sum(), first_ts=fam.first_ts.min(), last_ts=fam.last_ts.max())
    fused = fused.mutate(probability=1.0 - (-fused.weight).exp(),
                         families=ibis.literal('["').concat(fused.labels.join('","'), '"]'))
    fused = fused.filter(fused.probability >= params.min_probability)
    return fused.select("a_actor", "b_actor", "weight", "probability", "n_families", "families", "n_events",
                        "first_ts", "last_ts")
