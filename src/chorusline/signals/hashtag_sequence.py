"""hashtag_sequence: accounts posting the same ordered sequence of hashtags.

Scripted posting reuses a hashtag block verbatim ("#a #b #c" in that order); people who use the
same tags order them differently and rarely the same two or more. A post's sequence is its
hashtags lower-cased in order (at least ``min_tags``); two accounts are tied once per post pair
with the same sequence within ``time_window`` seconds (the co-share machinery, with the sequence
as the object, so a popular sequence costs its within-window pairs, not all its pairs)."""

from __future__ import annotations

import ibis

from chorusline.signals.coshare import CoshareParams, coshare_edges

SIGNAL = "hashtag_sequence"


def hashtag_sequences(posts: ibis.Table, min_tags: int = 2) -> ibis.Table:
    """Posts with at least ``min_tags`` hashtags as shares-view rows whose object is the ordered,
    lower-cased sequence (tags joined by single spaces, '#' dropped)."""
    tagged = posts.filter(posts.hashtags.length() >= min_tags)
    sequence = tagged.hashtags.map(lambda t: t.lower().re_replace("^#+", "")).join(" ")
    return tagged.select(platform=tagged.platform, account_id=tagged.account_id,
                         object_type=ibis.literal("hashtag_sequence"), object_id=sequence,
                         content_id=tagged.post_id, ts=tagged.ts.epoch_seconds().cast("int64"))


def hashtag_sequence_edges(posts: ibis.Table, time_window: int = 3600, min_tags: int = 2,
                           min_participation: int = 1) -> ibis.Table:
    """Edges (ARCHITECTURE §4): weight and n_events = post pairs with the same sequence within the
    window; evidence = up to 10 of the shared sequences."""
    params = CoshareParams(time_window=time_window, min_participation=min_participation)
    return coshare_edges(hashtag_sequences(posts, min_tags), params, ["hashtag_sequence"], signal=SIGNAL)
