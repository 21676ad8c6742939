"""Network enrichment: each distinct IP → prefix, ASN, AS organisation, located and registered
country, labels (hosting, VPN with provider, relay, Tor exit, cloud with region, CDN, crawler) and
one network class — offline, from range tables (../shared/design/NETWORK.md).

How: every source is a *range table* (inclusive start/end as 128-bit keys, IPv4 mapped into
``::ffff:0:0/96`` so both families share one key space). Distinct IPs get their key once (IPv4
vectorised in Arrow, IPv6 with ``inet_pton``), then one local DuckDB query joins them: an ASOF
join (with the ``key <= end`` gap guard) per non-overlapping source, and a range join for the
overlapping label lists. Enrichment always runs in an embedded DuckDB — the distinct IPs of a
log are few — and the result is written into the store, whatever its engine (NETWORK.md §8).

Sources: the shipped open tables (``data/net``, CC BY 4.0 / MIT / CC0, see ATTRIBUTION.md), the
registration country from ``iptocc``'s embedded RIR data, and any file the user plugs in — a
MaxMind / IPinfo / DB-IP ``.mmdb`` (converted once to a range table and cached) or a CSV of ranges.
Every source's answer is kept in ``network_sources``; ``network_info`` holds the fused view with a
flag where the located-country sources disagree."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.progress import stage

DATA = Path(__file__).parent / "data" / "net"
_V4_MAPPED = 0xFFFF00000000  # ::ffff:0:0/96
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
STALE_DAYS = {"tor_exit": 2, "default": 90}
# the order in which a class wins when an address carries several labels
CLASS_ORDER = ("tor_exit", "relay", "vpn", "proxy_residential", "proxy_public", "ai_crawler", "crawler", "cdn",
               "hosting")
NETWORK_CLASSES = (*CLASS_ORDER, "residential", "mobile", "business", "education", "government", "unknown")


@dataclass
class RangeSource:
    """One source: a range table (ks, ke as hi/lo UInt64 pairs, payload columns) and what it answers."""
    name: str
    table: pa.Table  # start_hi, start_lo, end_hi, end_lo + any of asn, as_org, country, category, provider, region
    source_date: str | None = None
    overlapping: bool = False  # label lists overlap; ASN / country tables do not


@dataclass
class Enrichment:
    info: pa.Table  # network_info: one row per valid distinct ip
    sources: pa.Table | None  # network_sources: ip, source, asn, as_org, country, category, provider, region,
    # source_date (None when written straight to a file)
    invalid: pa.Table  # ip, reason
    ages: list[tuple[str, str | None, int | None, bool]] = field(default_factory=list)  # name, date, days, stale


# -- keys ---------------------------------------------------------------------------------------

def ip_keys(ips: pa.Array) -> pa.Table:
    """ip, ip_version, hi, lo (the 128-bit key, IPv4 mapped into ::ffff:0:0/96) and reason (null
    for a valid address; why not, otherwise). IPv4 is parsed with Arrow kernels; IPv6 (the few
    strings with a ':') with ``inet_pton``, which also says what is wrong."""
    ips = pc.cast(ips, pa.string())
    text = pc.utf8_trim_whitespace(ips)
    n = len(text)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    version = np.zeros(n, dtype=np.int8)
    reason = np.full(n, None, dtype=object)
    is_v4 = pc.fill_null(pc.match_substring_regex(text, _V4), False).to_numpy(zero_copy_only=False)
    if is_v4.any():
        parts = pc.split_pattern(pc.filter(text, pa.array(is_v4)), ".")
        octets = pc.list_flatten(parts).cast(pa.uint64()).to_numpy().reshape(-1, 4)
        value = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
        lo[is_v4] = value | np.uint64(_V4_MAPPED)
        version[is_v4] = 4
    rest = np.nonzero(~is_v4)[0]
    values = text.to_numpy(zero_copy_only=False)
    for i in rest:  # only strings that are not dotted-quad IPv4: IPv6, or bad input
        value = values[i]
        if value is None or value == "":
            reason[i] = "empty ip"
            continue
        if ":" not in value:
            reason[i] = f"not an IPv4 or IPv6 address: {value[:100]!r}"
            continue
        try:
            packed = socket.inet_pton(socket.AF_INET6, value)
        except OSError:
            reason[i] = f"not an IPv6 address: {value[:100]!r}"
            continue
        hi[i] = int.from_bytes(packed[:8], "big")
        lo[i] = int.from_bytes(packed[8:], "big")
        version[i] = 4 if hi[i] == 0 and (int(lo[i]) >> 32) == 0xFFFF else 6
    return pa.table({"ip": ips, "ip_version": version, "hi": hi, "lo": lo, "reason": pa.array(reason, pa.string())})


# -- sources ------------------------------------------------------------------------------------

def builtin_sources() -> list[RangeSource]:
    """The shipped open tables (ATTRIBUTION.md in data/net)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    def load(name):
        table = pq.read_table(DATA / f"{name}.parquet")
        return _mapped(table)

    asn = load("ip_asn")
    labels = load("ip_labels")
    out = [
        RangeSource("routeviews_nro_dbip_asn", asn, "2026-06-17"),
        RangeSource("geofeed_whois_country", load("ip_country").rename_columns(
            [c if c != "country_code" else "country" for c in pq.read_schema(DATA / "ip_country.parquet").names]),
            "2026-06-17"),
        RangeSource("dbip_lite_country", load("ip_country_dbip").rename_columns(
            [c if c != "country_code" else "country" for c in pq.read_schema(DATA / "ip_country_dbip.parquet").names]),
            "2026-06-01"),
    ]
    for source in sorted(set(labels.column("source").to_pylist())):
        part = labels.filter(pc.equal(labels.column("source"), source))
        date = max(d for d in part.column("source_date").to_pylist() if d)
        out.append(RangeSource(source, part, date, overlapping=True))
    asn_labels = pacsv.read_csv(DATA / "asn_labels.csv")
    out.append(RangeSource("asn_labels", asn_labels, str(max(asn_labels.column("source_date").to_pylist()))))
    return out


