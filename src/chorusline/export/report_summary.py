"""The top of the report: what was found, how sure it is, what to do next — and how to read the
scores. Written from the store's figures (campaigns, explanations, decisions) and the scoring
settings, never boilerplate: every sentence names a number the reader can find again below.

The explanation of the scores follows ``campaigns/score.py``, ``campaigns/suspicion.py`` and
docs/DETECTION.md §1 and §4; the numbers in it (threshold, flag line, coverage floor, the days
that make coordination sustained, the weight of an account's own evidence) are the settings
passed in, so a report written with another ``[score]`` config says so."""

from __future__ import annotations

from chorusline.campaigns.score import TIERS, ScoreParams
from chorusline.campaigns.suspicion import INDICATORS
from chorusline.export.report_html import e

TIER_WORDS = {TIERS[0]: "coordinated and not who they claim to be",
              TIERS[1]: "ties far beyond chance, day after day; authenticity not established"}
INDICATOR_WORDS = {
    "clock": "an office clock (working hours, lunch gap, weekdays) far from the hours of the place the account claims",
    "creation": "registered in a burst (10× the platform's usual rate counts fully)",
    "persona_prompts": "prompts that ask the model to write as someone",
    "language": "posts off the language of the place the account claims",
    "pivot": "turned political after a neutral start, more than a steady mix shows by chance",
    "news": "answers news faster than most accounts, more often than chance",
    "machine_text": "its posts read as machine-written (AI-text detector, pooled over 20+ posts)",
    "ghostwriting": "an API account whose text several personas post soon after it is generated, or a persona posting it",
}


def _n(value: int, one: str, many: str | None = None) -> str:
    return f"{value:,} {one if value == 1 else (many or one + 's')}"


def _decision_line(d: dict | None) -> str:
    if not d:
        return "not decided yet"
    when = d["ts"].strftime("%Y-%m-%d %H:%M UTC") if hasattr(d["ts"], "strftime") else str(d["ts"])
    verb = {"confirm": "confirmed", "dismiss": "dismissed", "needs-more": "parked for more evidence"}.get(
        d["decision"], d["decision"])
    note = f" (“{e(d['note'])}”)" if d.get("note") else ""
    return f"<b>{verb}</b> by {e(d['analyst'])} on {when}{note}"


def _sureness(c: dict, x: dict, params: ScoreParams) -> str:
    """How sure, in words: the margin over the threshold, what the tier rests on, the strongest ties."""
    margin = c["score"] - params.campaign_threshold
    if c["tier"] == TIERS[0]:
        basis = (f"authenticity measured on {c['coverage']:.0%} of the core (at least {params.min_coverage:.0%} "
                 f"needed): coordination {c['coordination']:.2f} × inauthenticity {c['inauthenticity']:.2f}")
    else:
        basis = (f"authenticity measured on only {c['coverage']:.0%} of the core (under {params.min_coverage:.0%}), "
                 f"so the score is coordination {c['coordination']:.2f} sustained over {c['active_days']} days: "
                 "the accounts act together far beyond chance, but nothing shows yet that they are not who they claim")
    strong = sorted(x["signals"], key=lambda s: (-s["mean_evidence"] * s["accounts"], s["signal"]))[:3]
    ties = ", ".join(f"{s['signal']} ({s['accounts']:,} accounts, mean evidence {s['mean_evidence']:.2f})"
                     for s in strong)
    flagged_share = c["flagged"] / c["size"] if c["size"] else 0.0
    return (f"Score {c['score']:.2f}, {margin:+.2f} from the report threshold {params.campaign_threshold:.2f}; "
            f"{basis}. "
            f"Strongest ties: {e(ties) or 'none'}. {flagged_share:.0%} of its {c['size']:,} members reach the "
            f"flag line ({min(params.flag_threshold, params.flag_fraction * c['score']):.2f}); members under it, "
            "or in a knot that would not be reported on its own, are not flagged.")


