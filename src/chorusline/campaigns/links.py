"""API accounts ↔ the personas that post their output; and the personas those links bring in.

Built from the call → post candidates of ``signals.provenance`` (words) and ``signals.semantic``
(meaning) between the flagged API accounts of campaigns and every persona, keeping only
near-verbatim matches (Jaccard ≥ ``min_jaccard``) or paraphrases (cosine ≥ ``min_similarity``) that
came soon enough after their call. On the simulator a verbatim match names the right call 98 % of
the time, a partial one (a paraphrase matched to some other output of the same template) 20–30 %;
and the wrong matches sit far out in time (median lag 26 h, against 15 min for the right ones),
because a template's outputs recur for days. So the lag that counts as "soon" is learned from the
data: the median lag of each post's quickest match, per campaign, times ``lag_factor`` (verbatim)
or ``paraphrase_lag_factor``.
Each post is then attributed to its best remaining call — a verbatim source first, else the most
recent of its close ones (a paraphrase is about as close to every output of its template on that
subject; the one just before it is the right one 88–90 % of the time on the simulator, the closest
one 39–75 %) — and every (API account, persona) pair with a post becomes a link.

A link's campaign is the persona's when the persona is flagged, else the API account's;
``api_campaign_id`` names the API account's, which differs when clustering split one operation in
two: the link is then the evidence that the parts belong together.

A persona that is not flagged but posts a campaign's generated text within minutes of its
generation is a member whatever the co-activity graph said (it may have posted too little to be
tied in): ``recruit_personas`` flags it in that campaign (docs/DETECTION.md §5)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.campaigns.score import CAMPAIGN_COLUMNS
from chorusline.engine import reused
from chorusline.signals.provenance import provenance_candidates
from chorusline.signals.semantic import SemanticParams, timely_excess


@dataclass(frozen=True)
class LinkParams:
    min_jaccard: float = 0.95
    min_similarity: float = 0.75  # cosine of a paraphrase to its output (signals.semantic); 1.1 turns it off
    semantic_horizon: float = float(SemanticParams.max_lag)  # how far back signals.semantic looked
    paraphrase_min_posts: int = 2  # posts a link resting on paraphrases alone needs
    # ... unless the persona already takes text from this many of the campaign's API accounts (a
    # pool, or accounts replaced after a ban): then one paraphrased post names its writer well enough
    paraphrase_pool_writers: int = 2
    paraphrase_window_share: float = 0.25  # a paraphrase's window is at most this share of semantic_horizon
    paraphrase_excess: float = 3.0  # Poisson sd by which a persona's timely paraphrases must exceed chance
    lag_factor: float = 5.0  # a verbatim match counts up to this many times the campaign's median quickest lag
    paraphrase_lag_factor: float = 3.0  # a paraphrase, matched by resemblance, must come sooner
    # an unflagged persona becomes a member when this many of its posts, and this share of what it
    # wrote, carry a campaign's output: one chance match among forty ordinary posts does not
    recruit_min_posts: int = 2
    recruit_min_share: float = 0.25
    recruit_min_personas: int = 1  # flagged personas an unflagged API account must write for to join their campaign


def campaign_links(calls: ibis.Table, posts: ibis.Table, members: ibis.Table,
                   params: LinkParams = LinkParams(), semantic: ibis.Table | None = None) -> ibis.Table:
    """campaign_id, api_campaign_id, api_actor, persona_actor, posts (carried), first_ts, last_ts,
    evidence. ``semantic``: the store's ``semantic_provenance`` matches, when it has them."""
    return links_from(link_candidates(calls, posts, members, semantic), params)


