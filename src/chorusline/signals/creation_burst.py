"""creation_burst (features): accounts created in bursts, with templated handles and shared bios.

For each account (``accounts`` table, engine expressions):
- ``creation_burst:window_count`` — accounts of its platform created within ``window`` seconds of
  it (a range window over creation time), and ``creation_burst:burst_ratio`` — that count over what
  the platform's average creation rate would give in the same span (1 = ordinary, 10 = a batch);
- ``creation_burst:handle_name_digits`` — 1 when the handle is a name plus a run of digits
  (``ChloeBrown1756``, ``chris_river24``), the shape registration scripts produce;
- ``creation_burst:handle_digit_share`` — the share of digits in the handle (random strings);
- ``creation_burst:bio_shared`` — how many accounts carry the same bio (lower-cased, digits masked).
Organic populations have all of these too; what counts is their combination with other signals."""

from __future__ import annotations

from dataclasses import dataclass

import ibis


@dataclass(frozen=True)
class CreationBurstParams:
    window: int = 86_400  # seconds either side of an account's creation


def creation_burst_features(accounts: ibis.Table, params: CreationBurstParams = CreationBurstParams()) -> ibis.Table:
    a = accounts.filter(accounts.created_at.notnull())
    a = a.select(actor=a.platform.concat(":", a.account_id), platform=a.platform,
                 t=a.created_at.epoch_seconds().cast("int64"), handle=a.handle.fill_null(""),
                 bio=a.bio.fill_null("").lower().re_replace(r"\d+", "0").strip())
    near = ibis.window(group_by=a.platform, order_by=a.t, range=(-params.window, params.window))
    span = a.group_by("platform").aggregate(n=a.count(), lo=a.t.min(), hi=a.t.max())
    a = a.mutate(window_count=a.actor.count().over(near)).join(span, "platform")
    a = a.mutate(expected=a.n.cast("float64") * (2 * params.window)
                 / ibis.greatest(a.hi - a.lo, 2 * params.window).cast("float64"))
    bios = a.filter(a.bio != "").group_by("bio").aggregate(bio_shared=a.actor.nunique())
    a = a.left_join(bios, "bio").select(a, bio_shared=bios.bio_shared.fill_null(0))
    digits = a.handle.length() - a.handle.re_replace(r"\d", "").length()
    values = {
        "window_count": a.window_count.cast("float64"),
        "burst_ratio": a.window_count.cast("float64") / ibis.greatest(a.expected, ibis.literal(1.0)),
        "handle_name_digits": a.handle.re_search(r"^[A-Za-z]+[_.]?[A-Za-z]*\d{2,}$").cast("float64"),
        "handle_digit_share": digits.cast("float64") / ibis.greatest(a.handle.length(), 1).cast("float64"),
        "bio_shared": a.bio_shared.cast("float64"),
    }
    parts = [a.select("actor", feature=ibis.literal(f"creation_burst:{name}"), value=value,
                      evidence=ibis.literal("[]")) for name, value in values.items()]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out
