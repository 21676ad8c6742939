"""The watchlist: fingerprints of confirmed campaigns, and `match` ranking new accounts against it,
so that an operation that comes back with fresh accounts after a suspension is caught in its first
days.

Fingerprints (``watchlist`` table: campaign_id, kind, key, weight), taken from the confirmed
members' activity:
- infrastructure — the IPs, /24 (/48) prefixes, hosting/VPN ASNs, client fingerprints, user agents,
  payment fingerprints and e-mail domains their API accounts used (``signals.infrastructure``);
- templates — the prompt skeletons they filled (``signals.prompt_template.skeleton``);
- clock — the operator clock: office-clock UTC offsets of the members (``signals.circadian``);
- style — the campaign's distinctive words (words its posts use far more than everyone's).
Each key's weight is how rare it is among accounts outside the campaign, (log(N / (1 + n)) / log N)²:
the operation's own rented subnet weighs nearly 1; a big cloud ASN, gmail.com or the default SDK
string weighs little, so ordinary customers of them do not rise to the top.

`match` computes the same keys for every account that is not a confirmed member, from activity up
to ``until`` (what is known on the day of the check), and scores each: per kind the best matching
key's weight (style: the share of the watchlisted words the account used, times their mean
weight), summed over kinds. A persona that posts the output of a matching API account, or of one
of the confirmed campaigns' own API accounts (the campaigns' link rule, ``campaigns.links``)
adds half of that account's score (verbatim; 0.3 for a close copy),
scaled by how far its copies are beyond chance (kind ``provenance``): that is how an operation's
new personas are caught before they show a clock or a style of their own. The ranking, with the
matched keys, is the output."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from chorusline.act.decisions import confirmed_members
from chorusline.campaigns.links import LinkParams, link_candidates, link_windows, links_from, usual_lags
from chorusline.engine import reused
from chorusline.signals.circadian import CircadianParams, circadian_features
from chorusline.signals.infrastructure import account_keys
from chorusline.signals.prompt_template import skeleton
from chorusline.signals.semantic import provenance_matches
from chorusline.signals.topics import words

STYLE_TERMS = 30
CLOCK_MIN_EVENTS = 6  # a new account has few events in its first days; an office clock shows early


def _until(table: ibis.Table, until: dt.datetime | None) -> ibis.Table:
    return table if until is None else table.filter(table.ts < until)


def _of(table: ibis.Table, actors: ibis.Table | None) -> ibis.Table:
    """The rows of ``actors``' accounts (a table with an ``actor`` column); all rows for None."""
    if actors is None:
        return table
    mine = table.mutate(_actor=table.platform.concat(":", table.account_id))
    return mine.semi_join(actors, mine._actor == actors.actor).drop("_actor")


def all_keys(store, until: dt.datetime | None = None, actors: ibis.Table | None = None) -> ibis.Table:
    """actor, kind, key for every account (or only ``actors``': each account's keys are its own
    activity's): infrastructure, templates and clock."""
    tables = set(store.backend.list_tables())
    calls = _of(_until(store.table("llm_calls"), until), actors)
    posts = _of(_until(store.table("posts"), until), actors)
    network = store.table("network_info") if "network_info" in tables else None
    infra = account_keys(calls, _of(store.table("accounts"), actors), network).select("actor", "kind", "key")
    prompts = calls.filter(calls.prompt.notnull())
    templates = prompts.select(actor=prompts.platform.concat(":", prompts.account_id), kind=ibis.literal("template"),
                               key=skeleton(prompts.prompt)).distinct()
    clock = circadian_features(calls, posts, None, CircadianParams(min_events=CLOCK_MIN_EVENTS, min_days=1))
    clock = ibis.memtable(clock) if clock.num_rows else None
    parts = [infra, templates]
    if clock is not None:
        offset = clock.filter(clock.feature == "circadian:utc_offset").select("actor", offset=clock.value)
        office = clock.filter((clock.feature == "circadian:office_clock") & (clock.value == 1.0)).select("actor")
        office = office.join(offset, "actor")
        parts.append(office.select("actor", kind=ibis.literal("clock"),
                                   key=ibis.literal("office UTC").concat(office.offset.cast("int64").cast("string"))))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def _rarity(keys: ibis.Table, members: ibis.Table) -> ibis.Table:
    """kind, key, weight = log(N / (1 + n)) / log N over the accounts outside the campaigns."""
    outside = keys.anti_join(members.select("actor"), "actor")
    total = outside.actor.nunique().as_scalar().cast("float64")
    n = outside.group_by(["kind", "key"]).aggregate(n=outside.actor.nunique())
    rarity = ibis.greatest((total / (n.n + 1.0)).ln() / ibis.greatest(total, 2.0).ln(), 0.0)
    # squared: a key a few outsiders share keeps most of its weight, one hundreds share loses it
    return n.mutate(weight=rarity * rarity).select("kind", "key", "weight")