def link_candidates(calls: ibis.Table, posts: ibis.Table, members: ibis.Table,
                    semantic: ibis.Table | None = None) -> ibis.Table:
    """Every output → later post match of the flagged API accounts (``signals.provenance``, with
    its ``jaccard``, and ``signals.semantic``, with its cosine ``similarity``; the other is null),
    with the API account's campaign and the link's (the persona's when it is flagged, else the API
    account's). Computed once, so that several link rules can read it."""
    flagged = members.filter(members.flagged).select("actor", "campaign_id")
    c = calls.mutate(actor=calls.platform.concat(":", calls.account_id)).semi_join(flagged, "actor").drop("actor")
    lexical = provenance_candidates(c, posts)
    matches = lexical.mutate(similarity=ibis.null("float64"))
    if semantic is not None:
        sem = semantic.semi_join(flagged, semantic.api_actor == flagged.actor)
        post_ids = posts.select(_pid=posts.post_id)
        sem = sem.semi_join(post_ids, sem.post_id == post_ids._pid)  # the caller's posts only (the watchlist cuts them)
        call_ids = c.select(_cid=c.call_id)
        sem = sem.semi_join(call_ids, sem.call_id == call_ids._cid)
        matches = matches.union(sem.select(*lexical.columns[:-1], jaccard=ibis.null("float64"),
                                           similarity=sem.similarity), distinct=False)
    api = flagged.select(api_actor=flagged.actor, api_campaign_id=flagged.campaign_id)
    persona = flagged.select(persona_actor=flagged.actor, _own=flagged.campaign_id)
    j = matches.join(api, "api_actor").left_join(persona, "persona_actor")
    return reused(j.select(matches, api_campaign_id=j.api_campaign_id,
                           campaign_id=ibis.coalesce(j._own, j.api_campaign_id), _persona_flagged=j._own.notnull()))


def _close(candidates: ibis.Table, params: LinkParams) -> ibis.Table:
    """The candidates close enough to count, with ``_verbatim``."""
    c = candidates
    verbatim = c.jaccard.fill_null(0.0) >= params.min_jaccard
    return c.filter(verbatim | (c.similarity.fill_null(0.0) >= params.min_similarity)).mutate(_verbatim=verbatim)


def usual_lags(candidates: ibis.Table, params: LinkParams = LinkParams()) -> ibis.Table:
    """campaign_id, _usual: each campaign's usual lag from generating to posting, the median of its
    posts' quickest close match (s)."""
    j = _close(candidates, params)
    quickest = j.group_by(["campaign_id", "post_id"]).aggregate(lag=j.lag.min())
    return quickest.group_by("campaign_id").aggregate(_usual=quickest.lag.median())


def link_windows(candidates: ibis.Table, params: LinkParams = LinkParams(), usual: ibis.Table | None = None) -> ibis.Table:
    """The close candidates with ``_verbatim``, the campaign's ``_usual`` lag and each match's
    ``_window``: how soon after its call a post must come to count."""
    j = _close(candidates, params)
    j = j.join(usual_lags(candidates, params) if usual is None else usual, "campaign_id")
    # a paraphrase's window is the campaign's, but never more than a quarter of how far back the
    # semantic matches reach: the timing test needs the later band to estimate chance (a slow
    # campaign's window of 20 h left 4 h of it, and three topical posts of an organic account passed)
    window = ibis.ifelse(j._verbatim, j._usual * params.lag_factor,
                         ibis.least(j._usual * params.paraphrase_lag_factor,
                                    params.semantic_horizon * params.paraphrase_window_share))
    return j.mutate(_window=window)


