"""CooRTweet's input table: object_id, account_id, content_id, timestamp_share (CSV or Parquet).

``object_id`` is whatever was co-shared; ``--object-type`` says what (default: the reposted post,
as in CooRTweet's retweet intent), and decides which canonical column holds it. ``content_id``
becomes the post id; CooRTweet's own data repeat a content id with another object, and such rows are
quarantined by the store as key conflicts rather than merged silently.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from chorusline.ingest.base import IngestOptions, Piece, TabularAdapter, require_columns
from chorusline.ingest.readers import FormatError

COLUMNS = ("object_id", "account_id", "content_id", "timestamp_share")
# object type -> (post kind, canonical column that holds the object)
OBJECT_TYPES = {
    "repost": ("repost", "target_post_id"),
    "reply": ("reply", "target_post_id"),
    "quote": ("quote", "target_post_id"),
    "url": ("post", "urls"),
    "hashtag": ("post", "hashtags"),
    "mention": ("post", "mentions"),
    "media": ("post", "media_hashes"),
}


class CoortweetAdapter(TabularAdapter):
    name = "coortweet"
    summary = "CooRTweet input table (object_id, account_id, content_id, timestamp_share)"
    tables = ("posts",)
    platform = "coortweet"

    def check_header(self, path, header, options: IngestOptions) -> None:
        require_columns(path, header, COLUMNS, self.name)
        if options.object_type not in OBJECT_TYPES:
            raise FormatError(f"unknown --object-type {options.object_type!r}; one of {', '.join(OBJECT_TYPES)}")

    def map_batch(self, table: pa.Table, lines: pa.Array, options: IngestOptions) -> Iterable[Piece]:
        kind, column = OBJECT_TYPES[options.object_type]
        n = table.num_rows
        data = {
            "post_id": table.column("content_id"),
            "account_id": table.column("account_id"),
            "ts": table.column("timestamp_share"),
            "kind": pa.array([kind] * n, pa.string()),
            column: table.column("object_id"),
        }
        yield Piece("posts", pa.table(data), lines, defaults={"platform": self.platform_for(options)})
