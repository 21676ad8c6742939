"""Narratives: the groups inside one campaign that push the same things (docs/DETECTION.md §8).

Detection by coordination sees one operation where its accounts work together; inside it, accounts
often play different roles — one set retweets right-wing content, another poses as a news feed,
another plays hashtag games. The roles show in *what* each member pushes, so:

1. **In the engine** (Ibis; DuckDB or Spark): every member's posts become terms of five families —
   hashtags, mentions, URL domains (the ``shares`` view's objects), amplified accounts (whom its
   reposts and quotes target) and words of its text (URLs, @ and # tokens taken out; a repost's text
   is the reposted text, which is what it pushes). Counted per (campaign, member, term); terms that
   fewer than ``min_term_members`` members use cannot group anyone and stay in the engine, as does
   the tail past ``max_terms`` per family (the bound on what leaves it).
2. **Per campaign, in numpy** (a members × terms matrix): TF-IDF profiles with sublinear tf
   (``1 + ln n``: a member posting one hashtag 500 times is not 500 times about it) and smooth idf
   over the campaign's members (terms every member uses are dropped: they separate no one). Each
   family is L2-normalised on its own, then the whole profile, so the large word vocabulary does not
   drown the hashtags: every kind of push is one voice.
3. The cosine similarities of the profiles form a weighted graph (each member's ``max_neighbours``
   most similar, all pairs in campaigns up to that size); Leiden finds its modularity optimum
   (``RBConfigurationVertexPartition``, resolution 1, seed fixed, members sorted by name). The
   number of narratives is what the data gives, not a parameter. A group of fewer than
   ``min_narrative_members`` (3) joins the narrative it is most similar to: two accounts are a
   pair, not a narrative; so campaigns with fewer than 6 members with posts are one narrative.
4. Each narrative is described by its **top terms** (highest mean profile weight inside the
   narrative minus outside it) and **example posts** (the members' posts carrying the most of those
   terms, then posted by the most members) — engine queries again.

Dates and times are never features: when an account posted says nothing about what it pushes, and
on real sets the collection dates are a confound.

Members without posts (API accounts) get no narrative; ``narrative_members`` leaves them out.
Which members: a campaign's flagged members where it has any, else all its members — an
unreported cluster is still read by an analyst, and its narratives are part of that reading."""

from __future__ import annotations

import json
from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.engine import reused
from chorusline.signals.shares import shares_view
from chorusline.signals.topics import words

FAMILIES = ("hashtag", "mention", "domain", "amplified", "word")
_URL = r"https?://\S+"
_SEP = "\x1f"  # between family and term in a column key (a control character no term holds)
# how a term is shown: "#tag", "@name", "RT @name", a domain or a word as it is
_SHOWN = {"hashtag": "#{}", "mention": "@{}", "amplified": "RT @{}", "domain": "{}", "word": "{}"}

NARRATIVE_MEMBERS_SCHEMA = pa.schema([("campaign_id", pa.int64()), ("actor", pa.string()),
                                      ("narrative_id", pa.int64())])
NARRATIVES_SCHEMA = pa.schema([("campaign_id", pa.int64()), ("narrative_id", pa.int64()), ("members", pa.int64()),
                               ("top_terms", pa.string()), ("example_post_ids", pa.string()),
                               ("example_texts", pa.string())])


@dataclass(frozen=True)
class NarrativeParams:
    families: tuple[str, ...] = FAMILIES  # the kinds of terms a member's profile is made of
    min_narrative_members: int = 3  # smaller groups join their nearest narrative (so < 6 members: one)
    min_term_members: int = 2  # a term used by one member cannot group anyone
    max_terms: int = 20_000  # per campaign and family, the widest used (bounds what leaves the engine)
    min_word_length: int = 4  # shorter words are mostly function words
    max_neighbours: int = 200  # each member's most similar members in the graph (all, up to this size)
    resolution: float = 1.0  # Leiden modularity resolution: 1 is modularity's own optimum
    seed: int = 42
    top_terms: int = 12  # terms that describe a narrative
    examples: int = 3  # example posts per narrative
    max_members: int = 5_000  # campaigns with more members in scope get none (the similarity is n × n)


def narrative_scope(campaign_members: ibis.Table, max_members: int | None = None) -> ibis.Table:
    """campaign_id, actor: a campaign's flagged members where it has any, else all its members;
    campaigns with more than ``max_members`` of them are left out (the member × member similarity
    grows with the square: a benign crowd of 30,000 would need gigabytes, and nobody reads its
    narratives)."""
    m = campaign_members
    any_flagged = m.flagged.cast("int64").max().over(group_by=m.campaign_id)
    m = m.mutate(_any=any_flagged)
    m = m.filter(m.flagged | (m._any == 0))
    if max_members is not None:
        m = m.filter(m.count().over(group_by=m.campaign_id) <= max_members)
    return m.select("campaign_id", "actor")


