"""Network enrichment: the shipped tables' documented lookups, bad addresses, user sources
(.mmdb and CSV), staleness, and the store on DuckDB and Spark."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from chorusline.enrich.network import builtin_sources, enrich_ips, enrich_store, ip_keys, source_ages, user_source
from chorusline.schema import LLM_CALLS


@pytest.fixture(scope="module")
def sources():
    return builtin_sources()


def lookup(ips, sources):
    return enrich_ips(pa.array(ips), sources).info.to_pandas().set_index("ip")


# the example lookups of the data's README (computed there with the same ASOF join)
EXAMPLES = [
    ("8.8.8.8", 15169, "US", "US", "hosting", None),
    ("1.1.1.1", 13335, "AU", "AU", "unknown", None),
    ("2001:4860:4860::8888", 15169, "US", "CA", "hosting", None),
    ("3.2.76.0", 16509, "SG", "SG", "hosting", None),
    ("103.253.147.0", 14061, "SG", "SG", "hosting", None),
    ("23.159.216.127", 17243, "US", "US", "vpn", "mullvad"),
    ("5.157.13.3", 41564, "SC", "IE", "vpn", "protonvpn"),
    ("104.28.28.79", 13335, "VU", "AU", "relay", "apple_private_relay"),
    ("5.45.98.162", 197540, "DE", "DE", "tor_exit", None),
]


def test_documented_lookups(sources):
    got = lookup([e[0] for e in EXAMPLES], sources)
    for ip, asn, country, dbip, klass, provider in EXAMPLES:
        row = got.loc[ip]
        assert (row.asn, row.country, row.country_dbip, row.network_class) == (asn, country, dbip, klass), ip
        assert (row.privacy_provider if isinstance(row.privacy_provider, str) else None) == provider, ip
        assert row.country_sources_agree == (country == dbip), ip
    # the seed case: a US cloud's Singapore region is registered US but located SG
    assert (got.loc["3.2.76.0", "registered_country"], got.loc["3.2.76.0", "cloud_region"]) == ("US", "ap-southeast-1")
    assert "cloud:aws:ap-southeast-1" in list(got.loc["3.2.76.0", "labels"])
    assert got.loc["8.8.8.8", "prefix"] == "8.8.8.0/24" and got.loc["2001:4860:4860::8888", "prefix"] == "2001:4860:4860::/48"


def test_unrouted_addresses_get_no_asn_and_mapped_ipv4_is_ipv4(sources):
    got = lookup(["10.0.0.1", "::ffff:8.8.8.8"], sources)
    assert pd.isna(got.loc["10.0.0.1", "asn"])  # the gap guard: not the previous range's ASN
    assert got.loc["::ffff:8.8.8.8", "asn"] == 15169 and got.loc["::ffff:8.8.8.8", "ip_version"] == 4


def test_bad_addresses_are_named_with_their_reason():
    keys = ip_keys(pa.array(["1.2.3.4", " 1.2.3.4 ", "", "1.2.3", "256.1.1.1", "1.2.3.4:80", "fe80::1%eth0", "2001:db8::1",
                             "::ffff:1.2.3.4", None]))
    reasons = dict(zip(range(keys.num_rows), keys.column("reason").to_pylist()))
    assert [i for i, r in reasons.items() if r is None] == [0, 1, 7, 8]
    assert reasons[2] == reasons[9] == "empty ip"
    assert "not an IPv4 or IPv6 address: '256.1.1.1'" == reasons[4]
    assert "not an IPv6 address" in reasons[5] and "not an IPv6 address" in reasons[6]
    assert keys.column("lo")[0].as_py() == 0xFFFF00000000 | 0x01020304
    assert keys.column("lo")[8].as_py() == 0xFFFF00000000 | 0x01020304  # ::ffff:1.2.3.4 is 1.2.3.4


def test_a_users_mmdb_is_read_cached_and_kept_beside_the_shipped_answers(tmp_path, sources):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-Anonymous-IP", ipv4_compatible=True)
    writer.insert_network(IPSet(["8.8.8.0/24"]), {"is_anonymous_vpn": True, "provider_name": "examplevpn"})
    writer.insert_network(IPSet(["1.1.1.0/24"]), {"connection_type": "Cellular", "country": {"iso_code": "NZ"}})
    path = tmp_path / "anon.mmdb"
    writer.to_db_file(str(path))
    user = user_source(path, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 1
    assert user_source(path, cache_dir=tmp_path / "cache").table.equals(user.table)  # read from the cache
    result = enrich_ips(pa.array(["8.8.8.8", "1.1.1.1"]), sources + [user])
    got = result.info.to_pandas().set_index("ip")
    assert got.loc["8.8.8.8", "network_class"] == "vpn" and got.loc["8.8.8.8", "privacy_provider"] == "examplevpn"
    assert got.loc["1.1.1.1", "network_class"] == "mobile"
    assert got.loc["1.1.1.1", "country_user"] == "NZ" and not got.loc["1.1.1.1", "country_sources_agree"]
    answers = result.sources.to_pandas()
    assert set(answers[answers.ip == "8.8.8.8"].source) >= {"user:anon.mmdb", "routeviews_nro_dbip_asn", "iptocc_rir"}


def test_a_users_csv_of_ranges(tmp_path, sources):
    path = tmp_path / "office.csv"
    path.write_text("start,end,category,provider,country,asn\n192.0.2.0,192.0.2.255,business,acme corp,FR,AS64500\n")
    got = lookup_with(["192.0.2.9"], sources + [user_source(path)])
    assert (got.loc["192.0.2.9", "network_class"], got.loc["192.0.2.9", "country"], got.loc["192.0.2.9", "asn"]) == \
        ("business", "FR", 64500)
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end\n192.0.2.0,nope\n")
    with pytest.raises(ValueError, match="bad.csv: line 2"):
        user_source(bad)


def lookup_with(ips, sources):
    return enrich_ips(pa.array(ips), sources).info.to_pandas().set_index("ip")


def test_stale_sources_are_reported(sources):
    ages = {name: (days, stale) for name, _, days, stale in source_ages(sources, dt.date(2026, 8, 23))}
    assert ages["tor_onionoo_exits"] == (1, False)
    assert ages["routeviews_nro_dbip_asn"] == (67, False)
    ages = {name: stale for name, _, _, stale in source_ages(sources, dt.date(2026, 8, 26))}
    assert ages["tor_onionoo_exits"] and not ages["routeviews_nro_dbip_asn"]  # Tor goes stale in days


def test_store_gets_network_tables_and_bad_addresses_are_quarantined(any_store):
    n = 4
    calls = pd.DataFrame({"platform": ["api"] * n, "call_id": [f"c{i}" for i in range(n)], "account_id": ["k"] * n,
                          "ts": pd.to_datetime([0] * n, unit="s", utc=True),
                          "ip": ["3.2.76.0", "5.157.13.3", "not-an-ip", "3.2.76.0"]})
    for col in LLM_CALLS.column_names:
        if col not in calls:
            calls[col] = None
    any_store.append_rows(LLM_CALLS, pa.Table.from_pandas(calls[LLM_CALLS.column_names], schema=LLM_CALLS.arrow_schema,
                                                          preserve_index=False))
    for _ in range(2):  # enriching again replaces the tables and quarantines nothing twice
        enrich_store(any_store)
    info = any_store.table("network_info").to_pandas().set_index("ip")
    assert sorted(info.index) == ["3.2.76.0", "5.157.13.3"]
    assert info.loc["3.2.76.0", "country"] == "SG" and info.loc["5.157.13.3", "network_class"] == "vpn"
    q = any_store.table("quarantine").to_pandas()
    assert list(q.raw) == ["not-an-ip"] and q.reason[0].startswith("bad ip: ")