def links_from(candidates: ibis.Table, params: LinkParams = LinkParams(), usual: ibis.Table | None = None) -> ibis.Table:
    """The link rule on ``link_candidates``: matches at ``min_jaccard`` or ``min_similarity`` or
    closer, within ``lag_factor`` times the campaign's usual lag (``usual_lags`` of the candidates,
    unless ``usual`` gives it: a campaign whose own posts are not among the candidates), each post
    to its best call."""
    j = link_windows(candidates, params, usual)
    j = _timed_paraphrases(j, params)
    j = j.filter(j.lag <= j._window)
    # a persona's operator is a candidate source for many of its posts, another account of the
    # campaign for a few: how many of the persona's posts an account could have written (`_support`)
    # decides between close paraphrase sources before their lag does
    support = j.group_by(["persona_actor", "api_actor"]).aggregate(_support=j.post_id.nunique())
    j = j.join(support, ["persona_actor", "api_actor"])
    rank = ibis.row_number().over(group_by=j.post_id, order_by=[ibis.desc(j._verbatim),
                                                                ibis.desc(j.jaccard.fill_null(0.0)),
                                                                ibis.desc(j._support), j.lag,
                                                                ibis.desc(j.similarity.fill_null(0.0)), j.call_id])
    j = j.mutate(_rank=rank).filter(ibis._._rank == 0)
    # an output is posted first by the persona it was written for, minutes after it was generated; a
    # later post carrying it is a copy of the copy or a coincidence — with one account writing
    # thousands of texts a month from a template bank, ordinary posts collide with some output
    # every day. Only a flagged persona (copypasta inside the operation) keeps such a post's link
    j = j.mutate(_first_ts=j.post_ts.min().over(group_by=j.call_id))  # a column first: Spark refuses a window in a filter
    j = j.filter((j.post_ts == j._first_ts) | j._persona_flagged)
    pair = j.group_by(["campaign_id", "api_campaign_id", "api_actor", "persona_actor"]).aggregate(
        posts=j.count(), _verbatim=j._verbatim.any(), first_ts=j.post_ts.min(),
        last_ts=j.post_ts.max(), some=j.call_id.concat("~", j.post_id).collect().sort()[:10])
    # one paraphrase is no link on its own: a template's outputs on one subject all resemble it, and
    # on the simulator a pair resting on one paraphrase is right 22 % of the time, on two 59 % —
    # unless the persona is already known to take text from several of the operation's accounts
    # (57 % right at strength 1.0, where a persona's account is replaced after a ban)
    established = pair._verbatim | (pair.posts >= params.paraphrase_min_posts)
    pair = pair.mutate(_established=established, _writers=established.cast("int64").sum().over(
        group_by=pair.persona_actor))  # a column first: Spark refuses a window in a filter
    pair = pair.filter(pair._established | (pair._writers >= params.paraphrase_pool_writers))
    evidence = ibis.literal('["').concat(pair.some.join('","'), '"]')
    return pair.select("campaign_id", "api_campaign_id", "api_actor", "persona_actor", "posts", "first_ts", "last_ts",
                       evidence=evidence)


def _timed_paraphrases(j: ibis.Table, params: LinkParams) -> ibis.Table:
    """Drops the paraphrase matches of personas whose posts are merely on the campaign's subjects.

    A post that says what an output said can be a copy or a coincidence of topic; only a copy
    follows its output closely in time. So per (campaign, persona), the posts with a paraphrase
    match inside the paraphrase window (``paraphrase_lag_factor`` × the campaign's usual lag, at most
    ``paraphrase_window_share`` of the horizon) are compared with those matched only later, up to
    ``semantic_horizon``: a persona that writes on the campaign's subjects matches
    outputs at any lag, at about the same rate per hour, and its window count is what that rate
    predicts; a persona posting paraphrases of fresh outputs has far more inside the window. A
    persona keeps its paraphrase matches when the window count exceeds the expected one by
    ``paraphrase_excess`` Poisson standard deviations (and at least doubles it): `timely_excess`."""
    para = j.filter(~j._verbatim)
    near = para.lag <= para._window
    per = para.group_by(["campaign_id", "persona_actor"]).aggregate(
        _near=para.post_id.nunique(where=near), _far=para.post_id.nunique(where=~near),
        _window=para._window.max())
    timed = per.filter(timely_excess(per._near, per._far, per._window, params.semantic_horizon,
                                     params.recruit_min_posts, params.paraphrase_excess))
    timed = timed.select(_c="campaign_id", _p="persona_actor")
    kept = j.left_join(timed, [j.campaign_id == timed._c, j.persona_actor == timed._p])
    kept = kept.filter(kept._verbatim | kept._c.notnull())
    return kept.select(*j.columns)