def build_watchlist(store) -> ibis.Table:
    """campaign_id, kind, key, weight for every confirmed campaign (see the module's docstring)."""
    members = confirmed_members(store)
    keys = all_keys(store)
    mine = keys.join(members, "actor").select("campaign_id", "kind", "key").distinct()
    rare = _rarity(keys, members)
    listed = mine.join(rare, ["kind", "key"], how="left").select(mine, weight=rare.weight.fill_null(1.0))
    # style: the words the campaign's posts use far more than everyone's
    posts = store.table("posts")
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    authored = authored.mutate(actor=authored.platform.concat(":", authored.account_id))
    w = words(authored.select("actor", "post_id", "text"), "text")
    w = w.left_join(members, "actor").select(w, campaign_id=members.campaign_id)
    n_all = w.post_id.nunique().as_scalar().cast("float64")
    df_all = w.group_by("word").aggregate(df_all=w.post_id.nunique())
    inside = w.filter(w.campaign_id.notnull())
    n_in = inside.group_by("campaign_id").aggregate(n_in=inside.post_id.nunique())
    df_in = inside.group_by(["campaign_id", "word"]).aggregate(df=inside.post_id.nunique())
    s = df_in.join(df_all, "word").join(n_in, "campaign_id")
    lift = ((s.df + 1.0) / (s.n_in + 2.0)).ln() - ((s.df_all + 1.0) / (n_all + 2.0)).ln()
    s = s.filter(s.df >= 5).mutate(lift=lift, share_outside=(s.df_all - s.df).cast("float64") / n_all)
    rank = ibis.row_number().over(group_by=s.campaign_id, order_by=[ibis.desc(s.lift), s.word])
    s = s.mutate(_r=rank).filter(lambda t: t._r < STYLE_TERMS)
    style = s.select("campaign_id", kind=ibis.literal("style"), key=s.word,
                     weight=ibis.least(ibis.greatest(1.0 - s.share_outside * 20.0, 0.0), 1.0))
    return listed.union(style, distinct=False)


def save_watchlist(store) -> int:
    watch = build_watchlist(store).to_pyarrow()
    store.backend.create_table("watchlist", watch, overwrite=True)
    return watch.num_rows


VERBATIM_SHARE = 0.5  # of the API account's score, for posting its output word for word
PARAPHRASE_SHARE = 0.3  # for posting something close to it (Jaccard >= 0.6, or the same meaning: cosine >= 0.75)


def _writers(parts: ibis.Table, keys: ibis.Table, watch: ibis.Table, members: ibis.Table) -> ibis.Table:
    """actor, campaign_id, api_score: the API accounts whose output can make a persona match — the
    matching ones outside the campaigns with their match score, and the confirmed campaigns' own API
    accounts with the score their own fingerprints give them against their campaign's. An operation
    that loses its personas in a ban but keeps some API accounts comes back with new personas
    posting what those confirmed accounts write: the most direct evidence there is."""
    outside = parts.filter(parts.actor.startswith("llm-api:")).group_by(["actor", "campaign_id"]).aggregate(
        api_score=parts.part.sum())
    mine = keys.filter(keys.actor.startswith("llm-api:")).join(members, "actor")
    mine = mine.select("actor", "kind", "key", _own=mine.campaign_id)
    own = _fingerprint_parts(mine.drop("_own"), watch).join(
        mine.select("actor", "_own").distinct(), "actor")
    own = own.filter(own.campaign_id == own._own)
    own = own.group_by(["actor", "campaign_id"]).aggregate(api_score=own.part.sum())
    return outside.union(own, distinct=False)