def _mapped(table: pa.Table) -> pa.Table:
    """Map IPv4 rows (hi 0, lo = 32-bit value) into ::ffff:0:0/96, the key space of ip_keys."""
    v4 = pc.equal(table.column("ip_version"), 4)
    for col in ("start_lo", "end_lo"):
        lo = table.column(col)
        mapped = pc.if_else(v4, pc.bit_wise_or(lo, pa.scalar(_V4_MAPPED, pa.uint64())), lo)
        table = table.set_column(table.schema.get_field_index(col), col, mapped)
    return table


# -- lookup -------------------------------------------------------------------------------------

_PAYLOAD = ("asn", "as_org", "country", "category", "provider", "region")


def enrich_ips(ips: pa.Array, sources: list[RangeSource] | None = None, today: dt.date | None = None,
               sources_to: str | Path | None = None) -> Enrichment:
    """Enrich the distinct addresses in ``ips`` (strings). Bad strings come back in ``invalid``.
    Every source's answer is returned in ``sources``, or written to the Parquet file
    ``sources_to`` by the engine (it has several rows per address: no need to hold it here)."""
    sources = builtin_sources() if sources is None else sources
    keys = ip_keys(pc.unique(pc.drop_null(pc.cast(ips, pa.string()))))
    valid = pc.is_null(keys.column("reason"))
    invalid = keys.filter(pc.invert(valid)).select(["ip", "reason"])
    keys = keys.filter(valid).drop(["reason"])
    keys = keys.append_column("id", pa.array(np.arange(keys.num_rows, dtype=np.int64)))  # joins run on it
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.register("keys_arrow", keys)
    con.execute("CREATE TEMP TABLE ips AS SELECT id, ip, ip_version, hi, lo, "
                "(hi::UHUGEINT << 64) + lo AS k FROM keys_arrow")
    answers = []
    disjoint = [s for s in sources if not s.overlapping and s.name != "asn_labels"]
    overlapping = [s for s in sources if s.overlapping]
    for i, source in enumerate(disjoint):  # the last start at or below the key, if its end covers it
        _range_table(con, f"r_{i}", [source])
        answers.append(f"SELECT i.id, r.* EXCLUDE (ks, ke) FROM ips i ASOF JOIN r_{i} r ON i.k >= r.ks "
                       "WHERE i.k <= r.ke")
    if overlapping:  # label lists overlap: one range join (IEJoin) over all of them at once
        _range_table(con, "r_labels", overlapping)
        answers.append("SELECT i.id, r.* EXCLUDE (ks, ke) FROM ips i JOIN r_labels r ON i.k >= r.ks AND i.k <= r.ke")
    con.execute(f"CREATE TEMP TABLE answers AS {' UNION ALL BY NAME '.join(answers)}")
    present = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE answers)").fetchall()}
    for col in (*_PAYLOAD, "source_date"):  # every answer has every column, null where its source is silent
        if col not in present:
            con.execute(f"ALTER TABLE answers ADD COLUMN {col} VARCHAR")
    by_asn = [s for s in sources if s.name == "asn_labels"]
    if by_asn:  # ASN → hosting / VPN lists apply to every address the ASN answers for
        con.register("asn_labels_arrow", by_asn[0].table)
        con.execute(f"""INSERT INTO answers BY NAME SELECT DISTINCT a.id, 'asn_labels' AS source, a.asn,
                        l.category, '{by_asn[0].source_date}' AS source_date
                        FROM answers a JOIN asn_labels_arrow l ON a.asn = l.asn::VARCHAR
                        WHERE a.source = 'routeviews_nro_dbip_asn'""")
    con.register("registered_arrow", _registered_countries(keys.column("ip")).append_column("id", keys.column("id")))
    con.execute("INSERT INTO answers BY NAME SELECT id, 'iptocc_rir' AS source, country, "
                f"'{_iptocc_date()}' AS source_date FROM registered_arrow WHERE country IS NOT NULL")
    con.execute("CREATE VIEW sources_all AS SELECT i.ip, a.* EXCLUDE (id) FROM answers a JOIN ips i USING (id)")
    info = con.execute(_FUSE_SQL).fetch_arrow_table()
    if sources_to is not None:
        con.execute(f"COPY sources_all TO '{Path(sources_to).as_posix()}' (FORMAT parquet)")
        answers_table = None
    else:
        answers_table = con.execute("SELECT * FROM sources_all").fetch_arrow_table()
    con.close()
    return Enrichment(info=info, sources=answers_table, invalid=invalid, ages=source_ages(sources, today))


