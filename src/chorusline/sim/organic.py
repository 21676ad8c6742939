"""The organic world, with the traps a detector must not fall into: heavy-tailed ordinary users in
many time zones, viral cascades (many unrelated reposts within minutes), openly coordinated but
authentic communities (fan groups, activists, news syndication sharing the same links), and API
customers that look suspicious for innocent reasons (batch jobs from cloud hosting, labs behind one
office IP working office hours, consumer VPNs shared by thousands, people who post what they generate)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.sim import clock, network, text
from chorusline.sim.population import (
    API, FREE_MAIL, FREE_MAIL_P, MODELS, MODELS_P, NEWS_SITES, SOCIAL, USER_AGENT_P, USER_AGENTS, BIOS, Tables, choice,
    fingerprint, handles, heavy_tailed_counts, hex_ids, snowflakes,
)
from chorusline.sim.scenario import PLACES, Scenario

ZONE_COUNTRY = {"America/New_York": "US", "America/Los_Angeles": "US", "America/Chicago": "US", "Europe/London": "GB",
                "Europe/Berlin": "DE", "Europe/Paris": "FR", "Asia/Shanghai": "CN", "Asia/Kolkata": "IN",
                "America/Sao_Paulo": "BR", "Asia/Singapore": "SG", "America/Toronto": "CA"}


def country_of(zones: np.ndarray) -> np.ndarray:
    """The country of each time zone (US when unknown), mapped once per distinct zone."""
    names, inverse = np.unique(zones.astype(str), return_inverse=True)
    return np.array([ZONE_COUNTRY.get(z, "US") for z in names], dtype=object)[inverse]


@dataclass
class Originals:
    """Posts others can repost or reply to (organic and campaign alike)."""
    post_id: np.ndarray
    account_id: np.ndarray
    ts: np.ndarray
    weight: np.ndarray  # popularity


def social_users(rng, s: Scenario, out: Tables, n: int, role: str, zones: np.ndarray | None = None):
    """n organic social accounts; returns (ids, zones)."""
    o = s.organic
    if zones is None:
        names = list(o.timezones)
        p = np.array(list(o.timezones.values()), dtype=float)
        zones = np.array(names, dtype=object)[rng.choice(len(names), n, p=p / p.sum())]
    ids = snowflakes(rng, clock.epoch_us(s.start) - rng.integers(30, 3000, n) * clock.DAY_US)
    countries = country_of(zones)
    pick = rng.integers(0, 6, n)
    cities = np.empty(n, dtype=object)
    for country in np.unique(countries):  # a loop over countries, not rows
        rows = countries == country
        names = np.array([city for city, _ in PLACES.get(country, PLACES["US"])], dtype=object)
        cities[rows] = names[pick[rows] % len(names)]
    location = pc.if_else(pa.array(rng.random(n) < 0.65), pa.array(cities, pa.string()), pa.scalar(None, pa.string()))
    start = clock.epoch_us(s.start)
    out.add("accounts", platform=SOCIAL, account_id=ids,
            created_at=pa.array(start - rng.integers(30, 4000, n) * clock.DAY_US, pa.timestamp("us", tz="UTC")),
            handle=handles(rng, n, templated=0.3), display_name=handles(rng, n, templated=1.0),
            bio=choice(rng, BIOS, None, n), claimed_location=location, claimed_language=choice(rng, ["en"], None, n),
            followers=np.round(rng.lognormal(4.5, 1.6, n)).astype(np.int64),
            following=np.round(rng.lognormal(5.5, 0.8, n)).astype(np.int64))
    out.add("truth_accounts", platform=SOCIAL, account_id=ids, campaign=pa.nulls(n, pa.string()), role=role)
    return np.array(ids.to_pylist(), dtype=object), zones


def organic_social(rng, s: Scenario, out: Tables, news: dict) -> Originals:
    o = s.organic
    start, days = clock.epoch_us(s.start), s.days
    ids, zones = social_users(rng, s, out, o.social_accounts, "organic_user")
    counts = heavy_tailed_counts(rng, o.posts_per_account, len(ids))
    author = np.repeat(np.arange(len(ids)), counts)
    n = len(author)
    ts = clock.organic_times(rng, start, days, zones[author])
    kind_draw = rng.random(n)
    is_repost = kind_draw < o.repost_share
    is_reply = (~is_repost) & (kind_draw < o.repost_share + o.reply_share)
    original = ~(is_repost | is_reply)

    # originals: neutral or political (every stance), some answering the news with broad lags
    political = rng.random(n) < o.political_share
    topics = np.where(political, rng.integers(len(text.NEUTRAL_TOPICS), len(text.TOPICS), n),
                      rng.integers(0, len(text.NEUTRAL_TOPICS), n))
    stances = np.where(political, rng.integers(0, 3, n), text.NEUTRAL)
    ts = _news_timing(rng, ts, topics, political & original & (rng.random(n) < 0.3), news, mean_hours=12.0)
    body, _ = text.sentences(rng, topics, stances)
    with_link = rng.random(n) < 0.2
    links = pc.binary_join_element_wise("https://", text.pick(rng, NEWS_SITES, n), "/story/",
                                        pa.array(rng.integers(1000, 99999, n)).cast(pa.string()), "")
    urls = _lists(links, with_link)
    tags = _lists(pa.array(np.array(text.TOPICS, dtype=object)[topics], pa.string()), rng.random(n) < 0.15)

    orig_idx = np.nonzero(original)[0]
    post_ids = snowflakes(rng, ts)
    post_id_np = np.array(post_ids.to_pylist(), dtype=object)
    weights = rng.pareto(1.2, len(orig_idx)) + 1
    originals = Originals(post_id_np[orig_idx], ids[author[orig_idx]], ts[orig_idx], weights)

    # reposts and replies of popular originals, some time after them
    target = np.full(n, -1)
    engaged = np.nonzero(~original)[0]
    if len(orig_idx):
        picked = orig_idx[rng.choice(len(orig_idx), len(engaged), p=weights / weights.sum())]
        target[engaged] = picked
        lag_hours = np.where(is_repost[engaged], rng.exponential(6, len(engaged)), rng.exponential(2, len(engaged)))
        ts[engaged] = ts[picked] + (lag_hours * clock.HOUR_US).astype(np.int64) + 1_000_000
        # the re-timed posts keep their ids' time bits close enough: ids were drawn from the first draw
    has_target = target >= 0
    kind = np.where(is_repost, "repost", np.where(is_reply, "reply", "post"))
    kind = np.where(~original & ~has_target, "post", kind)
    texts = pc.if_else(pa.array(kind == "repost"), pa.scalar(None, pa.string()), body)
    safe_target = np.where(has_target, target, 0)
    out.add("posts", platform=SOCIAL, post_id=post_ids, account_id=pa.array(ids[author], pa.string()),
            ts=pa.array(ts, pa.timestamp("us", tz="UTC")), kind=pa.array(kind), text=texts, lang="en",
            target_post_id=pc.if_else(pa.array(has_target), pa.array(post_id_np[safe_target], pa.string()),
                                      pa.scalar(None, pa.string())),
            target_account_id=pc.if_else(pa.array(has_target), pa.array(ids[author][safe_target], pa.string()),
                                         pa.scalar(None, pa.string())),
            urls=pc.if_else(pa.array(kind == "repost"), pa.scalar(None, pa.list_(pa.string())), urls),
            hashtags=pc.if_else(pa.array(kind == "repost"), pa.scalar(None, pa.list_(pa.string())), tags),
            client=choice(rng, ["Twitter Web App", "Twitter for iPhone", "Twitter for Android"], [0.4, 0.35, 0.25], n))
    _viral(rng, s, out, originals, ids)
    _communities(rng, s, out, ids, zones)
    _syndication(rng, s, out)
    return originals


def _viral(rng, s, out, originals: Originals, ids):
    """Viral cascades: a popular post reposted by many unrelated accounts within minutes."""
    o = s.organic
    if not o.viral_events or not len(originals.post_id):
        return
    top = np.argsort(-originals.weight)[: max(o.viral_events * 3, 1)]
    chosen = rng.choice(top, o.viral_events, replace=len(top) < o.viral_events)
    size = min(o.viral_size, len(ids))
    event = np.repeat(chosen, size)
    who = np.concatenate([rng.choice(len(ids), size, replace=False) for _ in chosen])
    ts = originals.ts[event] + (rng.exponential(4, len(event)) * 60_000_000).astype(np.int64) + 1_000_000
    out.add("posts", platform=SOCIAL, post_id=snowflakes(rng, ts), account_id=pa.array(ids[who], pa.string()),
            ts=pa.array(ts, pa.timestamp("us", tz="UTC")), kind="repost",
            target_post_id=pa.array(originals.post_id[event], pa.string()),
            target_account_id=pa.array(originals.account_id[event], pa.string()),
            client=choice(rng, ["Twitter for iPhone", "Twitter for Android"], None, len(event)))


def _communities(rng, s, out, ids, zones):
    """Fan groups and activists share the same links within minutes; news syndication within seconds."""
    o = s.organic
    start = clock.epoch_us(s.start)
    for c in range(o.communities):
        size = o.community_size if o.community_size_max is None else rng.integers(o.community_size,
                                                                                  o.community_size_max + 1)
        members = rng.choice(len(ids), min(size, len(ids)), replace=False)
        syndication = c % 3 == 0
        link_ts = clock.organic_times(rng, start, s.days, np.full(o.community_links, zones[members[0]], dtype=object))
        share = rng.random((o.community_links, len(members))) < (0.9 if syndication else 0.6)
        link_i, member_i = np.nonzero(share)
        lag = rng.exponential(20 if syndication else 600, len(link_i)) * 1_000_000
        ts = link_ts[link_i] + lag.astype(np.int64)
        site = NEWS_SITES[c % len(NEWS_SITES)]
        links = pa.array([f"https://{site}/c{c}/{k}" for k in range(o.community_links)], pa.string())
        n = len(link_i)
        topics = rng.integers(0, len(text.TOPICS), n)
        body, _ = text.sentences(rng, topics, np.where(topics >= len(text.NEUTRAL_TOPICS), rng.integers(0, 3, n),
                                                        text.NEUTRAL))
        url = pc.take(links, pa.array(link_i))
        out.add("posts", platform=SOCIAL, post_id=snowflakes(rng, ts), account_id=pa.array(ids[members[member_i]], pa.string()),
                ts=pa.array(ts, pa.timestamp("us", tz="UTC")), kind="post", text=text.join(body, url), lang="en",
                urls=_lists(url, np.ones(n, bool)), hashtags=_lists(pa.array([f"group{c}"] * n), np.ones(n, bool)),
                client="Buffer" if syndication else "Twitter Web App")
        role = "news_syndication" if syndication else "community_member"
        out.add("truth_roles", platform=SOCIAL, account_id=pa.array(ids[members], pa.string()), role=role)


def _syndication(rng, s, out):
    """Syndication networks: the accounts of one service (a paper's regional editions, a content
    farm's feeds) post each item of a shared feed, word for word with its link, or repost the
    account that posted it first, within minutes, round the clock."""
    o = s.organic
    start = clock.epoch_us(s.start)
    names = list(o.timezones)
    p = np.array(list(o.timezones.values()), dtype=float)
    for net in range(o.syndication_networks):
        zone = names[rng.choice(len(names), p=p / p.sum())]
        ids, _ = social_users(rng, s, out, o.syndication_size, "syndication_service",
                              np.full(o.syndication_size, zone, dtype=object))
        item_ts = start + rng.integers(0, s.days * clock.DAY_US, o.syndication_items)
        first = rng.integers(0, o.syndication_size, o.syndication_items)  # the member that posts an item first
        topics = rng.integers(0, len(text.TOPICS), o.syndication_items)
        headline, _ = text.sentences(rng, topics, np.full(o.syndication_items, text.NEUTRAL))
        site = f"feed{net}.example.net"
        links = pa.array([f"https://{site}/item/{k}" for k in range(o.syndication_items)], pa.string())
        item_text = text.join(headline, links)
        first_ids = snowflakes(rng, item_ts)
        # the rest of the network: 80 % carry each item, half by reposting the first post, half by posting it too
        carry = rng.random((o.syndication_items, o.syndication_size)) < 0.8
        carry[np.arange(o.syndication_items), first] = False
        item_i, member_i = np.nonzero(carry)
        ts = item_ts[item_i] + (rng.exponential(o.syndication_lag_minutes, len(item_i)) * 60_000_000).astype(np.int64)
        repost = rng.random(len(item_i)) < 0.5
        posts = np.concatenate([np.arange(o.syndication_items), item_i])  # the item each post carries
        posted_by = np.concatenate([first, member_i])
        is_repost = np.concatenate([np.zeros(o.syndication_items, bool), repost])
        post_ids = pa.concat_arrays([first_ids, snowflakes(rng, ts)])
        carried_text = pc.take(item_text, pa.array(posts))
        carried_link = pc.take(links, pa.array(posts))
        out.add("posts", platform=SOCIAL, post_id=post_ids, account_id=pa.array(ids[posted_by], pa.string()),
                ts=pa.array(np.concatenate([item_ts, ts]), pa.timestamp("us", tz="UTC")),
                kind=pa.array(np.where(is_repost, "repost", "post")),
                text=pc.if_else(pa.array(is_repost), pa.scalar(None, pa.string()), carried_text), lang="en",
                urls=pc.if_else(pa.array(is_repost), pa.scalar(None, pa.list_(pa.string())),
                                _lists(carried_link, np.ones(len(posts), bool))),
                target_post_id=pc.if_else(pa.array(is_repost), pc.take(first_ids, pa.array(posts)),
                                          pa.scalar(None, pa.string())),
                target_account_id=pc.if_else(pa.array(is_repost), pa.array(ids[first[posts]], pa.string()),
                                             pa.scalar(None, pa.string())),
                client="dlvr.it")


def organic_api(rng, s: Scenario, out: Tables) -> None:
    """Organic API customers and the traps among them."""
    o = s.organic
    n = o.api_customers
    if not n:
        return
    start, days = clock.epoch_us(s.start), s.days
    ids = hex_ids(rng, "acct_", n)
    ids_np = np.array(ids.to_pylist(), dtype=object)
    names = list(o.timezones)
    p = np.array(list(o.timezones.values()), dtype=float)
    zones = np.array(names, dtype=object)[rng.choice(len(names), n, p=p / p.sum())]
    # kinds: labs first (fixed size groups), then batch, vpn, self-posters, developers
    kind = np.full(n, "developer", dtype=object)
    lab = np.full(n, -1)
    lab_rows = min(o.corporate_labs * o.corporate_lab_size, n)
    lab[:lab_rows] = np.arange(lab_rows) // o.corporate_lab_size
    kind[:lab_rows] = "lab_developer"
    rest = np.arange(lab_rows, n)
    draw = rng.random(len(rest))
    cut1, cut2, cut3 = o.hosting_share, o.hosting_share + o.vpn_share, o.hosting_share + o.vpn_share + o.self_posting_share
    kind[rest[draw < cut1]] = "batch_job"
    kind[rest[(draw >= cut1) & (draw < cut2)]] = "vpn_user"
    kind[rest[(draw >= cut2) & (draw < cut3)]] = "self_poster"
    lab_zones = np.array(["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Europe/London",
                          "America/Los_Angeles"], dtype=object)
    zones = np.where(lab >= 0, lab_zones[np.maximum(lab, 0) % len(lab_zones)], zones)

    # infrastructure: residential sticky IPs; one office IP per lab; cloud for batch; shared VPN exits
    ip = np.empty(n, dtype=object)
    countries = country_of(zones)
    for country in np.unique(countries):
        rows = np.nonzero(countries == country)[0]
        keys = network.pool_keys(["residential", "mobile"], [country]) or network.pool_keys(["residential"], ["US"])
        ip[rows] = network.draw(rng, keys, len(rows)).to_pylist()
    labs = max(o.corporate_labs, 1)
    office = network.draw(rng, network.pool_keys(["business"], ["US", "DE"]), labs).to_pylist()
    ip[lab >= 0] = np.array(office, dtype=object)[lab[lab >= 0]]
    batch = kind == "batch_job"
    ip[batch] = network.draw(rng, network.pool_keys(["hosting"], ["US", "DE", "SG"]), batch.sum()).to_pylist()
    vpn = kind == "vpn_user"
    exits = network.draw(rng, ["vpn:any"], max(vpn.sum() // 5, 1)).to_pylist()
    ip[vpn] = np.array(exits, dtype=object)[rng.integers(0, len(exits), vpn.sum())]

    ua = np.array(choice(rng, USER_AGENTS, USER_AGENT_P, n).to_pylist(), dtype=object)
    ua[batch] = "python-requests/2.32.3"
    email = np.array(choice(rng, FREE_MAIL, FREE_MAIL_P, n).to_pylist(), dtype=object)
    own_domain = rng.random(n) < 0.2
    email[own_domain] = np.array([f"company{k}.example.com" for k in rng.integers(0, 300, own_domain.sum())], dtype=object)
    email[lab >= 0] = np.array([f"lab{k}.example.edu" for k in lab[lab >= 0]], dtype=object)
    card = np.array(hex_ids(rng, "pf_", n).to_pylist(), dtype=object)
    card[lab >= 0] = np.array([f"pf_lab{k:04d}" for k in lab[lab >= 0]], dtype=object)
    org = np.where(lab >= 0, np.array([f"org_lab{k}" for k in np.maximum(lab, 0)], dtype=object), None)
    out.add("accounts", platform=API, account_id=ids,
            created_at=pa.array(start - rng.integers(10, 900, n) * clock.DAY_US, pa.timestamp("us", tz="UTC")),
            org_id=pa.array(org.tolist(), pa.string()), email_domain=pa.array(email.tolist(), pa.string()),
            payment_fingerprint=pa.array(card.tolist(), pa.string()))
    out.add("truth_accounts", platform=API, account_id=ids, campaign=pa.nulls(n, pa.string()),
            role=pa.array(kind.tolist(), pa.string()))

    counts = heavy_tailed_counts(rng, o.calls_per_customer, n)
    counts[batch] *= 5
    who = np.repeat(np.arange(n), counts)
    m = len(who)
    ts = clock.organic_times(rng, start, days, zones[who])
    office_rows = np.nonzero(lab[who] >= 0)[0]
    for z in np.unique(zones[who][office_rows]) if len(office_rows) else []:
        rows = office_rows[zones[who][office_rows] == z]
        ts[rows] = clock.office_times(rng, start, days, str(z), [9, 18], [12, 13], [0, 1, 2, 3, 4], len(rows))
    batch_rows = np.nonzero(batch[who])[0]
    ts[batch_rows] = start + rng.integers(0, days * clock.DAY_US, len(batch_rows))  # round the clock

    langs = list(o.languages)
    lp = np.array(list(o.languages.values()), dtype=float)
    lang = np.array(langs, dtype=object)[rng.choice(len(langs), n, p=lp / lp.sum())][who]
    persona_call = (rng.random(m) < o.persona_prompt_share) | (kind[who] == "self_poster")
    persona_batch = np.zeros(n, bool)
    if o.batch_persona_share:  # batch jobs writing persona-voice copy: every call fills one persona template
        persona_batch = batch & (rng.random(n) < o.batch_persona_share)
        persona_call |= persona_batch[who]
    prompt = np.empty(m, dtype=object)
    output = np.empty(m, dtype=object)
    batch_template = rng.integers(0, 100, n)  # a batch job fills one template
    for language in np.unique(lang):
        rows = np.nonzero((lang == language) & ~persona_call)[0]
        templates = text.TASK_TEMPLATES[language]
        which = np.where(batch[who][rows], batch_template[who][rows] % len(templates), rng.integers(0, len(templates), len(rows)))
        prompt[rows] = text.fill(templates, which, {"subject": text.pick(rng, text.TASK_SUBJECTS, len(rows))}).to_pylist()
        output[rows] = text.pick(rng, text.TASK_OUTPUTS, len(rows)).to_pylist()
        rows = np.nonzero((lang == language) & persona_call)[0]
        if len(rows):
            templates = text.COMMENT_TEMPLATES[language]
            topics = rng.integers(0, len(text.TOPICS), len(rows))
            stances = np.where(topics >= len(text.NEUTRAL_TOPICS), rng.integers(0, 3, len(rows)), text.NEUTRAL)
            stance_words = np.array([text.STANCE_WORDS[language].get(st, text.STANCE_WORDS[language][text.BALANCED])
                                     for st in stances], dtype=object)
            which = rng.integers(0, len(templates), len(rows))
            if o.batch_persona_share:
                fixed = persona_batch[who][rows]
                which[fixed] = batch_template[who][rows][fixed] % len(templates)
            prompt[rows] = text.fill(templates, which, {
                "persona": text.pick(rng, text.ORGANIC_PERSONAS, len(rows)),
                "topic": pa.array(np.array(text.TOPICS, dtype=object)[topics].tolist(), pa.string()),
                "stance": pa.array(stance_words.tolist(), pa.string())}).to_pylist()
            output[rows] = text.sentences(rng, topics, stances)[0].to_pylist()
    call_ids = hex_ids(rng, "call_", m)
    rotate = (rng.random(m) < 0.05) & ~batch[who] & (lab[who] < 0)
    call_ip = ip[who].copy()
    if rotate.any():
        call_ip[rotate] = network.draw(rng, network.pool_keys(["mobile"], ["US", "GB"]), rotate.sum()).to_pylist()
    model = choice(rng, MODELS, MODELS_P, m)
    ua_calls = pa.array(ua[who].tolist(), pa.string())
    out.add("llm_calls", platform=API, call_id=call_ids, account_id=pa.array(ids_np[who], pa.string()),
            ts=pa.array(ts, pa.timestamp("us", tz="UTC")), api_key_id=pa.array(np.char.add("key_", ids_np[who].astype(str)).tolist()),
            ip=pa.array(call_ip.tolist(), pa.string()), user_agent=ua_calls, client_fingerprint=fingerprint(ua_calls),
            model=model, operation="chat", input_tokens=rng.integers(20, 800, m), output_tokens=rng.integers(10, 400, m),
            prompt=pa.array(prompt.tolist(), pa.string()), output=pa.array(output.tolist(), pa.string()), status="ok")

    # self-posters: their own social account posts what they generate (a benign provenance link)
    posters = np.nonzero(kind == "self_poster")[0]
    if len(posters):
        social_ids, _ = social_users(rng, s, out, len(posters), "self_poster_social", zones[posters])
        rows = np.nonzero((kind[who] == "self_poster") & persona_call)[0]
        rows = rows[rng.random(len(rows)) < 0.6]
        owner = np.searchsorted(posters, who[rows])
        post_ts = ts[rows] + (rng.uniform(5, 60, len(rows)) * 60_000_000).astype(np.int64)
        post_ids = snowflakes(rng, post_ts)
        out.add("posts", platform=SOCIAL, post_id=post_ids, account_id=pa.array(social_ids[owner], pa.string()),
                ts=pa.array(post_ts, pa.timestamp("us", tz="UTC")), kind="post",
                text=pa.array(output[rows].tolist(), pa.string()), lang="en", client="Twitter Web App")
        out.add("truth_provenance", post_platform=SOCIAL, post_id=post_ids, call_platform=API,
                call_id=pc.take(call_ids, pa.array(rows)), paraphrased=np.zeros(len(rows), bool))
        out.add("truth_links", api_platform=API, api_account_id=pa.array(ids_np[posters], pa.string()),
                social_platform=SOCIAL, persona_account_id=pa.array(social_ids.tolist(), pa.string()),
                campaign=pa.nulls(len(posters), pa.string()))


def _news_timing(rng, ts, topics, respond, news: dict, mean_hours: float):
    """Re-time responding posts to follow a news event on their topic by an exponential lag."""
    ts = ts.copy()
    for topic, event_ts in news.items():
        rows = np.nonzero(respond & (topics == topic))[0]
        if len(rows) and len(event_ts):
            picked = event_ts[rng.integers(0, len(event_ts), len(rows))]
            ts[rows] = picked + (rng.exponential(mean_hours, len(rows)) * clock.HOUR_US).astype(np.int64) + 60_000_000
    return ts


def _lists(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """[value] where keep, [] elsewhere."""
    n = len(values)
    offsets = np.concatenate(([0], np.cumsum(keep.astype(np.int32)))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pc.filter(values, pa.array(keep)))