def recruit_personas(members: ibis.Table, links: ibis.Table, posts: ibis.Table, indicators: ibis.Table,
                     params: LinkParams = LinkParams()) -> ibis.Table:
    """``campaign_members`` with the linked personas that were not flagged now flagged, in the
    campaign whose API accounts they carry most, when enough of what they wrote is that campaign's
    output (``recruit_min_posts``, ``recruit_min_share``); ``recruited`` marks them. Their member
    score is the campaign's score × (1 − e^−posts): a link is a tie like any other.

    A recruit from outside every cluster gets the same columns as any member, from its own
    features (``indicators``: ``suspicion.account_indicators``): its suspicion and indicators, no
    fused ties (degree and strength 0) and the link's tie. Only an indicator the account has no
    feature for is null, as for every member."""
    flagged = members.filter(members.flagged).select("actor")
    carried = links.anti_join(flagged, links.persona_actor == flagged.actor)
    carried = carried.group_by(["persona_actor", "campaign_id"]).aggregate(posts=carried.posts.sum())
    best = ibis.row_number().over(group_by=carried.persona_actor, order_by=[ibis.desc(carried.posts),
                                                                           carried.campaign_id])
    carried = carried.mutate(_rank=best).filter(lambda t: (t._rank == 0) & (t.posts >= params.recruit_min_posts))
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    authored = authored.group_by(persona_actor=authored.platform.concat(":", authored.account_id)).aggregate(
        _wrote=authored.count())
    carried = carried.join(authored, "persona_actor")
    carried = carried.filter(carried.posts >= carried._wrote * params.recruit_min_share)
    return recruit_accounts(members, carried.select(actor=carried.persona_actor, campaign_id=carried.campaign_id,
                                            posts=carried.posts), indicators)


def recruit_writers(members: ibis.Table, writers: ibis.Table, indicators: ibis.Table,
                    params: LinkParams = LinkParams()) -> ibis.Table:
    """``campaign_members`` with the API accounts that write for a campaign's flagged personas now
    flagged in it (`signals.ghostwriting`'s ``writer_pairs``: their text posted soon after it was
    generated, beyond chance), when ``recruit_min_personas`` or more of its flagged personas post
    it and they are most of the personas it writes for (a self-poster writes for one; an
    operation's account, for the operation). The counterpart of `recruit_personas`: an account
    that writes for an operation is part of it however thinly the co-activity graph tied it."""
    flagged = members.filter(members.flagged & (members.platform != "llm-api")).select(
        persona_actor="actor", campaign_id="campaign_id")
    pairs = writers.left_join(flagged, "persona_actor").select(writers, campaign_id=flagged.campaign_id)
    total = pairs.group_by("api_actor").aggregate(_personas=pairs.persona_actor.nunique())
    per = pairs.filter(pairs.campaign_id.notnull()).group_by(["api_actor", "campaign_id"]).aggregate(
        personas=pairs.persona_actor.nunique(), posts=pairs.posts.sum())
    best = ibis.row_number().over(group_by=per.api_actor, order_by=[ibis.desc(per.personas), ibis.desc(per.posts),
                                                                   per.campaign_id])
    per = per.mutate(_rank=best).filter(lambda t: (t._rank == 0) & (t.personas >= params.recruit_min_personas))
    per = per.join(total, "api_actor")
    per = per.filter(per.personas * 2 > per._personas)
    already = members.filter(members.flagged).select("actor")
    per = per.anti_join(already, per.api_actor == already.actor)
    return recruit_accounts(members, per.select(actor=per.api_actor, campaign_id=per.campaign_id, posts=per.posts), indicators)


