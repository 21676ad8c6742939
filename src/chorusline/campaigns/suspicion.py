"""How inauthentic each account looks on its own, from its per-account features (0..1 each).

Coordination alone is not a campaign: a fan club, a newsroom's syndication accounts, a class of
students share links within minutes too. What separates an operation is that its accounts are not
who they claim to be. Each indicator maps one feature family to 0..1 (the cut-offs are in
``SuspicionParams`` and docs/DETECTION.md):

- ``clock``: an office clock (working hours, lunch gap, weekdays) — far from the claimed place's
  clock counts fully (``offset_conflict`` / ``conflict_hours``, capped at 1), with no claimed place
  it counts half;
- ``creation``: registered in a burst — log10 of the burst ratio over the population's median burst
  ratio (10× what ordinary accounts show → 1);
- ``persona_prompts``: the share of the account's prompts that ask the model to write as someone;
- ``language``: posts off the claimed language. Prompts in another language than their outputs are
  not counted: customers who ask in their own language for English text (translation, writing help)
  do it all the time, so it told a Spanish-speaking developer from an operator no better than chance
  (on random scenarios benign API accounts showed it more often than operators' accounts);
- ``pivot``: the rise of the political share at the account's pivot, above what a steady mix shows;
- ``news``: the share of its news responses faster than the population's lower quartile, above
  the quarter chance gives;
- ``machine_text``: its posts read as machine-written (the AI-text detector, pooled over at least
  ``machine_min_posts`` posts): 0 at the detector's account threshold (where a human who writes 30 %
  of posts with an assistant stays 99 % of the time) or at the population's 90th percentile when
  that is higher (the detector's scale shifts with the platform's writing), rising by 1 over
  ``machine_full`` − ``machine_floor``. Without API logs it is
  the only evidence of generation; alone it never makes a campaign (the tiers need coordination);
- ``ghostwriting``: an API account whose outputs several personas post soon after generation, or a
  persona posting such an account's text (`signals.ghostwriting`): 0 when it writes for one persona
  only (a self-poster), 1 from ``ghostwriting_full`` personas. Nothing is measured for an account
  with no timely copies (most outputs are posted nowhere we can see).

An account's suspicion is the mean of the indicators it has (features need enough events);
``measured`` says whether it has any. An account with none is not "authentic": nothing about it
could be measured, and scoring treats it so (``score.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.aitext import ACCOUNT_THRESHOLD, MIN_POSTS

INDICATORS = ("clock", "creation", "persona_prompts", "language", "pivot", "news", "machine_text", "ghostwriting")


@dataclass(frozen=True)
class SuspicionParams:
    conflict_hours: float = 4.0
    pivot_floor: float = 0.2  # a steady mix shows pivot gains up to about this by chance
    news_floor: float = 0.25  # by definition a quarter of responses beat the lower quartile
    machine_floor: float = ACCOUNT_THRESHOLD  # pooled probability below which nothing is shown
    machine_full: float = 0.8  # pooled probability that counts fully (TweepFake bots pool at 0.58–0.79)
    machine_min_posts: int = MIN_POSTS  # fewer scored posts and the pooled value is noise
    machine_population_quantile: float = 0.9  # the floor is at least this quantile of the population's pooled values
    ghostwriting_full: float = 3.0  # personas one API account writes for that count fully (one: 0)


def _clip(x):
    """x clipped to 0..1, null kept null (SQL's GREATEST and LEAST skip nulls)."""
    return ibis.ifelse(x.isnull(), ibis.null("float64"), ibis.least(ibis.greatest(x, 0.0), 1.0))


def account_indicators(features: ibis.Table, params: SuspicionParams = SuspicionParams()) -> ibis.Table:
    """actor, one column per indicator (null where the account lacks the feature), suspicion."""
    f = features

    def value(name):
        return f.value.max(where=f.feature == name)

    wide = f.group_by("actor").aggregate(
        office=value("circadian:office_clock"), conflict=value("circadian:offset_conflict"),
        burst=value("creation_burst:burst_ratio"), persona=value("prompt_template:persona_instruction_share"),
        post_claimed=value("language_mismatch:post_claimed"),
        gain=value("lifecycle:pivot_gain"), fast=value("news_response:fast_share"),
        machine=value("machine_text:pooled_probability"), machine_posts=value("machine_text:posts"),
        writes_for=ibis.greatest(value("ghostwriting:personas"), value("ghostwriting:source_personas")))
    clock = ibis.ifelse(wide.conflict.isnull(), wide.office * 0.5,
                        wide.office * ibis.least(wide.conflict / params.conflict_hours, 1.0))
    # machine-like relative to this data's own population: where most accounts' text pools high (a
    # platform of formal writing; the simulator, whose every text is generated) the line moves up
    scored = wide.machine_posts.fill_null(0.0) >= params.machine_min_posts
    typical = wide.filter(scored).machine.quantile(params.machine_population_quantile)
    floor = ibis.greatest(ibis.literal(params.machine_floor), typical.fill_null(0.0))
    # registration bursts relative to this population's own: ordinary accounts sit at a burst ratio
    # of about 2 (a day's sign-ups are lumpy), which log10 alone turned into 0.3 for everyone
    usual_burst = ibis.greatest(wide.burst.median(), 1.0)
    indicators = {
        "clock": clock,
        # no registration dates, no burst ratio: not measured (a null), never "not bursty" (a 0)
        "creation": _clip(ibis.ifelse(wide.burst.isnull(), ibis.null("float64"),
                                      (ibis.ifelse(wide.burst > 0, wide.burst, 1e-9) / usual_burst).log10())),
        "persona_prompts": wide.persona,
        "language": wide.post_claimed,
        "pivot": _clip((wide.gain - params.pivot_floor) / (1.0 - params.pivot_floor)),
        "news": _clip((wide.fast - params.news_floor) / (1.0 - params.news_floor)),
        "machine_text": ibis.ifelse(scored, _clip((wide.machine - floor) / (params.machine_full - params.machine_floor)),
                                    ibis.null("float64")),
        "ghostwriting": _clip((wide.writes_for - 1.0) / (params.ghostwriting_full - 1.0)),
    }
    out = wide.select("actor", **indicators)
    present = sum((out[name].notnull().cast("float64") for name in INDICATORS), ibis.literal(0.0))
    total = sum((out[name].fill_null(0.0) for name in INDICATORS), ibis.literal(0.0))
    return out.mutate(suspicion=ibis.ifelse(present > 0, total / present, 0.0), measured=present > 0)
