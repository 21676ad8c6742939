"""Simulator speed and memory on the `large` scenario (>= 1 M posts, >= 1 M API calls).

Run: `.venv/bin/python bench/simulate.py [--scenario large] [--scale X]`. Prints seconds, rows/s and
the peak RSS of the generating process (a child, so the figure is its own). Target: `large` in <= 180 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile

TARGET_SECONDS = 180


def child(scenario: str, scale: float, out: str) -> None:
    from chorusline.sim import load_scenario, simulate

    summary = simulate(load_scenario(scenario, scale=scale), out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": summary.seconds, "rows": summary.rows, "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.scenario, args.scale, args.out)
        return
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, __file__, "--child", "--scenario", args.scenario, "--scale", str(args.scale),
                               "--out", out], capture_output=True, text=True, check=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    rows = r["rows"]
    total = rows["posts"] + rows["llm_calls"] + rows["accounts"]
    print(f"scenario {args.scenario} x{args.scale}: posts {rows['posts']:,}  llm_calls {rows['llm_calls']:,}  "
          f"accounts {rows['accounts']:,}")
    print(f"seconds {r['seconds']:.1f}  rows/s {total / r['seconds']:,.0f}  peak RSS {r['peak_mib']:,.0f} MiB")
    print(f"target <= {TARGET_SECONDS} s: {'met' if r['seconds'] <= TARGET_SECONDS else 'NOT met'} "
          f"({TARGET_SECONDS / r['seconds']:.1f}x headroom)")


if __name__ == "__main__":
    main()