def post_terms(members: ibis.Table, posts: ibis.Table, params: NarrativeParams = NarrativeParams()) -> ibis.Table:
    """campaign_id, actor, post_id, family, term: what each member's posts push, a row per (post, term)."""
    unknown = set(params.families) - set(FAMILIES)
    if unknown or not params.families:
        raise ValueError(f"unknown term family(ies) {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    members = members.select("campaign_id", "actor")
    # terms per post first, then the campaigns: a post is tokenised once however many campaigns read it
    p = _with_actor(posts).semi_join(members, "actor")
    parts = []
    objects = [f for f in params.families if f in ("hashtag", "mention", "domain")]
    if objects:  # the objects the co-sharing signals read, named the same way
        s = _with_actor(shares_view(p, tuple(objects)))
        s = s.select("actor", post_id=s.content_id, family=s.object_type, term=s.object_id.lower())
        # a host name, not what a truncated link leaves ("t…")
        parts.append(s.filter((s.family != "domain") | s.term.re_search(r"^[\w-]+(\.[\w-]+)+$")))
    if "amplified" in params.families:
        a = p.filter(p.kind.isin(("repost", "quote")) & p.target_account_id.notnull() & (p.target_account_id != ""))
        parts.append(a.select("actor", "post_id", family=ibis.literal("amplified"), term=a.target_account_id.lower()))
    if "word" in params.families:
        text = p.text.fill_null("").re_replace(_URL + r"|[@#]\w+", " ")
        w = words(p.select("actor", "post_id", text=text), "text", params.min_word_length)
        parts.append(w.select("actor", "post_id", family=ibis.literal("word"), term=w.word))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out.join(members, "actor").select("campaign_id", "actor", "post_id", "family", "term")


def _with_actor(table: ibis.Table) -> ibis.Table:
    return table.mutate(actor=table.platform.concat(":", table.account_id))


def member_term_counts(terms: ibis.Table, params: NarrativeParams = NarrativeParams()) -> ibis.Table:
    """campaign_id, actor, family, term, n (the member's posts carrying it): only terms that at least
    ``min_term_members`` members use, at most ``max_terms`` per (campaign, family), widest used first."""
    c = terms.group_by(["campaign_id", "actor", "family", "term"]).aggregate(n=terms.count())
    c = c.mutate(_users=c.actor.count().over(group_by=[c.campaign_id, c.family, c.term]))
    c = c.filter(c._users >= params.min_term_members)
    rank = ibis.dense_rank().over(group_by=[c.campaign_id, c.family], order_by=[ibis.desc(c._users), c.term])
    c = c.mutate(_rank=rank)
    return c.filter(c._rank < params.max_terms).select("campaign_id", "actor", "family", "term", "n")


@dataclass(frozen=True)
class Profiles:
    """One campaign's members × terms TF-IDF matrix as its non-zero cells (``weight`` at ``row``,
    ``col``): members are rows (sorted by name), terms columns. A vocabulary of any size costs
    memory only in its cells and the members × members similarity."""

    row: np.ndarray
    col: np.ndarray
    weight: np.ndarray
    shape: tuple[int, int]

    def similarity(self, chunk: int = 4096) -> np.ndarray:
        """Cosine similarity of every pair of members, summed over dense slices of ``chunk`` terms."""
        n, terms = self.shape
        sim = np.zeros((n, n))
        order = np.argsort(self.col, kind="stable")
        bounds = np.searchsorted(self.col[order], np.arange(0, terms + chunk, chunk))
        for start, stop, first in zip(bounds[:-1], bounds[1:], range(0, terms, chunk)):
            block = np.zeros((n, chunk))
            cells = order[start:stop]
            block[self.row[cells], self.col[cells] - first] = self.weight[cells]
            sim += block @ block.T
        return sim

    def column_means(self, group: np.ndarray, groups: int) -> np.ndarray:
        """groups × terms: each group's mean profile (``group``: each member's group)."""
        sums = np.bincount(group[self.row] * self.shape[1] + self.col, weights=self.weight,
                           minlength=groups * self.shape[1]).reshape(groups, self.shape[1])
        return sums / np.bincount(group, minlength=groups)[:, None]


def profiles(row: np.ndarray, col: np.ndarray, n: np.ndarray, shape: tuple[int, int],
             col_family: np.ndarray) -> Profiles:
    """TF-IDF profiles (the module docstring says how) from the counts as cells: member ``row``,
    term ``col``, count ``n``; ``col_family``: each term's family as a small integer."""
    members = shape[0]
    used = np.bincount(col, minlength=shape[1])[col]
    weight = (1.0 + np.log(n.astype(np.float64))) * (np.log((1.0 + members) / (1.0 + used)) + 1.0)
    weight[used >= members] = 0.0  # a term every member uses separates no one
    families = int(col_family.max()) + 1 if len(col_family) else 1
    block = row * families + col_family[col]
    weight = weight / _norms(block, weight, members * families)  # each family one voice
    weight = weight / _norms(row, weight, members)
    return Profiles(row, col, weight, shape)


def _norms(group: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """Each cell's group's L2 norm (1 where it is 0)."""
    norm = np.sqrt(np.bincount(group, weights=weight**2, minlength=groups))[group]
    return np.where(norm == 0, 1.0, norm)


def partition(profile: Profiles, params: NarrativeParams = NarrativeParams()) -> np.ndarray:
    """A narrative per member (0 = the largest): Leiden's modularity optimum on the cosine graph,
    groups under ``min_narrative_members`` joined to the narrative they are most similar to."""
    n = profile.shape[0]
    if n < 2 * params.min_narrative_members:
        return np.zeros(n, dtype=np.int64)
    import igraph as ig
    import leidenalg

    sim = profile.similarity()
    np.fill_diagonal(sim, -np.inf)
    k = min(params.max_neighbours, n - 1)
    nearest = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    keep = np.zeros((n, n), dtype=bool)
    keep[np.repeat(np.arange(n), k), nearest.ravel()] = True
    keep = (keep | keep.T) & (sim > 0)
    a, b = np.nonzero(np.triu(keep, 1))
    g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist())
    g.es["weight"] = sim[a, b].tolist()
    found = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                     resolution_parameter=params.resolution, seed=params.seed)
    np.fill_diagonal(sim, 1.0)
    return _by_size(_join_small(np.asarray(found.membership), sim, params.min_narrative_members))