def summary_section(rows: list[dict], reported: list[int], explained: dict[int, dict], decisions: dict[int, dict],
                    enforcement_rows: dict[int, int], params: ScoreParams) -> str:
    """``<section id='summary'>``: what was found, how sure, what to do next.

    rows: every campaign row (reported or not); reported: the ids in this report; explained: their
    ``explain`` output; decisions: the latest decision per campaign id; enforcement_rows: accounts
    on the enforcement list per confirmed campaign."""
    by_id = {r["campaign_id"]: r for r in rows}
    camps = [by_id[c] for c in reported]
    tiers = {t: sum(1 for c in camps if c["tier"] == t) for t in TIERS[:2]}
    flagged = sum(c["flagged"] for c in camps)
    members = sum(c["size"] for c in camps)
    unreported = [r for r in rows if r["tier"] == TIERS[2]]
    found = [f"<p><b>{_n(len(camps), 'campaign')}</b> in this report, out of {_n(len(rows), 'cluster')} the "
             f"detection found: {tiers[TIERS[0]]} <span class='tier-inauthentic'>inauthentic</span>, "
             f"{tiers[TIERS[1]]} <span class='tier-coordinated'>coordinated</span> (authenticity not established). "
             f"<b>{flagged:,} accounts flagged</b> of {members:,} members.</p>"]
    if unreported:
        best = max(unreported, key=lambda r: r["score"])
        found.append(f"<p class='muted'>{_n(len(unreported), 'cluster')} stayed below the line; the closest, "
                     f"cluster {best['campaign_id']}, scored {best['score']:.2f}: {e(best['verdict'])}.</p>")
    out_of_report = [r for r in rows if r["tier"] != TIERS[2] and r["campaign_id"] not in reported]
    if out_of_report:
        found.append(f"<p class='muted'>Reported but left out of this file (--campaign): "
                     f"{', '.join(str(r['campaign_id']) for r in out_of_report)}.</p>")
    cards, next_steps = [], []
    for cid in reported:
        c, x = by_id[cid], explained[cid]
        links = x["links"]
        api = links.get("api_accounts", 0)
        linked = (f"{_n(links['links'], 'link')}: {_n(api, 'API account')} {'writes' if api == 1 else 'write'} for "
                  f"{_n(links.get('personas', 0), 'persona')}" if links["links"] else "no API account ↔ persona link")
        recruited = (f"; {_n(links['recruited_personas'], 'persona')} joined through those links alone"
                     if links.get("recruited_personas") else "")
        across = "".join(f"; {o['links']:,} links reach campaign {o['campaign_id']} (likely the same operation)"
                         for o in links.get("linked_campaigns", []))
        tier_class = "tier-inauthentic" if c["tier"] == TIERS[0] else "tier-coordinated"
        cards.append(
            f"<li><a href='#campaign-{cid}'><b>Campaign {cid}</b></a> — <span class='{tier_class}'>{e(c['tier'])}"
            f"</span>, score {c['score']:.2f}: <b>{c['flagged']:,} flagged</b> of {c['size']:,} members "
            f"({_n(c['api_accounts'], 'API account')}, {_n(c['social_accounts'], 'social account')}); {linked}"
            f"{recruited}{across}. Status: {_decision_line(decisions.get(cid))}.<br>"
            f"<span class='muted'>How sure: {_sureness(c, x, params)}</span></li>")
        d = decisions.get(cid)
        if d is None:
            next_steps.append(
                f"<li>Campaign {cid}: read its evidence below, then record the decision — "
                f"<code>chorusline decide confirm --campaign {cid} --analyst YOU --note WHY --db DB</code> "
                f"(or <code>decide dismiss</code>). Its {c['flagged']:,} flagged accounts are listed at "
                f"<a href='#enforcement-{cid}'>the end of the campaign</a> as a proposal until then.</li>")
        elif d["decision"] == "confirm":
            n = enforcement_rows.get(cid, 0)
            next_steps.append(
                f"<li>Campaign {cid} is confirmed: {_n(n, 'account')} to suspend "
                f"(<a href='#enforcement-{cid}'>enforcement list</a>; as CSV: "
                f"<code>chorusline enforce --db DB --out enforcement.csv</code>). Share it: "
                f"<code>chorusline export stix --campaign {cid} --db DB</code>, <code>export misp</code>, "
                f"<code>export indicators</code>; keep watching with <code>chorusline watchlist --db DB</code> then "
                f"<code>chorusline match --db DB</code>.</li>")
        elif d["decision"] == "needs-more":
            next_steps.append(
                f"<li>Campaign {cid} was parked for more evidence: read the sections below for what is missing, "
                f"then <code>chorusline decide confirm|dismiss --campaign {cid} --analyst YOU --db DB</code>.</li>")
        else:
            next_steps.append(f"<li>Campaign {cid} was dismissed; nothing to enforce. A new decision supersedes it "
                              "(the history stays).</li>")
    linked_api = sum(explained[c]["links"].get("api_accounts", 0) for c in reported)
    linked_personas = sum(explained[c]["links"].get("personas", 0) for c in reported)
    undecided = sum(1 for c in reported if c not in decisions)
    tiles = [(len(camps), "campaigns reported"), (f"{flagged:,}", "accounts flagged"),
             (f"{linked_api:,} ↔ {linked_personas:,}", "API accounts ↔ personas they write for"),
             (undecided, "campaigns awaiting a decision")]
    figures = "<div class='figures'>" + "".join(f"<div class='figure'><b>{v}</b>{e(label)}</div>"
                                                 for v, label in tiles) + "</div>"
    return ("<section id='summary' class='report-section summary'><h2>Summary</h2>" + figures +
            "<h3>What was found</h3>" + "".join(found) + f"<ul>{''.join(cards)}</ul>"
            "<h3>What to do next</h3>" + f"<ul>{''.join(next_steps)}</ul>"
            "<p class='muted'>A score is evidence for a decision, not the decision: every flagged account should "
            "be read with the reasons given beside it before anything is suspended. "
            "<a href='#scores-explained'>How to read the scores</a>.</p></section>")