def _sql_text(value: str | None) -> str:
    return "NULL::VARCHAR" if value is None else "'" + value.replace("'", "''") + "'"


def _range_table(con, name: str, sources: list[RangeSource]) -> None:
    """One engine table of ranges (ks, ke as 128-bit keys) with the payload columns and the source."""
    parts = []
    for j, source in enumerate(sources):
        cols = [c for c in _PAYLOAD if c in source.table.column_names]
        con.register(f"{name}_src_{j}", source.table.select(["start_hi", "start_lo", "end_hi", "end_lo", *cols]))
        payload = ", ".join(f"{c}::VARCHAR AS {c}" for c in cols)
        parts.append(f"SELECT (start_hi::UHUGEINT << 64) + start_lo AS ks, (end_hi::UHUGEINT << 64) + end_lo AS ke, "
                     f"'{source.name}' AS source, {_sql_text(source.source_date)} AS source_date"
                     f"{', ' + payload if payload else ''} FROM {name}_src_{j}")
    con.execute(f"CREATE TEMP TABLE {name} AS {' UNION ALL BY NAME '.join(parts)}")


def _registered_countries(ips: pa.Array) -> pa.Table:
    import iptocc

    values = ips.to_pylist()
    return pa.table({"ip": ips, "country": pa.array(iptocc.country_code(values) if values else [], pa.string())})


def _iptocc_date() -> str | None:
    from importlib.metadata import version

    return f"iptocc {version('iptocc')}"


def _class_rank() -> str:
    """Each label row's rank as a class (lower wins): the user's own files before the shipped lists,
    then CLASS_ORDER, cloud as hosting, then the connection types (residential, mobile, ...)."""
    ranked = [*CLASS_ORDER, *NETWORK_CLASSES[len(CLASS_ORDER):-1]]
    whens = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(ranked))
    return (f"(CASE WHEN source LIKE 'user:%' THEN 0 ELSE 100 END) + "
            f"(CASE CASE category WHEN 'cloud' THEN 'hosting' ELSE category END {whens} END)")