def recruit_accounts(members: ibis.Table, new: ibis.Table, indicators: ibis.Table) -> ibis.Table:
    """``members`` with ``new`` (actor, campaign_id, posts: the evidence's size; optionally own:
    the account's own suspicion, which then scales its member score) flagged in those
    campaigns, as members already or as new rows; ``recruited`` marks them (and keeps marking those
    an earlier step recruited)."""
    reported = members.filter(members.flagged)
    per = reported.group_by("campaign_id").aggregate(**{f"_{c}": reported[c].max() for c in CAMPAIGN_COLUMNS})
    own = new.own.cast("float64") if "own" in new.columns else ibis.literal(1.0)
    new = new.join(per, "campaign_id").select(actor=new.actor, _cid=new.campaign_id, _posts=new.posts, _own=own,
                                              **{f"_{c}": per[f"_{c}"] for c in CAMPAIGN_COLUMNS})
    before = members.recruited if "recruited" in members.columns else ibis.literal(False)
    columns = [c for c in members.columns if c != "recruited"]
    members = members.mutate(recruited=before)
    m = members.left_join(new, members.actor == new.actor).select(
        members, _cid=new._cid, _posts=new._posts, _own=new._own, **{f"_{c}": new[f"_{c}"] for c in CAMPAIGN_COLUMNS})
    hit = m._cid.notnull()
    link_tie = 1.0 - (-m._posts.cast("float64")).exp()
    link_score = m._campaign_score * link_tie * m._own
    # a member of another cluster moving in brings none of that cluster's standing: no core, no
    # knot, no ties inside its new campaign but the evidence that moved it
    moved = hit & (m._cid != m.campaign_id)
    schema = m.schema()
    standing = {"core": ibis.literal(False), "part": ibis.literal(-1), "degree": ibis.literal(0),
                "strength": ibis.literal(0.0), "tie": link_tie}
    kept = m.mutate(
        campaign_id=ibis.ifelse(hit, m._cid, m.campaign_id),
        **{c: ibis.ifelse(hit, m[f"_{c}"], m[c]) for c in CAMPAIGN_COLUMNS},
        **{c: ibis.ifelse(moved, v.cast(schema[c]), m[c]) for c, v in standing.items() if c in schema},
        member_score=ibis.ifelse(moved, link_score,
                                 ibis.ifelse(hit, ibis.greatest(m.member_score, link_score), m.member_score)),
        flagged=m.flagged | hit, recruited=m.recruited | hit).select(*columns, "recruited")
    # linked accounts outside every cluster: new rows, with what is known of them
    outside = new.anti_join(members, "actor")
    outside = outside.left_join(indicators, "actor").select(outside, *[indicators[c] for c in indicators.columns
                                                                       if c != "actor"])
    link_tie = 1.0 - (-outside._posts.cast("float64")).exp()
    values = {"actor": outside.actor, "campaign_id": outside._cid, "platform": outside.actor.split(":")[0],
              "degree": ibis.literal(0), "strength": ibis.literal(0.0), "tie": link_tie,
              "core": ibis.literal(False), "active_days": outside._active_days, "part": ibis.literal(-1),
              "suspicion": outside.suspicion.fill_null(0.0), "measured": outside.measured.fill_null(False),
              **{c: outside[c] for c in indicators.columns if c not in ("actor", "suspicion", "measured")},
              **{c: outside[f"_{c}"] for c in CAMPAIGN_COLUMNS},
              "member_score": outside._campaign_score * link_tie * outside._own,
              "flagged": ibis.literal(True), "recruited": ibis.literal(True)}
    schema = members.schema()
    missing = set(columns) - set(values)
    assert not missing, f"recruited rows lack {sorted(missing)}"  # a new member column must be filled here
    added = outside.select(**{c: values[c].cast(schema[c]) for c in columns}, recruited=values["recruited"])
    return kept.union(added, distinct=False)


def member_links(links: ibis.Table, members: ibis.Table) -> ibis.Table:
    """The links whose persona is a flagged member (after recruiting): a chance match of one
    ordinary post with a campaign's output links nobody."""
    flagged = members.filter(members.flagged).select(persona_actor=members.actor)
    return links.semi_join(flagged, "persona_actor")