def scores_explained(params: ScoreParams) -> str:
    """``<section id='scores-explained'>``: the 0–1 numbers, the threshold and the tiers in plain words."""
    f = params.flag_threshold
    terms = [
        ("0 to 1", "Every score here runs from 0 (no evidence) to 1 (as strong as the method gets). A score is "
                   "not a probability that the campaign exists: it multiplies how tightly the accounts are tied "
                   "by how inauthentic they look."),
        ("evidence of a tie", "For each signal (shared call output, shared IP prefix, near-duplicate posts, "
                              "synchronised activity …) two accounts' shared events are compared with what chance "
                              "would give two accounts as active as they are: evidence = 1 − "
                              "e<sup>−(excess over chance / 3 events)</sup> (an excess of rare keys, such as a "
                              "little-used IP prefix, weighs more than one of common keys), 0 when they share no "
                              "more than chance, capped at 0.99. <b>Mean "
                              "evidence</b> in a campaign's signal table is the average over the pairs that "
                              "signal ties. Different signal families are independent witnesses and combine: two "
                              "at 0.6 make 0.84."),
        ("coordination", "How tightly the campaign's core is tied: each core member's tie is "
                         "1 − e<sup>−(its summed "
                         "fused ties inside the campaign)</sup>, and coordination is their mean. 0.6 is one solid tie "
                         "each; near 1, several strong ones each."),
        ("inauthenticity", "How much the measured core members look like something other than who they claim "
                           "to be: the mean of each account's indicators (0–1 each): "
                           + "; ".join(f"<i>{n.replace('_', ' ')}</i>: {INDICATOR_WORDS[n]}" for n in INDICATORS)
                           + ". An account's suspicion is the mean of the indicators it has."),
        ("coverage", f"The share of core members with at least one indicator measured. Under "
                     f"{params.min_coverage:.0%} authenticity counts as not measured: an account with no indicator "
                     "is unknown, not authentic."),
        ("campaign score", f"Where coverage is at least {params.min_coverage:.0%}: coordination × inauthenticity. "
                           f"Where it is lower: coordination × sustained (1 when the strong ties fired on "
                           f"{params.min_active_days} or more different days, else 0: one evening's burst is not "
                           "an operation)."),
        ("report threshold", f"A cluster is reported when its score is at least <b>{params.campaign_threshold:.2f}"
                             f"</b> and at least one member is flagged."),
        ("tiers", f"<span class='tier-inauthentic'>inauthentic</span> — {TIER_WORDS[TIERS[0]]} (measured, score "
                  f"≥ {params.campaign_threshold:.2f}). <span class='tier-coordinated'>coordinated</span> — "
                  f"{TIER_WORDS[TIERS[1]]} (not measured, score ≥ {params.campaign_threshold:.2f}). "
                  "<i>not reported</i> — measured and authentic (a fan club, a newsroom) or a single burst."),
        ("member score", f"campaign score × the member's tie × ({1 - params.own_weight:.1f} + "
                         f"{params.own_weight:.1f} × its own suspicion); a member at the periphery (many weak "
                         "ties, no strong one) gets no floor: campaign score × tie × own suspicion. In the "
                         "coordinated tier own suspicion counts as 1 (ties are the evidence). A persona recruited "
                         "through the campaign's API links scores campaign score × "
                         "(1 − e<sup>−posts carried</sup>). "
                         f"<b>Flagged</b> at {f:.2f} or more, or at {params.flag_fraction:.0%} of its campaign's "
                         "score when that is lower (a campaign just over the line, whose usual member is as "
                         "suspicious as the campaign): an ordinary account at a campaign's edge scores low. A "
                         "knot of a reported campaign that would not be reported on its own (colleagues behind "
                         "one office address tied into it) is not flagged."),
    ]
    body = "".join(f"<dt>{name}</dt><dd>{text}</dd>" for name, text in terms)
    return ("<section id='scores-explained' class='report-section'><h2>How to read the scores</h2>"
            f"<dl class='terms'>{body}</dl><p class='muted'>The settings are those of <code>[score]</code> in "
            "<code>chorusline.toml</code> (docs/DETECTION.md §4); this report was written with the ones shown.</p>"
            "</section>")
