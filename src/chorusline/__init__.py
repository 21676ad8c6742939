"""chorusline: find coordinated influence operations in AI/LLM API logs and social-media activity.

As a library (docs/LIBRARY.md)::

    import chorusline

    store = chorusline.open_store("my.duckdb", create=True)
    chorusline.load_files(store, ["posts.parquet", "llm_calls.parquet"])
    campaigns = chorusline.detect(store)
    evidence = chorusline.explain_campaign(store, campaigns[0]["campaign_id"])

The names below are imported on first use (PEP 562), so ``import chorusline`` loads no engine.
"""

from __future__ import annotations

API = ("open_store", "load_files", "simulate", "detect", "list_campaigns", "explain_campaign", "store_status",
       "detect_groups", "campaign_members", "campaign_network", "account_detail", "decide", "decision_history",
       "enforcement", "watchlist_matches", "list_alerts", "StoreNotFound")

__all__ = ["__version__", *API]


def _version() -> str:
    """The installed distribution's version; from pyproject.toml when running from a source tree."""
    from importlib import metadata

    try:
        return metadata.version("chorusline")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def __getattr__(name: str):
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    if name in API:
        from chorusline import api

        return getattr(api, name)
    raise AttributeError(f"module 'chorusline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