_CLASS_NAMES = "[" + ", ".join(f"'{c}'" for c in (*CLASS_ORDER, *NETWORK_CLASSES[len(CLASS_ORDER):-1])) + "]"


# The fused view. The user's own files decide the class where they say anything (they are the
# better data); otherwise the shipped lists do. Located country: GeoFeed > user files > DB-IP (NETWORK.md §5: a registration
# country misses "US cloud, Singapore region", so it is its own column). The class is the first of
# CLASS_ORDER any source labels the address with; cloud ranges count as hosting.
_FUSE_SQL = f"""
WITH labels AS (
  SELECT id,
         list_sort(list(DISTINCT category || coalesce(':' || provider, '') || coalesce(':' || region, ''))) AS labels,
         bool_or(category IN ('hosting', 'cloud')) AS is_hosting, bool_or(category = 'vpn') AS is_vpn,
         bool_or(category IN ('proxy_public', 'proxy_residential')) AS is_proxy,
         bool_or(category = 'tor_exit') AS is_tor, bool_or(category = 'relay') AS is_relay,
         min(provider) FILTER (WHERE category IN ('vpn', 'relay', 'proxy_public', 'proxy_residential'))
           AS privacy_provider,
         min(provider) FILTER (WHERE category = 'cloud') AS cloud_provider,
         min(region) FILTER (WHERE category = 'cloud') AS cloud_region,
         min({_class_rank()}) AS class_rank
  FROM answers WHERE category IS NOT NULL GROUP BY id),
facts AS (
  SELECT id,
         any_value(asn) FILTER (WHERE source = 'routeviews_nro_dbip_asn') AS asn_builtin,
         min(asn) FILTER (WHERE source LIKE 'user:%') AS asn_user,
         any_value(as_org) FILTER (WHERE source = 'routeviews_nro_dbip_asn') AS org_builtin,
         min(as_org) FILTER (WHERE source LIKE 'user:%') AS org_user,
         any_value(country) FILTER (WHERE source = 'geofeed_whois_country') AS geofeed,
         any_value(country) FILTER (WHERE source = 'dbip_lite_country') AS dbip,
         min(country) FILTER (WHERE source LIKE 'user:%') AS user_country,
         any_value(country) FILTER (WHERE source = 'iptocc_rir') AS registered,
         count(DISTINCT country) FILTER (WHERE source <> 'iptocc_rir') AS n_located
  FROM answers WHERE (asn IS NOT NULL AND source <> 'asn_labels') OR country IS NOT NULL GROUP BY id)
SELECT i.ip, i.ip_version::INTEGER AS ip_version,
       CASE WHEN i.ip_version = 4 THEN
              ((i.lo >> 24) & 255)::VARCHAR || '.' || ((i.lo >> 16) & 255)::VARCHAR || '.'
              || ((i.lo >> 8) & 255)::VARCHAR || '.0/24'
            ELSE printf('%x:%x:%x::/48', (i.hi >> 48) & 65535, (i.hi >> 32) & 65535, (i.hi >> 16) & 65535)
       END AS prefix,
       TRY_CAST(coalesce(f.asn_builtin, f.asn_user) AS BIGINT) AS asn,
       coalesce(f.org_builtin, f.org_user) AS as_org,
       coalesce(f.geofeed, f.user_country, f.dbip) AS country,
       f.dbip AS country_dbip, f.user_country AS country_user, f.registered AS registered_country,
       coalesce(f.n_located, 0) <= 1 AS country_sources_agree,
       coalesce(f.asn_user IS NULL OR f.asn_builtin IS NULL OR f.asn_user = f.asn_builtin, TRUE) AS asn_sources_agree,
       coalesce(l.labels, []::VARCHAR[]) AS labels,
       coalesce({_CLASS_NAMES}[l.class_rank % 100 + 1], 'unknown') AS network_class,
       l.privacy_provider, l.cloud_provider, l.cloud_region,
       coalesce(l.is_hosting, FALSE) AS is_hosting, coalesce(l.is_vpn, FALSE) AS is_vpn,
       coalesce(l.is_proxy, FALSE) AS is_proxy, coalesce(l.is_tor, FALSE) AS is_tor,
       coalesce(l.is_relay, FALSE) AS is_relay
FROM ips i LEFT JOIN labels l USING (id) LEFT JOIN facts f USING (id)
"""