def _join_small(membership: np.ndarray, sim: np.ndarray, min_size: int) -> np.ndarray:
    """Two accounts are a pair, not a narrative: the smallest group under ``min_size`` joins the
    group its members are most similar to on average, until none is that small (or one is left)."""
    membership = membership.copy()
    while True:
        groups, sizes = np.unique(membership, return_counts=True)
        if len(groups) < 2 or sizes.min() >= min_size:
            return membership
        small = groups[np.lexsort((groups, sizes))[0]]
        inside = membership == small
        others = groups[groups != small]
        closeness = [sim[np.ix_(inside, membership == o)].mean() for o in others]
        membership[inside] = others[int(np.argmax(closeness))]


def _by_size(membership: np.ndarray) -> np.ndarray:
    """Groups renumbered 0.. by size, largest first; ties by the first member (rows sorted by name)."""
    groups, first, sizes = np.unique(membership, return_index=True, return_counts=True)
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups))
    return rank[np.searchsorted(groups, membership)]


def top_terms(profile: Profiles, narrative: np.ndarray, limit: int) -> list[np.ndarray]:
    """Per narrative, the columns whose mean weight inside exceeds the mean outside the most."""
    groups = int(narrative.max()) + 1 if len(narrative) else 0
    inside = profile.column_means(narrative, groups)
    sizes = np.bincount(narrative, minlength=groups)[:, None]
    others = len(narrative) - sizes
    total = (inside * sizes).sum(axis=0)
    lift = inside - np.where(others > 0, (total - inside * sizes) / np.maximum(others, 1), 0.0)
    out = []
    for k in range(groups):
        best = np.argsort(-lift[k], kind="stable")[:limit]  # columns are sorted keys: ties by term
        out.append(best[lift[k, best] > 0])
    return out


