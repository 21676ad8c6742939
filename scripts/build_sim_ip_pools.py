"""Build src/chorusline/sim/data/ip_pools.csv: real IPv4 prefixes per (network class, country) for the
simulator, so simulated IPs fall in real ranges of the networks they claim to be.

Source: ../shared/data/net (ip-location-db ASN/country, CC BY 4.0; cloud/VPN labels, MIT/CC0; see
src/chorusline/sim/data/ATTRIBUTION.md). Run: .venv/bin/python scripts/build_sim_ip_pools.py
"""

from pathlib import Path

import duckdb

NET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "net"
OUT = Path(__file__).resolve().parents[1] / "src" / "chorusline" / "sim" / "data" / "ip_pools.csv"
PER_POOL = 12

# (pool, network_type, filter on ip_labels) for labelled ranges
LABELLED = [
    ("hosting:SG", "hosting", "category in ('cloud','hosting') and (region in ('ap-southeast-1','southeastasia','SG-05'))"),
    ("hosting:MY", "hosting", "category in ('cloud','hosting') and region in ('malaysiawest','malaysiasouth','ap-southeast-5')"),
    ("hosting:US", "hosting", "category = 'cloud' and region in ('us-east-1','us-central1','eastus')"),
    ("hosting:DE", "hosting", "category = 'cloud' and region in ('eu-central-1','europe-west3','germanywestcentral')"),
    ("vpn:any", "vpn", "category = 'vpn' and provider is not null"),
]
# (pool, network_type, ASNs) for ISP ranges
BY_ASN = [
    ("residential:US", "residential", [7922, 7018, 20115, 701]),
    ("residential:GB", "residential", [2856, 5089]),
    ("residential:DE", "residential", [3320, 3209]),
    ("residential:FR", "residential", [3215, 12322]),
    ("residential:CA", "residential", [812, 577]),
    ("residential:CN", "residential", [4134, 4837]),
    ("residential:IN", "residential", [9829, 24560]),
    ("residential:BR", "residential", [28573, 18881]),
    ("residential:SG", "residential", [3758, 9506]),
    ("residential:MY", "residential", [4788]),
    ("mobile:US", "mobile", [21928, 22394]),
    ("mobile:GB", "mobile", [12576]),
    ("business:US", "business", [3356, 174]),
    ("business:DE", "business", [3257]),
]


def main() -> None:
    con = duckdb.connect()
    con.execute(f"create view asn as select * from '{NET}/ip_asn.parquet' where ip_version = 4")
    con.execute(f"create view cc as select * from '{NET}/ip_country.parquet' where ip_version = 4")
    con.execute(f"create view labels as select * from '{NET}/ip_labels.parquet' where cidr like '%.%/%'")
    parts = []
    for pool, kind, where in LABELLED:
        parts.append(f"""
          (select '{pool}' pool, cidr, provider, '{kind}' network_type,
                  split_part(cidr, '/', 1) first_ip, cast(split_part(cidr, '/', 2) as int) bits
           from labels where {where} and cast(split_part(cidr, '/', 2) as int) between 16 and 26
           order by hash(cidr) limit {PER_POOL})""")
    for pool, kind, asns in BY_ASN:
        parts.append(f"""
          (select '{pool}' pool, start_ip || '/24' cidr, null provider, '{kind}' network_type,
                  start_ip first_ip, 24 bits
           from asn where asn in ({','.join(map(str, asns))}) and end_lo - start_lo >= 255
                and start_lo % 256 = 0 order by hash(start_ip) limit {PER_POOL})""")
    con.execute("create table picked as " + " union all ".join(parts))
    # Resolve each prefix's origin ASN and registry country from the same open tables.
    rows = con.sql("""
        with ips as (
          select *, (cast(split_part(first_ip,'.',1) as ubigint) << 24) + (cast(split_part(first_ip,'.',2) as ubigint) << 16)
                    + (cast(split_part(first_ip,'.',3) as ubigint) << 8) + cast(split_part(first_ip,'.',4) as ubigint) n
          from picked)
        select ips.pool, ips.cidr, cc.country_code country, asn.asn, asn.as_org, ips.network_type, ips.provider
        from ips
        asof left join asn on ips.n >= asn.start_lo
        asof left join cc on ips.n >= cc.start_lo
        where asn.end_lo >= ips.n and cc.end_lo >= ips.n
          -- an ISP pool claims a country; hosting pools keep registry quirks (a US-registered
          -- cloud range in Malaysia is the case the detector must catch)
          and (ips.network_type not in ('residential', 'mobile') or cc.country_code = split_part(ips.pool, ':', 2))
        order by ips.pool, ips.cidr
    """)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows.write_csv(str(OUT))
    print(con.sql(f"select pool, count(*) n, string_agg(distinct country, ',') countries from '{OUT}' group by 1 order by 1"))


if __name__ == "__main__":
    main()