def _linked_personas(store, api: ibis.Table, members: ibis.Table, until: dt.datetime | None) -> ibis.Table:
    """A persona posting the output of a writing API account (``_writers``) inherits part of that
    account's score (kind ``provenance``): a returning operation's new personas show little of their
    own in their first days, but they post what its API accounts write, new or confirmed. The
    campaigns' own link rule decides (``campaigns.links``: soon after the call, within the usual
    lag): a verbatim copy passes on ``VERBATIM_SHARE`` of the score, a close one
    ``PARAPHRASE_SHARE``. Verbatim copies rank a new persona early; close ones catch the many that
    paraphrase, later."""
    calls = _until(store.table("llm_calls"), until)
    posts = _until(store.table("posts"), until)
    writers = api.select("actor", "campaign_id", flagged=ibis.literal(True))
    # paraphrases by meaning too (signals.semantic), of the matching API accounts' calls only
    written = calls.mutate(_a=calls.platform.concat(":", calls.account_id)).semi_join(
        writers, ibis._._a == writers.actor).drop("_a")
    semantic = provenance_matches(store, written, posts)
    # the confirmed personas' posts are matched too: they teach each campaign its own usual lag
    # (the outsiders' matches are mostly chance collisions hours later, which would stretch the
    # window to them), and an output they posted first makes a later copy a copy of a copy
    candidates = link_candidates(calls, posts, writers, semantic)  # matched once, read by both rules
    own = members.select(_p="actor", _c="campaign_id")
    mine = candidates.semi_join(own, (candidates.persona_actor == own._p) & (candidates.campaign_id == own._c))
    found = chances = None
    rules = ((LinkParams(min_jaccard=0.95, min_similarity=1.1), VERBATIM_SHARE),
             (LinkParams(min_jaccard=0.6), PARAPHRASE_SHARE))
    for params, share in rules:
        every, learned = usual_lags(candidates, params), usual_lags(mine, params)
        usual = every.left_join(learned, "campaign_id").select(
            "campaign_id", _usual=ibis.coalesce(learned._usual, every._usual))  # a campaign without personas: everyone's
        links = links_from(candidates, params, usual).anti_join(own, ibis._.persona_actor == own._p)
        links = links.select("api_actor", "persona_actor", "posts", share=ibis.literal(share))  # the share names the rule
        found = links if found is None else found.union(links, distinct=False)
        outsiders = candidates.anti_join(own, candidates.persona_actor == own._p)
        chance = _chance_matches(outsiders, params, usual).mutate(share=ibis.literal(share))
        chances = chance if chances is None else chances.union(chance, distinct=False)
    posts = posts.mutate(actor=posts.platform.concat(":", posts.account_id)).anti_join(
        members.select("actor"), "actor").drop("actor")
    j = found.join(api, found.api_actor == api.actor)
    per = j.group_by(["persona_actor", "campaign_id", "share"]).aggregate(
        part=(j.api_score * j.share).max(), carried=j.posts.sum(), example=j.api_actor.max())
    per = _beyond_chance(per, posts, chances)
    per = per.mutate(part=per.part * per.beyond)
    return per.group_by(["persona_actor", "campaign_id"]).aggregate(
        part=per.part.max(), example=per.example.max()).select(
        actor="persona_actor", campaign_id="campaign_id", kind=ibis.literal("provenance"), part="part",
        example="example")


def _chance_matches(candidates: ibis.Table, params: LinkParams, usual: ibis.Table) -> ibis.Table:
    """campaign_id, _chance: how many of these posts a campaign's output reaches inside the link
    window by chance. An ordinary post that happens to read like an output is as likely to follow
    it by an hour as by twenty, while a copy follows within the window; so the posts matched only
    later than the window, up to the horizon the matches reach, spread over the window's length,
    estimate the chance ones inside it — without counting the copies being tested. Null where the
    window leaves no later band to count."""
    j = link_windows(candidates, params, usual)
    quickest = j.group_by(["campaign_id", "post_id"]).aggregate(lag=j.lag.min(), window=j._window.max())
    horizon = float(params.semantic_horizon)
    later = (quickest.lag > quickest.window) & (quickest.lag <= horizon)
    per = quickest.group_by("campaign_id").aggregate(_later=quickest.post_id.nunique(where=later),
                                                      _window=quickest.window.max().cast("float64"))
    band = horizon - per._window
    # one more than counted: none seen in the later band is not proof that chance never matches
    return per.select("campaign_id", _chance=ibis.ifelse(band >= per._window, (per._later + 1) * per._window / band,
                                                          ibis.null("float64")))


def _beyond_chance(per: ibis.Table, posts: ibis.Table, chances: ibis.Table) -> ibis.Table:
    """``per`` (persona_actor, campaign_id, share: the link rule, carried: its posts carrying the
    campaign's output by that rule) with ``beyond``: how far that is beyond chance, in [0, 1]. A campaign's writers produce
    thousands of short texts, and ordinary posts collide with some of them: a persona that wrote n
    posts is expected to carry λ = n·r by chance, r being the rate at which everyone's posts carry
    the campaign's output by chance (``chances``: per campaign and rule, from `_chance_matches`;
    where it has none, everyone's posts carrying it at all, which counts the copies too). Carrying
    k > λ has chance at most e^−D, D = k·ln(k/λ) − k + λ (the Poisson tail's Chernoff bound); the
    evidence is full once D reaches ln(accounts), where one account of the whole population would
    get there by chance."""
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    wrote = authored.group_by(persona_actor=authored.platform.concat(":", authored.account_id)).aggregate(
        _wrote=authored.count())
    everyone = wrote.aggregate(_posts=wrote._wrote.sum().cast("float64"), _accounts=wrote.count().cast("float64"))
    per = per.join(wrote, "persona_actor")
    rate = per.group_by(["campaign_id", "share"]).aggregate(_carried_all=per.carried.sum().cast("float64"))
    rate = rate.left_join(chances, ["campaign_id", "share"]).select(
        "campaign_id", "share", _expected=ibis.coalesce(chances._chance, rate._carried_all))
    j = per.join(rate, ["campaign_id", "share"]).cross_join(everyone)
    k = j.carried.cast("float64")
    lam = ibis.greatest(j._wrote.cast("float64") * j._expected / j._posts, 1e-9)
    d = ibis.ifelse(k > lam, k * (k / lam).ln() - k + lam, 0.0)
    return j.select(*per.columns, beyond=ibis.least(d / ibis.greatest(j._accounts, 2.0).ln(), 1.0))