def member_narratives(members: ibis.Table, posts: ibis.Table,
                      params: NarrativeParams = NarrativeParams()) -> tuple[pa.Table, pa.Table]:
    """members (campaign_id, actor), posts → (narrative_members, narratives) as Arrow tables:
    campaign_id, actor, narrative_id; and campaign_id, narrative_id, members, top_terms,
    example_post_ids, example_texts (the last three JSON lists)."""
    terms = reused(post_terms(members, posts, params))
    who = terms.select("campaign_id", "actor").distinct().to_pyarrow()
    counts = member_term_counts(terms, params).to_pyarrow()
    assigned, described = [], []
    for campaign in sorted(set(who["campaign_id"].to_pylist())):  # per campaign (few), not per row
        actors = np.unique(np.asarray(who.filter(pc.equal(who["campaign_id"], campaign))["actor"], dtype=str))
        mine = counts.filter(pc.equal(counts["campaign_id"], campaign))
        family = np.asarray(mine["family"], dtype=str)
        keys, cols = np.unique(np.char.add(np.char.add(family, _SEP), np.asarray(mine["term"], dtype=str)),
                               return_inverse=True)
        keys = [tuple(k.split(_SEP, 1)) for k in keys.tolist()]
        profile = profiles(np.searchsorted(actors, np.asarray(mine["actor"], dtype=str)), cols,
                           np.asarray(mine["n"]), (len(actors), len(keys)),
                           np.array([FAMILIES.index(f) for f, _ in keys], dtype=np.int64))
        narrative = partition(profile, params)
        assigned.append(pa.table({"campaign_id": pa.array([campaign] * len(actors), pa.int64()),
                                  "actor": actors.tolist(), "narrative_id": narrative.astype(np.int64)},
                                 schema=NARRATIVE_MEMBERS_SCHEMA))
        for k, best in enumerate(top_terms(profile, narrative, params.top_terms)):
            described.append({"campaign_id": campaign, "narrative_id": k, "members": int((narrative == k).sum()),
                              "top_terms": [keys[i] for i in best]})
    assignments = pa.concat_tables(assigned) if assigned else NARRATIVE_MEMBERS_SCHEMA.empty_table()
    return assignments, _with_examples(described, assignments, terms, posts, params)


def _with_examples(described: list[dict], assignments: pa.Table, terms: ibis.Table, posts: ibis.Table,
                   params: NarrativeParams) -> pa.Table:
    """The narratives with their example posts: the members' posts carrying the most of the
    narrative's top terms, then those posted by the most members (one post id per text)."""
    if not described:
        return NARRATIVES_SCHEMA.empty_table()
    wanted = pa.Table.from_pylist(
        [{"campaign_id": d["campaign_id"], "narrative_id": d["narrative_id"], "family": f, "term": t}
         for d in described for f, t in d["top_terms"]],
        schema=pa.schema([("campaign_id", pa.int64()), ("narrative_id", pa.int64()), ("family", pa.string()),
                          ("term", pa.string())]))
    t = terms.join(ibis.memtable(assignments), ["campaign_id", "actor"])
    t = t.join(ibis.memtable(wanted), ["campaign_id", "narrative_id", "family", "term"])
    hits = t.group_by(["campaign_id", "narrative_id", "actor", "post_id"]).aggregate(hits=t.count())
    text = _with_actor(posts).select("actor", "post_id", "text")
    h = hits.join(text, ["actor", "post_id"])
    h = h.filter(h.text.notnull() & (h.text != ""))
    # one text posted with different links is one example
    h = h.mutate(_same=h.text.re_replace(_URL, "").lower().strip())
    per_text = h.group_by(["campaign_id", "narrative_id", "_same"]).aggregate(
        hits=h.hits.max(), posters=h.actor.nunique(), post_id=h.post_id.min(), text=h.text.argmin(h.post_id))
    rank = ibis.row_number().over(group_by=[per_text.campaign_id, per_text.narrative_id],
                                  order_by=[ibis.desc(per_text.hits), ibis.desc(per_text.posters), per_text.post_id])
    best = per_text.mutate(_rank=rank).filter(lambda x: x._rank < params.examples)
    examples: dict[tuple, list[dict]] = {}
    for r in best.order_by(["campaign_id", "narrative_id", "_rank"]).to_pyarrow().to_pylist():
        examples.setdefault((r["campaign_id"], r["narrative_id"]), []).append(r)
    out = []
    for d in described:
        mine = examples.get((d["campaign_id"], d["narrative_id"]), [])
        out.append({**d, "top_terms": _json([_SHOWN[f].format(t) for f, t in d["top_terms"]]),
                    "example_post_ids": _json([r["post_id"] for r in mine]),
                    "example_texts": _json([r["text"] for r in mine])})
    return pa.Table.from_pylist(out, schema=NARRATIVES_SCHEMA)


def _json(values: list) -> str:
    return json.dumps(values, ensure_ascii=False)


def save_narratives(store, params: NarrativeParams = NarrativeParams()) -> pa.Table:
    """campaign_members (+ posts) → ``narrative_members`` and ``narratives`` in the store; returns
    the narratives."""
    members = narrative_scope(store.table("campaign_members"), params.max_members)
    assignments, narratives = member_narratives(members, store.table("posts"), params)
    store.backend.create_table("narrative_members", assignments, overwrite=True)
    store.backend.create_table("narratives", narratives, overwrite=True)
    return narratives
