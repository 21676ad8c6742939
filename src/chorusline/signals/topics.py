"""What a post is about, in the engine: political or not (a shipped lexicon), and which news
topic it touches (words learned from the ``news_events`` table). Used by ``lifecycle`` and
``news_response``.

The political lexicon is deliberately plain — governments, elections, parties, laws, taxes, trade,
borders, energy and health policy, war — in English with the commonest forms in German, French,
Spanish and Russian; it marks a post as political when any term appears as a word. It is a
first cut an analyst can extend (``POLITICAL_TERMS``), not a classifier."""

from __future__ import annotations

import ibis

POLITICAL_TERMS = (
    # government and politics
    "government", "governments", "administration", "president", "presidential", "prime minister", "minister",
    "ministry", "parliament", "congress", "senate", "senator", "lawmakers", "politician", "politicians",
    "politics", "political", "regime", "opposition", "democrat", "democrats", "republican", "republicans",
    "coalition", "policy", "policies", "legislation", "reform", "sanctions",
    # elections
    "election", "elections", "vote", "votes", "voting", "voter", "voters", "ballot", "ballots", "candidate",
    "candidates", "debate", "polls", "referendum", "campaign promises",
    # economy and trade policy
    "tariff", "tariffs", "trade deal", "trade agreement", "trade talks", "trade war", "export rules", "import quotas",
    "taxes", "tax", "budget", "inflation", "subsidies", "subsidy",
    # borders and migration
    "immigration", "immigrant", "immigrants", "migrants", "border", "borders", "asylum", "visa", "visas",
    "refugee", "refugees", "deportation", "work permit",
    # energy and health policy
    "energy plan", "gas prices", "pipeline", "power plant", "healthcare", "health care", "insurance reform",
    "hospital funding", "drug prices", "medicare", "medicaid",
    # conflict
    "war", "military", "army", "nato", "troops", "protest", "protests",
    # other languages
    "regierung", "wahl", "wahlen", "gouvernement", "élection", "élections", "gobierno", "elecciones",
    "правительство", "выборы", "президент",
)


def political(text: ibis.Value) -> ibis.BooleanValue:
    """True where the text contains a political term as a whole word (case-insensitive)."""
    terms = sorted(POLITICAL_TERMS, key=len, reverse=True)
    pattern = r"(^|[^\w])(" + "|".join(t.replace(" ", r"\s+") for t in terms) + r")([^\w]|$)"
    return text.fill_null("").lower().re_search(pattern)


def words(table: ibis.Table, column: str, min_length: int = 4) -> ibis.Table:
    """The table's rows, ``column`` replaced by ``word``: one row per distinct word (lower-cased)."""
    rows = table.mutate(word=table[column].fill_null("").lower().re_split(r"[^\w]+").unique().unnest()).drop(column)
    return rows.filter(rows.word.length() >= min_length)


def topic_keywords(news: ibis.Table, min_length: int = 4) -> ibis.Table:
    """topic, word: words that the news labels of exactly one topic use (a topic's own vocabulary)."""
    labelled = news.filter(news.topic.notnull() & news.label.notnull())
    w = words(labelled.select("topic", "label"), "label", min_length).distinct()
    exclusive = w.group_by("word").aggregate(topics=w.topic.nunique()).filter(lambda t: t.topics == 1)
    return w.join(exclusive.select("word"), "word").select("topic", "word")
