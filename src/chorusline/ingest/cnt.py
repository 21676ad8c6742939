"""coordination-network-toolkit's generic CSV. Columns are matched by position, as the toolkit
does: message_id, user_id, username, repost_id, reply_id, message, timestamp, urls (space-separated;
a Python list literal, as in the toolkit's own example file, is read as the list it means)."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from chorusline.ingest.base import IngestOptions, Piece, TabularAdapter
from chorusline.ingest.readers import FormatError
from chorusline.ingest.tabular import present

POSITIONS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls")


class CntAdapter(TabularAdapter):
    name = "cnt"
    summary = "coordination-network-toolkit CSV (message_id, user_id, username, repost_id, reply_id, message, timestamp, urls)"
    tables = ("posts", "accounts")
    platform = "cnt"

    def check_header(self, path, header, options) -> None:
        if len(header) < 7:
            raise FormatError(
                f"{path}: line 1: not {self.name}: expected at least 7 columns "
                f"({', '.join(POSITIONS)}), found {len(header)}: {','.join(header)[:200]}"
            )

    def map_batch(self, table: pa.Table, lines: pa.Array, options: IngestOptions) -> Iterable[Piece]:
        cols = {name: table.column(i).combine_chunks() for i, name in enumerate(POSITIONS) if i < table.num_columns}
        repost, reply = cols["repost_id"], cols["reply_id"]
        is_repost, is_reply = present(repost), present(reply)
        kind = pc.if_else(is_repost, "repost", pc.if_else(is_reply, "reply", "post"))
        posts = {
            "post_id": cols["message_id"],
            "account_id": cols["user_id"],
            "ts": cols["timestamp"],
            "text": cols["message"],
            "kind": kind,
            "target_post_id": pc.if_else(is_repost, repost, reply),
        }
        if "urls" in cols:
            posts["urls"] = cols["urls"]
        platform = {"platform": self.platform_for(options)}
        yield Piece("posts", pa.table(posts), lines, defaults=platform, list_separator=r"\s+")
        has_name = present(cols["username"])
        accounts = pa.table({"account_id": cols["user_id"], "handle": cols["username"]}).filter(has_name)
        if accounts.num_rows:
            yield Piece("accounts", accounts, pc.filter(lines, has_name), defaults=platform)