def _watchlist(store) -> ibis.Table:
    if "watchlist" not in store.backend.list_tables():
        raise LookupError("the store has no watchlist: confirm a campaign and run `chorusline watchlist` first")
    return store.table("watchlist")


def _fingerprint_parts(keys: ibis.Table, watch: ibis.Table) -> ibis.Table:
    """actor, campaign_id, kind, part, example: per kind (infrastructure, templates, clock) the
    best matching key's weight."""
    hit = keys.join(watch.filter(watch.kind != "style"), ["kind", "key"])
    return hit.group_by(["actor", "campaign_id", "kind"]).aggregate(part=hit.weight.max(), example=hit.key.max())


def _ranked(parts: ibis.Table, top: int | None) -> pa.Table:
    """The parts summed per account and campaign; each account's best campaign, best first."""
    label = parts.kind.concat("=", parts.example)
    # rounded: a sum's last bits depend on the engine's order of addition, and equal matches must
    # rank the same way (then by actor) on every engine
    scored = parts.group_by(["actor", "campaign_id"]).aggregate(
        score=parts.part.sum().round(9), kinds=parts.kind.collect().sort(), evidence=label.collect().sort())
    best = ibis.row_number().over(group_by=scored.actor, order_by=[ibis.desc(scored.score), scored.campaign_id])
    scored = scored.mutate(_r=best).filter(lambda t: t._r == 0).drop("_r")
    scored = scored.order_by([ibis.desc("score"), "actor"])
    if top is not None:
        scored = scored.limit(top)
    return scored.to_pyarrow()


def match_fingerprints(store, actors: list[str], until: dt.datetime | None = None) -> pa.Table:
    """``match_accounts`` on the infrastructure, template and clock evidence alone, for ``actors``
    only (same columns). What a new account shows from its first API calls, read from its own rows:
    cheap enough to run on every micro-batch of a stream. Each score is at most the account's
    ``match_accounts`` score (style and provenance only add to it), so an account this puts over a
    threshold, the full match puts over it too."""
    watch = _watchlist(store)
    wanted = ibis.memtable(pa.table({"actor": pa.array(sorted(set(actors)), pa.string())}))
    members = confirmed_members(store)
    keys = all_keys(store, until, wanted).anti_join(members.select("actor"), "actor")
    return _ranked(_fingerprint_parts(keys, watch), None)


def match_accounts(store, until: dt.datetime | None = None, top: int | None = None) -> pa.Table:
    """actor, campaign_id, score, kinds (matched), evidence: accounts outside the confirmed
    campaigns ranked by how well they match one campaign's fingerprints."""
    watch = _watchlist(store)
    members = confirmed_members(store)
    everyone = reused(all_keys(store, until))
    keys = everyone.anti_join(members.select("actor"), "actor")
    per_kind = _fingerprint_parts(keys, watch)
    # style: the share of the campaign's words the account's posts used
    posts = _until(store.table("posts"), until)
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    authored = authored.mutate(actor=authored.platform.concat(":", authored.account_id))
    used = words(authored.select("actor", "text"), "text").distinct().anti_join(members.select("actor"), "actor")
    style = watch.filter(watch.kind == "style")
    listed = style.group_by("campaign_id").aggregate(n_terms=style.count(), mean_weight=style.weight.mean())
    sh = used.join(style, used.word == style.key).group_by(["actor", "campaign_id"]).aggregate(
        n=style.key.nunique(), example=style.key.max())
    sh = sh.join(listed, "campaign_id")
    sh = sh.select("actor", "campaign_id", kind=ibis.literal("style"),
                   part=sh.n.cast("float64") / sh.n_terms.cast("float64") * sh.mean_weight, example="example")
    parts = reused(per_kind.union(sh, distinct=False))
    writers = _writers(parts, everyone, watch, members)
    parts = parts.union(_linked_personas(store, writers, members, until), distinct=False)
    return _ranked(parts, top)
