"""Stage progress: the stages say what they are doing; a shell (the CLI, the web app, the watcher)
decides how to show it. With no reporter installed every call here is a no-op, so library users and
tests pay nothing.

A stage::

    with stage("signals: coshare", total=len(files)) as s:
        for f in files:
            ...
            s.advance()

A shell::

    with reporting(MyReporter()):
        detect(store)
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Protocol


class Reporter(Protocol):
    def start(self, name: str, total: int | None) -> None: ...

    def advance(self, name: str, n: int) -> None: ...

    def finish(self, name: str, seconds: float) -> None: ...


_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("chorusline_reporter", default=None)


class Stage:
    """What a running stage holds: ``advance`` moves its bar (when it has a total)."""

    def __init__(self, name: str, reporter: Reporter | None):
        self.name = name
        self._reporter = reporter

    def advance(self, n: int = 1) -> None:
        if self._reporter is not None:
            self._reporter.advance(self.name, n)


@contextlib.contextmanager
def stage(name: str, total: int | None = None) -> Iterator[Stage]:
    """Report a named stage to the installed reporter (if any), with its wall time when it ends."""
    reporter = _reporter.get()
    started = time.perf_counter()
    if reporter is not None:
        reporter.start(name, total)
    try:
        yield Stage(name, reporter)
    finally:
        if reporter is not None:
            reporter.finish(name, time.perf_counter() - started)


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the stages run inside this block."""
    token = _reporter.set(reporter)
    try:
        yield reporter
    finally:
        _reporter.reset(token)


__all__ = ["Reporter", "Stage", "reporting", "stage"]