def source_ages(sources: list[RangeSource], today: dt.date | None = None) -> list[tuple[str, str | None, int | None, bool]]:
    """(source, date, age in days, stale?) — Tor lists go stale in days, the rest in months."""
    today = today or dt.date.today()
    out = []
    for s in sources:
        days = None
        try:
            days = (today - dt.date.fromisoformat(s.source_date)).days if s.source_date else None
        except ValueError:
            pass
        limit = STALE_DAYS["tor_exit"] if "tor" in s.name else STALE_DAYS["default"]
        out.append((s.name, s.source_date, days, days is not None and days > limit))
    return out


# -- user files ---------------------------------------------------------------------------------

def user_source(path: str | Path, cache_dir: str | Path | None = None) -> RangeSource:
    """A user's MaxMind / IPinfo / DB-IP ``.mmdb`` (converted once to a range table, cached as
    Parquet by file hash) or CSV of ranges (``start,end`` plus any of asn, as_org, country,
    category, provider, region)."""
    path = Path(path)
    if path.suffix.lower() == ".mmdb":
        return _mmdb_source(path, Path(cache_dir) if cache_dir else _cache_dir())
    if path.suffix.lower() in (".csv", ".gz"):
        return _csv_source(path)
    raise ValueError(f"{path}: a network source is a .mmdb or a .csv of ranges")


def _cache_dir() -> Path:
    import os

    return Path(os.environ.get("CHORUSLINE_CACHE", Path.home() / ".cache" / "chorusline")) / "net"


def _csv_source(path: Path) -> RangeSource:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True,
                                                                      column_types={"asn": pa.string()}))
    missing = {"start", "end"} - set(table.column_names)
    if missing:
        raise ValueError(f"{path}: a CSV of ranges needs columns start and end (missing {', '.join(sorted(missing))})")
    start, end = ip_keys(table.column("start").combine_chunks()), ip_keys(table.column("end").combine_chunks())
    bad = pc.or_(pc.is_valid(start.column("reason")), pc.is_valid(end.column("reason")))
    if pc.any(bad).as_py():
        first = pc.index(bad, True).as_py()
        raise ValueError(f"{path}: line {first + 2}: {start.column('reason')[first] or end.column('reason')[first]}")
    out = {"start_hi": start.column("hi"), "start_lo": start.column("lo"), "end_hi": end.column("hi"),
           "end_lo": end.column("lo")}
    for col in _PAYLOAD:
        if col in table.column_names:
            values = table.column(col).cast(pa.string())
            out[col] = pc.replace_substring_regex(values, "^AS", "") if col == "asn" else values
    return RangeSource(f"user:{path.name}", pa.table(out), dt.date.fromtimestamp(path.stat().st_mtime).isoformat(),
                       overlapping=True)


def _mmdb_source(path: Path, cache_dir: Path) -> RangeSource:
    import hashlib

    import maxminddb
    import pyarrow.parquet as pq

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
        date = dt.datetime.fromtimestamp(meta.build_epoch, dt.timezone.utc).date().isoformat()
        cached = cache_dir / f"{path.stem}-{digest}-{meta.build_epoch}.parquet"
        if cached.exists():
            return RangeSource(f"user:{path.name}", pq.read_table(cached), date)
        rows = {k: [] for k in ("start_hi", "start_lo", "end_hi", "end_lo", *_PAYLOAD)}
        for network, record in reader:  # once per file: the reference data, not the user's rows
            first, last = int(network.network_address), int(network.broadcast_address)
            if network.version == 4:
                first, last = first | _V4_MAPPED, last | _V4_MAPPED
            fields = _mmdb_fields(record if isinstance(record, dict) else {})
            if not any(fields.values()):
                continue
            for key, value in (("start", first), ("end", last)):
                rows[f"{key}_hi"].append(value >> 64)
                rows[f"{key}_lo"].append(value & 0xFFFFFFFFFFFFFFFF)
            for col in _PAYLOAD:
                rows[col].append(fields.get(col))
    table = pa.table({k: pa.array(v, pa.uint64() if k.startswith(("start", "end")) else pa.string())
                      for k, v in rows.items()})
    cache_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, cached)
    return RangeSource(f"user:{path.name}", table, date)


