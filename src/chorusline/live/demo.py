"""`make demo-live`: the live path on the embedded default, with a Redis of its own.

1. simulate a scenario (smoke by default) and cut it at the day its suspended operation returns;
2. batch, as an analyst would: ingest what came before, enrich, detect, confirm the reported
   campaigns that are the operation (the simulator's truth plays the analyst), build the watchlist;
3. start redis-server on loopback (a free port, no persistence), then `chorusline replay` the rest
   of the scenario into a stream at ``--speed`` while `chorusline watch` consumes it and prints
   each alert as it is raised; `chorusline alerts` lists them at the end; Redis is stopped.

Run: `make demo-live` or `.venv/bin/python -m chorusline.live.demo [--scenario smoke] [--speed 20000]`.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chorusline() -> str:
    return str(Path(sys.executable).with_name("chorusline"))


def _start_redis(folder: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("error: redis-server is not installed (`make system` installs Debian's redis-server)")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process, port
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    process.kill()
    sys.exit("error: redis-server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="smoke", help="a built-in scenario with a ban wave and a return")
    parser.add_argument("--speed", type=float, default=20000.0, help="replay pace (× real time)")
    parser.add_argument("--out", type=Path, default=Path("demo-live-output"))
    args = parser.parse_args()

    from chorusline.api import simulate
    from chorusline.live.scenario import prepare_store, split_at_return

    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"1. simulate {args.scenario} and cut it at the operation's return", flush=True)
    simulate(args.scenario, out / "sim")
    case = split_at_return(out / "sim", out / "split")
    db = str(out / "live.duckdb")
    print(f"   cut at {case.cut:%Y-%m-%d %H:%M} UTC; {len(case.returning)} accounts come back after it", flush=True)
    print("2. before the return, in batch: ingest, enrich, detect, confirm, watchlist (a minute or two)", flush=True)
    confirmed = prepare_store(case, db, out / "signals")
    print(f"   confirmed campaign(s) {confirmed}; watchlist built in {db}", flush=True)
    with tempfile.TemporaryDirectory(prefix="chorusline-redis-") as folder:
        redis_process, port = _start_redis(Path(folder))
        url = f"redis://127.0.0.1:{port}/events"
        try:
            print(f"3. redis-server on 127.0.0.1:{port}; replaying the rest at {args.speed:g}× while watching:",
                  flush=True)
            watch = [_chorusline(), "watch", "--db", db, "--from", url, "--until-idle", "--idle-timeout", "15",
                     "--match-every", "2"]
            replay = [_chorusline(), "replay", str(case.after), "--to", url, "--speed", str(args.speed)]
            print("   $ " + " ".join(replay[1:]) + "\n   $ " + " ".join(watch[1:]), flush=True)
            publisher = subprocess.Popen(replay)
            watcher = subprocess.Popen(watch)
            publisher.wait()
            code = watcher.wait()
        finally:
            redis_process.terminate()
            redis_process.wait(10)
    if code != 0:
        sys.exit(code)
    print("4. the alerts, as `chorusline alerts` lists them:", flush=True)
    subprocess.run([_chorusline(), "alerts", "--db", db, "--limit", "20"], check=False)
    caught = subprocess.run([_chorusline(), "alerts", "--db", db, "--kind", "returning_actor", "--json", "--limit",
                             "10000"], capture_output=True, text=True, check=False).stdout
    import json

    alerted = {a["subject"] for a in json.loads(caught or "[]")}
    print(f"returning accounts alerted: {len(alerted & case.returning)} of {len(case.returning)}; "
          f"others alerted as returning: {len(alerted - case.returning)}", flush=True)


if __name__ == "__main__":
    main()
