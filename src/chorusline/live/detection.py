"""The watcher's full detection in a child process of its own.

A detection allocates hundreds of MiB (models, Arrow tables, graphs) that the process's allocators
keep after it returns: run in the watcher's own process, its level between detections rose ~40 MiB
per run as the store grew, whatever was freed (measured: glibc ``malloc_trim`` and evicting
DuckDB's buffers took back a part, not the rise; docs/PERFORMANCE.md). In a child, all of it goes
back to the system when the child exits, so the watcher's memory is its intake and window, and a
detection's peak is what its input needs (bounded with ``detect_horizon``).

DuckDB lets one process write a database file, so the watcher closes its connections for the run
(events wait in the broker meanwhile, as they did) and reopens them after. The child dies with the
watcher (``PR_SET_PDEATHSIG``): a watcher killed mid-detection leaves no process holding the file.
In-memory DuckDB stores and Spark stores detect in the watcher's process, as before.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import sys


def database_file(store) -> str | None:
    """The DuckDB file behind ``store``; None for an in-memory database or another engine."""
    if getattr(store.backend, "name", "") != "duckdb":
        return None
    row = store.backend.con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else None


def detect_in_child(path: str, config, horizon: dt.timedelta | None, until: dt.datetime | None) -> None:
    """Enrich and detect the store at ``path`` in a fresh process; its exceptions are raised here
    (``NothingToDetect`` included). The caller must have closed its own connections to ``path``.
    The child runs this one detection and exits."""
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads and a database
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, path, config, horizon, until), name="chorusline-detect")
    child.start()
    send.close()  # the child's end: only the child holds it now, so its death reads as EOF here
    try:
        outcome = receive.recv()
    except EOFError:  # it died before it could report: killed, out of memory
        child.join()
        outcome = ChildFailed(f"the detection process ended without a result (exit code {child.exitcode})")
    finally:
        receive.close()
        child.join()
    if isinstance(outcome, BaseException):
        raise outcome


class ChildFailed(RuntimeError):
    """The detection process died (killed, out of memory) before it could report."""


def _child(send, path: str, config, horizon, until) -> None:
    _die_with_parent()
    try:
        detect_store(path, config, horizon, until)
        outcome = None
    except BaseException as exc:  # noqa: BLE001 - handed to the watcher, which raises it
        outcome = exc
    try:
        send.send(outcome)
    except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
        send.send(ChildFailed(f"{type(outcome).__name__}: {outcome}"))
    send.close()


def detect_store(path: str, config, horizon: dt.timedelta | None, until: dt.datetime | None) -> None:
    """What one detection does, in whichever process runs it: network enrichment over the whole
    store (the watchlist match and explain read it for accounts outside the horizon; its cost is
    the distinct addresses, not the events), then ``api.detect`` over the store or its last
    ``horizon`` of event time up to ``until``."""
    from chorusline.api import open_store

    store = open_store(path)
    try:
        detect_open_store(store, config, horizon, until)
    finally:
        store.backend.disconnect()


def detect_open_store(store, config, horizon: dt.timedelta | None, until: dt.datetime | None) -> None:
    from chorusline.api import detect
    from chorusline.enrich.network import enrich_store

    enrich_store(store)
    detect(store, config, horizon=horizon or None, until=until)


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the watcher dies (elsewhere it finishes its run first)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the line above
        os._exit(1)