def _mmdb_fields(record: dict) -> dict:
    """The payload of one MMDB record, for the layouts of NETWORK.md §8 (MaxMind ASN / Country /
    City / Anonymous-IP / Connection-Type, IPinfo Lite and privacy, DB-IP and ip-location-db)."""
    asn = record.get("autonomous_system_number") or record.get("asn")
    org = record.get("autonomous_system_organization") or record.get("as_name") or record.get("isp")
    country = (record.get("country") or {}).get("iso_code") if isinstance(record.get("country"), dict) \
        else record.get("country_code")
    category = provider = None
    flags = [("is_tor_exit_node", "tor_exit"), ("tor", "tor_exit"), ("relay", "relay"),
             ("is_residential_proxy", "proxy_residential"), ("is_anonymous_vpn", "vpn"), ("vpn", "vpn"),
             ("is_public_proxy", "proxy_public"), ("proxy", "proxy_public"), ("is_hosting_provider", "hosting"),
             ("hosting", "hosting")]
    for key, label in flags:
        if record.get(key) is True:
            category = label
            provider = record.get("provider_name") or record.get("service")
            break
    traits = record.get("traits") if isinstance(record.get("traits"), dict) else {}
    kind = record.get("connection_type") or traits.get("user_type") or record.get("type")
    if category is None and kind:
        category = {"Cellular": "mobile", "cellular": "mobile", "Cable/DSL": "residential",
                    "residential": "residential", "Corporate": "business", "business": "business",
                    "isp": "residential", "education": "education", "college": "education",
                    "government": "government", "hosting": "hosting"}.get(kind)
    return {"asn": str(asn).removeprefix("AS") if asn else None, "as_org": org, "country": country,
            "category": category, "provider": provider, "region": None}


# -- the store ----------------------------------------------------------------------------------

def enrich_store(store, user_files: list[str | Path] = (), today: dt.date | None = None) -> Enrichment:
    """Enrich every distinct ``llm_calls.ip`` of a store: writes ``network_info`` (fused, one row
    per address) and ``network_sources`` (every source's answer), replacing earlier versions, and
    quarantines bad addresses (reason and the value; file ``llm_calls.ip``). Runs in an embedded
    DuckDB whatever the store's engine: the distinct addresses of a log are few."""
    import tempfile

    import pyarrow.parquet as pq

    from chorusline.schema import QUARANTINE

    calls = store.table("llm_calls")
    with stage("enrich: read sources"):
        sources = builtin_sources() + [user_source(f) for f in user_files]
    with stage("enrich: distinct addresses"):
        ips = calls.filter(calls.ip.notnull()).select("ip").distinct().to_pyarrow().column("ip")
    with tempfile.TemporaryDirectory(prefix="chorusline-net-") as tmp:
        answers = Path(tmp) / "network_sources.parquet"
        with stage("enrich: look up"):
            result = enrich_ips(ips.combine_chunks() if ips.num_chunks else pa.array([], pa.string()), sources,
                                today, sources_to=answers)
        pq.write_table(result.info, Path(tmp) / "network_info.parquet")
        with stage("enrich: write tables"):
            for name in ("network_info", "network_sources"):
                path = Path(tmp) / f"{name}.parquet"
                store.backend.create_table(name, store.backend.read_parquet(path).cache(), overwrite=True)
    if result.invalid.num_rows:
        n = result.invalid.num_rows
        bad = pa.table({"source_file": pa.array(["llm_calls.ip"] * n), "line": pa.array([0] * n, pa.int64()),
                        "format": pa.array(["enrich:network"] * n), "table_name": pa.array(["llm_calls"] * n),
                        "reason": pc.binary_join_element_wise("bad ip: ", result.invalid.column("reason"), ""),
                        "raw": result.invalid.column("ip"),
                        "ingested_at": pa.array([dt.datetime.now(dt.timezone.utc)] * n, pa.timestamp("us", "UTC"))})
        store.append_rows(QUARANTINE, bad.cast(QUARANTINE.arrow_schema))
    return result
