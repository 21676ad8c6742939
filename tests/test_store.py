"""The store on both engines: tables, idempotent loads, key conflicts kept in quarantine."""

from datetime import UTC, datetime

import pyarrow as pa

from chorusline.schema import ACCOUNTS, ALL_TABLES, POSTS


def _posts(ids, texts):
    n = len(ids)
    base = {c: pa.nulls(n, POSTS.arrow_schema.field(c).type) for c in POSTS.column_names}
    base.update(platform=pa.array(["x"] * n), post_id=pa.array(ids), account_id=pa.array(["a"] * n),
                ts=pa.array([datetime(2025, 1, 1, tzinfo=UTC)] * n, pa.timestamp("us", tz="UTC")),
                kind=pa.array(["post"] * n), text=pa.array(texts),
                urls=pa.array([["u"]] * n, pa.list_(pa.string())))
    return pa.table(base, schema=POSTS.arrow_schema)


def test_tables_exist_with_the_canonical_schemas(any_store):
    assert set(ALL_TABLES) <= set(any_store.backend.list_tables())
    assert any_store.table("posts").schema().names == tuple(POSTS.column_names)


def test_loading_twice_adds_nothing_and_conflicts_are_reported(any_store):
    stage = any_store.stage(POSTS)
    stage.append(_posts(["1", "2", "2", "3"], ["one", "two", "two", "three"]), pa.array([2, 3, 4, 5]))
    inserted, conflicts = stage.commit()
    assert inserted == 3 and conflicts == []  # an identical repeat is not a conflict

    again = any_store.stage(POSTS)
    again.append(_posts(["1", "2", "4", "4"], ["one", "TWO", "four", "FOUR"]), pa.array([2, 3, 4, 5]))
    inserted, conflicts = again.commit()
    assert inserted == 1
    found = sorted((c.line, c.reason) for c in conflicts)
    assert found == [(3, "key already in the store with different values"),
                     (5, "repeats the key of line 4 with different values")]
    assert any_store.count("posts") == 4
    assert not [t for t in any_store.backend.list_tables() if t.startswith("_stage_")]


def test_account_snapshots_are_not_conflicts(any_store):
    def account(followers):
        cols = {c: pa.nulls(1, ACCOUNTS.arrow_schema.field(c).type) for c in ACCOUNTS.column_names}
        cols.update(platform=pa.array(["x"]), account_id=pa.array(["a"]), followers=pa.array([followers], pa.int64()))
        return pa.table(cols, schema=ACCOUNTS.arrow_schema)

    assert any_store.append_rows(ACCOUNTS, account(10)) == 1
    stage = any_store.stage(ACCOUNTS)
    stage.append(account(11))
    assert stage.commit() == (0, [])
    assert any_store.table("accounts").followers.max().execute() == 10


def test_status_counts_and_spans(any_store):
    any_store.append_rows(POSTS, _posts(["1", "2"], ["a", "b"]))
    status = {s.table: s for s in any_store.status()}
    assert status["posts"].rows == 2
    assert str(status["posts"].first)[:10] == "2025-01-01"
    assert status["llm_calls"].rows == 0


def test_one_line_yielding_a_key_twice_inserts_it_once(any_store):
    stage = any_store.stage(POSTS)
    stage.append(_posts(["7", "7"], ["same", "same"]), pa.array([1, 1]))
    assert stage.commit() == (1, [])
    assert any_store.count("posts") == 1


def test_a_commit_leaves_duckdbs_memory_limit_as_it_found_it(duck_store):
    from chorusline.store import COMMIT_MEMORY

    def limit():
        return duck_store.backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]

    duck_store.append_rows(POSTS, _posts(["0"], ["a"]))  # the first commit may round the shown value up
    before = limit()
    for i in range(1, 6):
        stage = duck_store.stage(POSTS)
        stage.append(_posts([str(i)], ["a"]))
        stage.commit()
        assert limit() == before  # restored exactly, every time (no drift)
    from chorusline.engine import parse_size

    assert parse_size(before) > COMMIT_MEMORY
