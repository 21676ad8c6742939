"""Helpers for the live tests: a Redis server of their own (loopback, free port, no persistence),
and the smoke scenario cut at its operation's return with a watchlist built from the truth."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path, appendonly: bool = False):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (`make system` installs Debian's redis-server)")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "yes" if appendonly else "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("redis-server did not start")

    def url(self, stream: str) -> str:
        return f"redis://127.0.0.1:{self.port}/{stream}"

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(10)


def watchlist_store(before: Path, db: str, campaign_accounts: set[str], embed: Path | None = None) -> None:
    """A store of what came before the return, with the operation's accounts then confirmed as one
    campaign (the truth playing the analyst; no detection run needed) and its watchlist built.
    ``embed``: a folder of tables still to come whose texts are embedded into the store's cache now
    (as `enrich` would have), so that each test's watcher does not load the model and embed them."""
    import datetime as dt

    import pyarrow as pa

    from chorusline.act.decisions import DECISIONS
    from chorusline.act.watchlist import save_watchlist
    from chorusline.api import load_files, open_store
    from chorusline.enrich.network import enrich_store

    store = open_store(db, create=True)
    load_files(store, sorted(before.glob("*.parquet")))
    enrich_store(store)
    t = store.table("accounts")
    known = set((t.platform.concat(":", t.account_id)).to_pyarrow().to_pylist())
    members = sorted(campaign_accounts & known)
    row = {"decision_id": "truth", "ts": dt.datetime.now(dt.UTC), "campaign_id": 0, "decision": "confirm",
           "analyst": "truth", "note": "", "members": members}
    store.backend.create_table("decisions", pa.Table.from_pylist([row], schema=DECISIONS))
    save_watchlist(store)
    if embed is not None:
        from chorusline.enrich.texts import embed_store_texts
        from chorusline.text.cache import TABLE

        scratch = open_store(":memory:")
        load_files(scratch, sorted(before.glob("*.parquet")) + sorted(embed.glob("*.parquet")))
        embed_store_texts(scratch)
        store.backend.create_table(TABLE, scratch.table(TABLE).to_pyarrow(), overwrite=True)
    store.backend.disconnect()
