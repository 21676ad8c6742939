"""Run a benchmark's child process under /usr/bin/time: its output, wall seconds and peak RSS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS MiB) of a command; exits with its stderr if it fails."""
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    if out.returncode:
        sys.exit(f"{Path(cmd[0]).name} failed:\n{out.stderr[-2000:]}")
    line = [x for x in out.stderr.splitlines() if x.startswith("TIME ")][-1].split()
    return out.stdout, float(line[1]), float(line[2]) / 1024
