"""One influence operation: operators on one working clock run API accounts that reach the API through
hosting/VPN networks in third countries, prompt in their language for English commentary in the voice
of personas, and post the outputs through social personas claiming Western locations. Personas build
credibility with neutral posts, pivot to politics, answer the news, amplify each other within minutes,
mix in spam, and part of the operation returns with new accounts after a ban wave."""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.sim import clock, network, text
from chorusline.sim.organic import Originals, _lists
from chorusline.sim.population import (
    API, BIOS, FREE_MAIL, FREE_MAIL_P, SOCIAL, Tables, choice, fingerprint, heavy_tailed_counts, hex_ids, handles,
    snowflakes,
)
from chorusline.sim.scenario import PLACES, Campaign, Scenario


def generate(rng, s: Scenario, c: Campaign, out: Tables, news: dict) -> None:
    """One operation: a single cell, or ``c.cells`` independent cells generated one after the other."""
    bank = text.COMMENT_TEMPLATES[c.prompt_language]
    # the operation's own few templates: fixed per campaign name (a stable hash, not Python's salted one)
    templates = np.random.default_rng(zlib.crc32(c.name.encode())).permutation(len(bank))[: c.prompt_templates]
    if c.cells == 1:
        _cell(rng, s, c, out, news, templates, cell=0, first_operator=0)
        return
    first_operator = 0
    for k, cell in enumerate(split_cells(c)):
        # the templates are dealt out like the rest; with fewer templates than cells, cells share one
        own = templates[k * len(templates) // c.cells: (k + 1) * len(templates) // c.cells]
        _cell(rng, s, cell, out, news, own if len(own) else templates[[k % len(templates)]], cell=k,
              first_operator=first_operator)
        first_operator += cell.operators


def split_cells(c: Campaign) -> list[Campaign]:
    """The operation's cells: its operators, API accounts, personas, address pool and payment cards
    dealt out as evenly as they go (each cell at least one of each), each cell on its own clock zone
    when ``cell_zones`` names one."""
    def share(total: int, k: int) -> int:
        return max(1, total // c.cells + (k < total % c.cells))

    return [dataclasses.replace(c, cells=1, operators=share(c.operators, k), api_accounts=share(c.api_accounts, k),
                                personas=share(c.personas, k), ip_pool_size=share(c.ip_pool_size, k),
                                payment_cards=share(c.payment_cards, k),
                                operator_tz=c.cell_zones[k % len(c.cell_zones)] if c.cell_zones else c.operator_tz)
            for k in range(c.cells)]


def _cell(rng, s: Scenario, c: Campaign, out: Tables, news: dict, templates: np.ndarray, cell: int,
          first_operator: int) -> None:
    """A cell of an operation (the whole operation when it has one): its accounts, posts and calls.
    ``first_operator`` numbers its operators after the earlier cells' in the truth."""
    start, days = clock.epoch_us(s.start), s.days
    ban = c.ban_wave
    ban_day = ban.day if ban.day is not None else days

    # --- API accounts (originals, then successors of suspended ones) ---------------------------------
    n_api = c.api_accounts
    api_operator = np.arange(n_api) % c.operators
    api_suspended = (rng.random(n_api) < ban.suspended_fraction) & (ban.day is not None)
    api_returns = api_suspended & (rng.random(n_api) < ban.return_fraction)
    succ_of = np.nonzero(api_returns)[0]
    n_succ = len(succ_of)
    all_api = n_api + n_succ
    api_ids = np.array(hex_ids(rng, "acct_", all_api).to_pylist(), dtype=object)
    api_from = np.concatenate([np.zeros(n_api, int), np.full(n_succ, ban_day + ban.return_delay_days)])
    api_to = np.concatenate([np.where(api_suspended, ban_day, days), np.full(n_succ, days)])
    operator = np.concatenate([api_operator, api_operator[succ_of]])
    cards = np.array(hex_ids(rng, "pf_", c.payment_cards).to_pylist(), dtype=object)
    card = cards[np.concatenate([rng.integers(0, c.payment_cards, n_api), rng.integers(0, c.payment_cards, n_succ)])]
    created = np.concatenate([
        start - 10 * clock.DAY_US + (rng.random(n_api) * c.creation_burst_days * clock.DAY_US).astype(np.int64),
        start + (ban_day + ban.return_delay_days - 1) * clock.DAY_US
        + (rng.random(n_succ) * c.creation_burst_days * clock.DAY_US).astype(np.int64)])
    out.add("accounts", platform=API, account_id=pa.array(api_ids.tolist(), pa.string()),
            created_at=pa.array(created, pa.timestamp("us", tz="UTC")),
            email_domain=choice(rng, FREE_MAIL, FREE_MAIL_P, all_api), payment_fingerprint=pa.array(card.tolist()))
    roles = np.array(["operator_api"] * n_api + ["returning_api"] * n_succ, dtype=object)
    predecessor = np.concatenate([np.full(n_api, None, dtype=object), api_ids[succ_of]])
    _truth_accounts(out, API, api_ids, c.name, cell, roles, first_operator + operator, api_from, api_to,
                    np.concatenate([api_suspended, np.zeros(n_succ, bool)]), predecessor, start)

    # the operation's egress: a pool of real hosting/VPN addresses in third countries
    pool = np.array(network.draw(rng, network.pool_keys(c.network_types, c.egress_countries), c.ip_pool_size).to_pylist(),
                    dtype=object)
    sticky = rng.integers(0, len(pool), all_api)

    # --- personas ----------------------------------------------------------------------------------
    n_p = c.personas
    p_suspended = (rng.random(n_p) < ban.suspended_fraction) & (ban.day is not None)
    p_returns = p_suspended & (rng.random(n_p) < ban.return_fraction)
    p_succ_of = np.nonzero(p_returns)[0]
    all_p = n_p + len(p_succ_of)
    first_day = np.concatenate([rng.integers(0, 7, n_p), np.full(len(p_succ_of), ban_day + ban.return_delay_days)])
    last_day = np.concatenate([np.where(p_suspended, ban_day, days), np.full(len(p_succ_of), days)])
    pivot = first_day + np.concatenate([c.credibility_days + rng.integers(0, 5, n_p), rng.integers(0, 3, len(p_succ_of))])
    home_api = rng.integers(0, n_api, n_p)
    p_api = np.concatenate([home_api, home_api[p_succ_of]])
    countries = list(c.persona_locations)
    cp = np.array(list(c.persona_locations.values()), dtype=float)
    country = np.array(countries, dtype=object)[rng.choice(len(countries), all_p, p=cp / cp.sum())]
    cities = np.array([PLACES[k][j % len(PLACES[k])][0] for k, j in zip(country, rng.integers(0, 6, all_p))], dtype=object)
    persona_desc = rng.integers(0, len(text.CAMPAIGN_PERSONAS), all_p)
    p_created = start + (first_day - 3) * clock.DAY_US + (rng.random(all_p) * c.creation_burst_days * clock.DAY_US).astype(np.int64)
    p_ids = np.array(snowflakes(rng, p_created).to_pylist(), dtype=object)
    out.add("accounts", platform=SOCIAL, account_id=pa.array(p_ids.tolist(), pa.string()),
            created_at=pa.array(p_created, pa.timestamp("us", tz="UTC")), handle=handles(rng, all_p, templated=0.8),
            display_name=handles(rng, all_p, templated=1.0), bio=choice(rng, BIOS[:-1], None, all_p),
            claimed_location=pa.array(cities.tolist(), pa.string()), claimed_language="en",
            followers=np.round(rng.lognormal(4.0, 1.0, all_p)).astype(np.int64),
            following=np.round(rng.lognormal(5.8, 0.6, all_p)).astype(np.int64))
    p_roles = np.array(["persona"] * n_p + ["returning_persona"] * len(p_succ_of), dtype=object)
    p_pred = np.concatenate([np.full(n_p, None, dtype=object), p_ids[p_succ_of]])
    _truth_accounts(out, SOCIAL, p_ids, c.name, cell, p_roles, first_operator + operator[p_api], first_day, last_day,
                    np.concatenate([p_suspended, np.zeros(len(p_succ_of), bool)]), p_pred, start)

    # --- the persona's own posts, on the operators' clock ---------------------------------------------
    counts = heavy_tailed_counts(rng, c.posts_per_persona, all_p, sigma=0.8)
    author = np.repeat(np.arange(all_p), counts)
    m = len(author)
    ts = clock.office_times(rng, start, days, c.operator_tz, c.work_hours, c.lunch_break, c.work_days, m,
                            day_lo=first_day[author], day_hi=last_day[author], jitter_hours=c.evasion.timing_jitter_hours)
    day = (ts - start) // clock.DAY_US
    political = day >= pivot[author]
    spam = political & (rng.random(m) < c.spam_share)
    pivot_codes = np.array([text.TOPICS.index(t) for t in c.pivot_topics])
    topics = np.where(political, pivot_codes[rng.integers(0, len(pivot_codes), m)], rng.integers(0, len(text.NEUTRAL_TOPICS), m))
    own = text.PRO if c.stance == "pro" else text.ANTI
    stances = np.where(political, np.where(rng.random(m) < c.balanced_share, text.BALANCED, own), text.NEUTRAL)
    respond = political & ~spam & (rng.random(m) < c.news_response_share)
    # answering the news moves a political post in time, but never before the persona's pivot
    ts = _respond_to_news(rng, ts, topics, respond, news, c.news_response_hours, start, pivot[author], last_day[author])

    # --- an LLM call wrote each non-spam post -------------------------------------------------------------
    linked: list[tuple[np.ndarray, np.ndarray]] = []  # (API account, persona) of every post an output became
    written = np.nonzero(~spam)[0]
    output, parts = text.sentences(rng, topics[written], stances[written])
    post_text = np.empty(m, dtype=object)
    paraphrased = rng.random(len(written)) < c.paraphrase_rate
    rewritten = text.render(rng, parts)
    post_text[written] = pc.if_else(pa.array(paraphrased), rewritten, output).to_pylist()
    spam_rows = np.nonzero(spam)[0]
    spam_text, spam_url = text.spam(rng, len(spam_rows))
    post_text[spam_rows] = spam_text.to_pylist()
    call_lag = (rng.lognormal(np.log(15), 0.8, len(written)) * 60_000_000).astype(np.int64) + 30_000_000
    call_ts = ts[written] - call_lag
    call_api = _api_at(p_api[author[written]], call_ts, start, api_from, api_to, operator, rng)
    prompts = _prompts(rng, c, templates, topics[written], stances[written], persona_desc[author[written]])
    call_ids = _calls(rng, c, out, api_ids, call_api, call_ts, pool, sticky, prompts, pa.array(output), "chat")
    linked.append((call_api, author[written]))
    post_ids = snowflakes(rng, ts)
    urls = pc.if_else(pa.array(spam), _lists(_scatter(spam_url, spam_rows, m), spam),
                      pa.scalar([], pa.list_(pa.string())))
    out.add("posts", platform=SOCIAL, post_id=post_ids, account_id=pa.array(p_ids[author].tolist(), pa.string()),
            ts=pa.array(ts, pa.timestamp("us", tz="UTC")), kind="post",
            text=pa.array(post_text.tolist(), pa.string()), lang="en", urls=urls, client="Twitter Web App")
    out.add("truth_provenance", post_platform=SOCIAL, post_id=pc.take(post_ids, pa.array(written)), call_platform=API,
            call_id=call_ids, paraphrased=paraphrased)

    # copypasta: one output posted again by other personas of the same API account
    copy = np.nonzero(rng.random(len(written)) < c.copypasta_share)[0]
    if len(copy):
        same_api = p_api[author[written[copy]]]
        by_api = {a: np.nonzero(p_api == a)[0] for a in np.unique(same_api)}
        other = np.array([rng.choice(by_api[a]) for a in same_api])
        copy_ts = ts[written[copy]] + (rng.exponential(45, len(copy)) * 60_000_000).astype(np.int64) + 60_000_000
        copy_day = (copy_ts - start) // clock.DAY_US
        alive = (copy_day < last_day[other]) & (copy_day >= first_day[other])
        alive &= ~political[written[copy]] | (copy_day >= pivot[other])  # no politics before a persona's pivot
        copy, other, copy_ts = copy[alive], other[alive], copy_ts[alive]
        copy_ids = snowflakes(rng, copy_ts)
        linked.append((call_api[copy], other))
        out.add("posts", platform=SOCIAL, post_id=copy_ids, account_id=pa.array(p_ids[other].tolist(), pa.string()),
                ts=pa.array(copy_ts, pa.timestamp("us", tz="UTC")), kind="post",
                text=pa.array(post_text[written[copy]].tolist(), pa.string()), lang="en", client="Twitter Web App")
        out.add("truth_provenance", post_platform=SOCIAL, post_id=copy_ids, call_platform=API,
                call_id=pc.take(call_ids, pa.array(copy)), paraphrased=paraphrased[copy])

    # amplification: other personas repost (or reply to) political posts within minutes
    originals = np.nonzero(political & ~spam)[0]
    amplified = originals[rng.random(len(originals)) < c.amplification_probability]
    k = rng.integers(1, 4, len(amplified))
    src = np.repeat(amplified, k)
    amp_ts = ts[src] + (rng.exponential(c.amplification_lag_minutes, len(src)) * 60_000_000).astype(np.int64) + 5_000_000
    who = rng.integers(0, all_p, len(src))
    amp_day = (amp_ts - start) // clock.DAY_US
    # amplifiers are live personas past their own pivot (the content is political)
    ok = (who != author[src]) & (amp_day < last_day[who]) & (amp_day >= pivot[who])
    src, amp_ts, who = src[ok], amp_ts[ok], who[ok]
    reply = rng.random(len(src)) < 0.3
    amp_text = np.full(len(src), None, dtype=object)
    reply_rows = np.nonzero(reply)[0]
    if len(reply_rows):
        r_out, _ = text.sentences(rng, topics[src[reply_rows]], stances[src[reply_rows]])
        r_call_ts = amp_ts[reply_rows] - (rng.uniform(1, 5, len(reply_rows)) * 60_000_000).astype(np.int64)
        r_api = _api_at(p_api[who[reply_rows]], r_call_ts, start, api_from, api_to, operator, rng)
        r_prompts = _prompts(rng, c, templates, topics[src[reply_rows]], stances[src[reply_rows]],
                             persona_desc[who[reply_rows]])
        r_calls = _calls(rng, c, out, api_ids, r_api, r_call_ts, pool, sticky, r_prompts, r_out, "chat")
        amp_text[reply_rows] = r_out.to_pylist()
        linked.append((r_api, who[reply_rows]))
    amp_ids = snowflakes(rng, amp_ts)
    out.add("posts", platform=SOCIAL, post_id=amp_ids, account_id=pa.array(p_ids[who].tolist(), pa.string()),
            ts=pa.array(amp_ts, pa.timestamp("us", tz="UTC")), kind=pa.array(np.where(reply, "reply", "repost")),
            text=pa.array(amp_text.tolist(), pa.string()), lang="en",
            target_post_id=pc.take(post_ids, pa.array(src)), target_account_id=pa.array(p_ids[author[src]].tolist(), pa.string()),
            client="Twitter Web App")
    if len(reply_rows):
        out.add("truth_provenance", post_platform=SOCIAL, post_id=pc.take(amp_ids, pa.array(reply_rows)),
                call_platform=API, call_id=r_calls, paraphrased=np.zeros(len(reply_rows), bool))

    # image calls: profile pictures for the personas
    n_img = int(round(c.image_share * len(written)))
    if n_img:
        img_p = rng.integers(0, all_p, n_img)
        img_ts = clock.office_times(rng, start, days, c.operator_tz, c.work_hours, c.lunch_break, c.work_days, n_img,
                                    day_lo=np.maximum(first_day[img_p] - 3, 0), day_hi=np.maximum(first_day[img_p], 1))
        img_api = _api_at(p_api[img_p], img_ts, start, api_from, api_to, operator, rng)
        persona_names = pa.array(np.array(text.CAMPAIGN_PERSONAS, dtype=object)[persona_desc[img_p]].tolist())
        img_prompt = pc.binary_join_element_wise("A realistic profile photo of ", persona_names,
                                                 ", natural light, smartphone picture", "")
        _calls(rng, c, out, api_ids, img_api, img_ts, pool, sticky, img_prompt, pa.nulls(n_img, pa.string()), "image")

    # who wrote for whom (the API account <-> persona links)
    pairs = np.unique(np.concatenate([np.stack(pair) for pair in linked], axis=1), axis=1) if linked else np.zeros((2, 0), int)
    out.add("truth_links", api_platform=API, api_account_id=pa.array(api_ids[pairs[0]].tolist(), pa.string()),
            social_platform=SOCIAL, persona_account_id=pa.array(p_ids[pairs[1]].tolist(), pa.string()), campaign=c.name)


def _prompts(rng, c: Campaign, templates: np.ndarray, topics, stances, persona_desc) -> pa.Array:
    """Prompts filling the cell's ``templates`` (indices into the operation's language's bank)."""
    which = templates[rng.integers(0, len(templates), len(topics))]
    words = np.array([text.STANCE_WORDS[c.prompt_language][k] for k in (text.PRO, text.ANTI, text.BALANCED)], dtype=object)
    return text.fill(text.COMMENT_TEMPLATES[c.prompt_language], which, {
        "persona": pa.array(np.array(text.CAMPAIGN_PERSONAS, dtype=object)[persona_desc].tolist(), pa.string()),
        "topic": pa.array(np.array(text.TOPICS, dtype=object)[topics].tolist(), pa.string()),
        "stance": pa.array(words[np.minimum(stances, 2)].tolist(), pa.string())})


def _calls(rng, c: Campaign, out: Tables, api_ids, who, ts, pool, sticky, prompts, outputs, operation) -> pa.Array:
    n = len(who)
    rotate = rng.random(n) < c.evasion.ip_rotation
    ip = np.where(rotate, pool[rng.integers(0, len(pool), n)], pool[sticky[who]])
    ids = hex_ids(rng, "call_", n)
    ua = pa.array([c.user_agent] * n, pa.string())
    out.add("llm_calls", platform=API, call_id=ids, account_id=pa.array(api_ids[who].tolist(), pa.string()),
            ts=pa.array(ts, pa.timestamp("us", tz="UTC")),
            api_key_id=pa.array(np.char.add("key_", api_ids[who].astype(str)).tolist()), ip=pa.array(ip.tolist(), pa.string()),
            user_agent=ua, client_fingerprint=fingerprint(ua), model=c.model if operation == "chat" else "gpt-image-1",
            operation=operation, input_tokens=rng.integers(30, 200, n),
            output_tokens=rng.integers(20, 120, n) if operation == "chat" else np.zeros(n, np.int64),
            prompt=prompts, output=outputs, status="ok")
    return ids


def _api_at(home, ts, start, api_from, api_to, operator, rng) -> np.ndarray:
    """The API account a persona's text comes from at time ts: its own while that account lives,
    else another live account of the same operator (a successor after a ban)."""
    day = (ts - start) // (86_400_000_000)
    out = home.copy()
    dead = (day >= api_to[home]) | (day < api_from[home])
    for i in np.nonzero(dead)[0]:
        alive = np.nonzero((operator == operator[home[i]]) & (api_from <= day[i]) & (day[i] < api_to))[0]
        if len(alive):
            out[i] = alive[rng.integers(0, len(alive))]
    return out


def _respond_to_news(rng, ts, topics, respond, news, mean_hours, start, lo_day, hi_day):
    ts = ts.copy()
    for topic, event_ts in news.items():
        rows = np.nonzero(respond & (topics == topic))[0]
        if not len(rows) or not len(event_ts):
            continue
        picked = event_ts[rng.integers(0, len(event_ts), len(rows))]
        candidate = picked + (rng.exponential(mean_hours, len(rows)) * clock.HOUR_US).astype(np.int64) + 300_000_000
        day = (candidate - start) // clock.DAY_US
        ok = (day >= lo_day[rows]) & (day < hi_day[rows])
        ts[rows[ok]] = candidate[ok]
    return ts


def _scatter(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    full = np.full(n, None, dtype=object)
    full[rows] = values.to_pylist()
    return pa.array(full.tolist(), pa.string())


def _truth_accounts(out: Tables, platform, ids, campaign, cell, roles, operator, from_day, to_day, suspended, predecessor,
                    start):
    out.add("truth_accounts", platform=platform, account_id=pa.array(ids.tolist(), pa.string()), campaign=campaign,
            cell=pa.array(np.full(len(ids), cell), pa.int64()),
            role=pa.array(roles.tolist(), pa.string()),
            operator=pa.array([f"{campaign}/op{k}" for k in operator], pa.string()),
            active_from=pa.array(start + from_day * clock.DAY_US, pa.timestamp("us", tz="UTC")),
            active_to=pa.array(start + to_day * clock.DAY_US, pa.timestamp("us", tz="UTC")),
            suspended=suspended, predecessor=pa.array(list(predecessor), pa.string()))
