"""connect(): every target form the CLI and library accept."""

import pytest

from chorusline.engine import EngineError, connect, is_spark


def test_duckdb_targets(tmp_path):
    for target in (str(tmp_path / "a.duckdb"), f"duckdb://{tmp_path / 'b.duckdb'}", ":memory:"):
        backend = connect(target)
        assert backend.name == "duckdb" and not is_spark(backend)
    assert (tmp_path / "a.duckdb").exists() and (tmp_path / "b.duckdb").exists()


def test_bad_targets_are_clear_errors(tmp_path):
    with pytest.raises(EngineError, match="does not exist"):
        connect(str(tmp_path / "missing" / "x.duckdb"))
    (tmp_path / "not-a-db").write_text("hello")
    with pytest.raises(EngineError, match="cannot open"):
        connect(str(tmp_path / "not-a-db"))
    with pytest.raises(EngineError, match="expected a path"):
        connect(42)


@pytest.mark.spark
def test_an_existing_spark_session_is_used_as_it_is(spark):
    backend = connect(spark)
    assert is_spark(backend) and backend._session is spark


def test_in_memory_stores_spill_to_their_own_folder(monkeypatch):
    # DuckDB's default for an in-memory database is `.tmp/` under the working folder, one file for
    # every process started there: two evaluations side by side corrupted each other's spills
    monkeypatch.delenv("CHORUSLINE_TEMP_DIR", raising=False)
    folders = [connect(":memory:").raw_sql("select current_setting('temp_directory')").fetchone()[0]
               for _ in range(2)]
    assert folders[0] != folders[1] and all("chorusline-duckdb-" in f for f in folders)
