"""The command line's view of stage progress (``chorusline.progress``): a bar (or a spinner, for a
stage that does not know its size) per running stage on stderr when stderr is a terminal, nothing
when it is a file or a pipe, and every stage's seconds for the timing summary ``detect`` prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from chorusline.progress import reporting


class StageClock:
    """A ``progress.Reporter``: draws the running stages (when it has a terminal to draw on) and
    keeps each stage's seconds and nesting depth in the order the stages started."""

    def __init__(self, console: Console | None = None):
        console = console or Console(stderr=True)
        self.seconds: dict[str, float] = {}
        self.depth: dict[str, int] = {}
        self._running: list[str] = []
        self._tasks: dict[str, int] = {}
        # transient: the bars vanish when done, so a finished command leaves only its results
        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=True) if console.is_terminal else None

    def start(self, name: str, total: int | None) -> None:
        self.depth.setdefault(name, len(self._running))
        self.seconds.setdefault(name, 0.0)
        self._running.append(name)
        if self.bars is not None:
            self._tasks[name] = self.bars.add_task(name, total=total)

    def advance(self, name: str, n: int) -> None:
        if self.bars is not None and name in self._tasks:
            self.bars.advance(self._tasks[name], n)

    def finish(self, name: str, seconds: float) -> None:
        self._running.remove(name)
        self.seconds[name] += seconds
        if self.bars is not None and name in self._tasks:
            self.bars.remove_task(self._tasks.pop(name))

    def timings(self) -> list[dict]:
        """stage, seconds, depth (0 = top level), in the order the stages started."""
        return [{"stage": name, "seconds": round(s, 3), "depth": self.depth[name]} for name, s in self.seconds.items()]


@contextlib.contextmanager
def showing_progress(console: Console | None = None) -> Iterator[StageClock]:
    """Install a StageClock for the stages run inside the block (bars on ``console``, default stderr)."""
    clock = StageClock(console)
    with clock.bars or contextlib.nullcontext(), reporting(clock):
        yield clock


__all__ = ["StageClock", "showing_progress"]
