"""Canonical tables (ARCHITECTURE §2): the one place column names and keys are defined.

Every adapter writes these tables and every stage reads them. Timestamps are UTC with
microsecond precision, ids are strings, list columns are lists of strings and `attrs`
is a JSON object serialised as a string (so that both engines store it the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

TS = dt.Timestamp(timezone="UTC", scale=6)
STR = dt.string
INT = dt.int64
FLOAT = dt.float64
STR_LIST = dt.Array(dt.string)


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns, its key and what one row is."""

    name: str
    columns: tuple[tuple[str, dt.DataType], ...]
    key: tuple[str, ...]
    row: str
    required: tuple[str, ...] = ()  # non-key columns a row cannot do without
    # Snapshot tables (profiles) legitimately change between sources: a later row with the same key
    # and other values is an update, not a conflict to quarantine. The first snapshot is kept.
    snapshots: bool = False

    @property
    def schema(self) -> ibis.Schema:
        return ibis.schema(dict(self.columns))

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.to_pyarrow()

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def dtype(self, column: str) -> dt.DataType:
        return dict(self.columns)[column]


ACCOUNTS = TableSpec(
    name="accounts",
    row="account on any surface (API customer, social account)",
    key=("platform", "account_id"),
    snapshots=True,
    columns=(
        ("platform", STR),
        ("account_id", STR),
        ("created_at", TS),
        ("handle", STR),
        ("display_name", STR),
        ("bio", STR),
        ("claimed_location", STR),
        ("claimed_language", STR),
        ("followers", INT),
        ("following", INT),
        ("org_id", STR),
        ("email_domain", STR),
        ("payment_fingerprint", STR),
        ("attrs", STR),
    ),
)

LLM_CALLS = TableSpec(
    name="llm_calls",
    row="one request to an AI/LLM API",
    key=("platform", "call_id"),
    required=("account_id", "ts"),
    columns=(
        ("platform", STR),
        ("call_id", STR),
        ("account_id", STR),
        ("ts", TS),
        ("api_key_id", STR),
        ("session_id", STR),
        ("ip", STR),
        ("user_agent", STR),
        ("client_fingerprint", STR),
        ("model", STR),
        ("operation", STR),
        ("input_tokens", INT),
        ("output_tokens", INT),
        ("prompt", STR),
        ("output", STR),
        ("status", STR),
        ("attrs", STR),
    ),
)

POSTS = TableSpec(
    name="posts",
    row="one social action (post, repost, reply, quote, like, follow)",
    key=("platform", "post_id"),
    required=("account_id", "ts"),
    columns=(
        ("platform", STR),
        ("post_id", STR),
        ("account_id", STR),
        ("ts", TS),
        ("kind", STR),
        ("text", STR),
        ("lang", STR),
        ("target_post_id", STR),
        ("target_account_id", STR),
        ("urls", STR_LIST),
        ("hashtags", STR_LIST),
        ("mentions", STR_LIST),
        ("media_hashes", STR_LIST),
        ("client", STR),
        ("attrs", STR),
    ),
)

NEWS_EVENTS = TableSpec(
    name="news_events",
    row="an outside event",
    key=("event_id",),
    required=("ts",),
    columns=(("event_id", STR), ("ts", TS), ("label", STR), ("topic", STR)),
)

LABELS = TableSpec(
    name="labels",
    row="a known truth or an analyst's decision",
    key=("platform", "account_id", "source"),
    required=("label",),
    columns=(
        ("platform", STR),
        ("account_id", STR),
        ("source", STR),
        ("label", STR),
        ("confidence", FLOAT),
        ("ts", TS),
    ),
)

QUARANTINE = TableSpec(
    name="quarantine",
    row="an input record that could not be loaded, kept with where it came from and why",
    # A record of a file is quarantined once per problem, however often the file is re-ingested
    # (one line of a page format can hold several bad items, each with its own reason).
    key=("source_file", "line", "table_name", "reason"),
    columns=(
        ("source_file", STR),
        ("line", INT),
        ("format", STR),
        ("table_name", STR),
        ("reason", STR),
        ("raw", STR),
        ("ingested_at", TS),
    ),
)

CANONICAL: dict[str, TableSpec] = {
    t.name: t for t in (ACCOUNTS, LLM_CALLS, POSTS, NEWS_EVENTS, LABELS)
}
ALL_TABLES: dict[str, TableSpec] = {**CANONICAL, QUARANTINE.name: QUARANTINE}

# like and follow are social actions too (co-liking and follow trains are coordination signals);
# the platforms that expose them (Bluesky Jetstream) give them to us.
POST_KINDS = ("post", "repost", "reply", "quote", "like", "follow")
LIST_COLUMNS = ("urls", "hashtags", "mentions", "media_hashes")
# Validation bounds, applied to every row on every ingest path (ingest/conform.py). A time before
# 1970 or more than a year ahead is a broken clock, a unit mistake or damage, not an event: such a
# row is quarantined rather than stored (pandas and Spark cannot even show year 97036).
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=365)


def time_window() -> tuple[datetime, datetime]:
    """The accepted span of every timestamp column: EARLIEST_TIME to one year from now."""
    return EARLIEST_TIME, datetime.now(UTC) + LATEST_AHEAD


# Numeric columns with a domain narrower than their type: counts cannot be negative, a confidence
# is a probability. (lowest, highest); None = no bound beyond the type's.
VALUE_RANGES: dict[str, tuple[float | None, float | None]] = {
    "input_tokens": (0, None),
    "output_tokens": (0, None),
    "followers": (0, None),
    "following": (0, None),
    "confidence": (0.0, 1.0),
}

# Where a table has a time column, `status` reports its span.
TIME_COLUMN = {"accounts": "created_at", "llm_calls": "ts", "posts": "ts", "news_events": "ts", "labels": "ts"}


def actor(platform: str, account_id: str) -> str:
    """The single-key form of an actor used by derived tables."""
    return f"{platform}:{account_id}"


# The signal contract (ARCHITECTURE §4): every edge signal returns these columns.
EDGES = ibis.schema({"a_actor": STR, "b_actor": STR, "signal": STR, "weight": FLOAT, "n_events": INT,
                     "first_ts": TS, "last_ts": TS, "evidence": STR})
