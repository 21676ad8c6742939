"""prompt_template: API accounts filling the same prompt template with different slots, and the
share of each account's prompts that instruct the model to write as a persona.

The template is found by *skeleton hashing* in the engine: a prompt's skeleton is the prompt with
its slots masked as ``§`` — digits, quoted spans, what follows the first colon (the "instruction:
payload" shape), and, in a prompt written in a non-Latin script, every run of Latin-script words
(an operator writing in their own language fills persona, topic and stance in English:
"以§的视角用英文评论§，口语化，§，加一个问句。"). A skeleton is a template when it is filled at
least ``min_fills`` different ways. Accounts sharing a template are paired, each template weighted
by its rarity among API accounts (log(N/n)/log N) as in `infrastructure`, and a template used by
more than ``max_accounts`` accounts (a product's built-in prompt) makes no pairs.

Templates whose slots are ordinary words inside a Latin-script sentence ("write as a veteran from
Ohio about taxes") keep their words in the skeleton and are not matched here; near-duplicate
prompts (MinHash, `near_duplicate`) are the way to them, left for later.

Features (account_features): ``prompt_template:persona_instruction_share`` and
``prompt_template:n_prompts``."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

# Cyrillic, Hebrew, Arabic, Devanagari, Thai, kana, CJK, Hangul — as code-point ranges, which both
# DuckDB (RE2) and Spark (Java) read the same way
_NON_LATIN = (r"[\x{0400}-\x{04FF}\x{0590}-\x{06FF}\x{0900}-\x{097F}\x{0E00}-\x{0E7F}\x{3040}-\x{30FF}"
              r"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{AC00}-\x{D7AF}]")
_LATIN_RUN = r"[A-Za-z][A-Za-z0-9'’&./\- ]*[A-Za-z0-9]|[A-Za-z]"
# The persona patterns run on RE2 (DuckDB) and java.util.regex (Spark), which read several constructs
# differently, so they are written with none of them: `\b` (RE2: ASCII word boundary; Java 17: any
# letter or digit, so "в роли" after a space matched on Spark only), `(?i)` on non-ASCII letters (RE2
# folds Cyrillic case, Java without the u flag, which RE2 lacks, does not: "От имени" matched on DuckDB
# only), `.` (Java also stops at \r, U+0085, U+2028, U+2029) and `\s` (Java adds \x0B). Instead:
# explicit boundaries, case classes, [^\n] and the whitespace RE2 means by \s.
_W = "A-Za-z0-9_"  # RE2's \w (and Java's)
_START, _END = f"(^|[^{_W}])", f"([^{_W}]|$)"  # \b before / after an ASCII word, as RE2 reads it
_S = r"[\t\n\f\r ]"
_ANY = r"[^\n]"
_WORD_START = r"(^|[^\p{L}\p{N}_])"  # the start of a word in any script


def _cased(text: str) -> str:
    """Each letter as [Uu]: case-insensitive the same way on both engines, Cyrillic included."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in text)


# "write … as a …", "you are a …", "in the voice of", and their Chinese (以…的视角, 模仿…的口吻, 扮演),
# Russian (от лица, в роли, как a …) and Spanish (como un/una, en la voz de) forms
PERSONA_PATTERNS = (
    # between the verb and "as": 1..60 characters, the first and the last not a word character (the
    # two \b of `\b(write|…)\b.{0,60}\b(as|like)`)
    rf"(?i){_START}(write|post|reply|respond|comment|tweet|speak|answer)[^{_W}\n]({_ANY}{{0,58}}[^{_W}\n])?"
    rf"(as|like){_S}+(an?|the|one){_S}",
    rf"(?i){_START}(pretend|imagine){_S}+(you are|you're|to be){_END}",
    rf"(?i){_START}you are an?{_S}+[{_W}]", rf"(?i){_START}in the voice of{_END}",
    rf"以{_ANY}{{1,60}}的(视角|身份|口吻|语气)", rf"模仿{_ANY}{{1,60}}的(口吻|语气|风格)", r"扮演",
    rf"{_cased('от')} ({_cased('лица')}|{_cased('имени')}){_S}", rf"{_WORD_START}{_cased('в роли')}{_S}",
    rf"(?i)(^|{_S}){_cased('как')}{_S}+an?{_S}",
    rf"(?i){_START}como{_S}+(an?|un|una|si fueras){_S}", rf"(?i){_START}haci[eéÉ]ndote pasar por{_END}",
    rf"(?i){_START}en la voz de{_END}",
)


@dataclass(frozen=True)
class PromptTemplateParams:
    min_fills: int = 2  # different prompts with one skeleton before it counts as a template
    max_accounts: int = 500
    min_skeleton_chars: int = 6  # what is left besides the slots must say something


def _is_persona_instruction(prompt: ibis.StringValue) -> ibis.BooleanValue:
    hit = ibis.literal(False)
    for pattern in PERSONA_PATTERNS:
        hit = hit | prompt.re_search(pattern)
    return hit


def skeleton(prompt: ibis.StringValue) -> ibis.StringValue:
    s = prompt.strip()
    s = s.re_replace(r"\d+", "0").re_replace(r"\"[^\"]*\"|“[^”]*”|'[^']{3,}'", "§")
    non_latin = s.re_search(_NON_LATIN)
    # no back-references in replacements: DuckDB writes them \1, Spark $1
    head = s.lower().re_extract(r"^([^:：]{8,}?)[:：]", 1).fill_null("")
    latin = ibis.ifelse(head.length() > 0, head.concat(": §"), s.lower())
    s = ibis.ifelse(non_latin, s.re_replace(_LATIN_RUN, "§"), latin)
    return s.re_replace(r"\s+", " ")


def prompt_template_edges(calls: ibis.Table, params: PromptTemplateParams = PromptTemplateParams()) -> ibis.Table:
    """Edges (ARCHITECTURE §4): signal ``prompt_template:persona`` for templates whose prompts mostly
    ask the model to write as someone, ``prompt_template`` for the rest; weight = summed rarity of
    the shared templates, n_events = shared templates; evidence = up to 3 skeletons."""
    c = calls.filter(calls.prompt.notnull() & (calls.prompt.strip() != ""))
    c = c.select(actor=c.platform.concat(":", c.account_id), prompt=c.prompt, _t=c.ts.epoch_seconds().cast("int64"),
                 skel=skeleton(c.prompt), _persona=_is_persona_instruction(c.prompt).cast("int64"))
    c = c.filter(c.skel.contains("§") & (c.skel.replace("§", "").strip().length() >= params.min_skeleton_chars))
    total = calls.select(actor=calls.platform.concat(":", calls.account_id)).distinct().count()
    per = c.group_by("skel").aggregate(n=c.actor.nunique(), fills=c.prompt.nunique(), persona=c._persona.mean())
    rarity = ((total.cast("float64") / per.n.cast("float64")).ln()
              / ibis.greatest(total.cast("float64"), ibis.literal(2.0)).ln())
    per = per.filter((per.fills >= params.min_fills) & (per.n >= 2) & (per.n <= params.max_accounts))
    per = per.mutate(rarity=rarity)
    uses = c.group_by(["actor", "skel"]).aggregate(first=c._t.min(), last=c._t.max()).join(per, "skel")
    a, b = uses.view(), uses.view()
    pairs = a.join(b, [a.skel == b.skel, a.actor < b.actor]).select(
        a_actor=a.actor, b_actor=b.actor, skel=a.skel, rarity=a.rarity,
        kind=ibis.ifelse(a.persona >= 0.5, "prompt_template:persona", "prompt_template"),
        first=ibis.least(a["first"], b["first"]), last=ibis.greatest(a["last"], b["last"]))
    e = pairs.group_by(["a_actor", "b_actor", "kind"]).aggregate(weight=pairs.rarity.sum(), n_events=pairs.count(),
                                                         first=pairs["first"].min(), last=pairs["last"].max(),
                                                         skels=pairs.skel.collect())
    evidence = ibis.literal('["').concat(e.skels[:3].map(lambda v: v.substr(0, 200).replace('"', "'")).join('","'),
                                         '"]')
    return e.select("a_actor", "b_actor", signal=e.kind, weight=e.weight,
                    n_events=e.n_events, first_ts=e["first"].as_timestamp("s"), last_ts=e["last"].as_timestamp("s"),
                    evidence=evidence)


def persona_instruction_features(calls: ibis.Table) -> ibis.Table:
    """actor, feature, value, evidence: each API account's share of prompts that ask the model to
    write as someone, and its number of prompts."""
    c = calls.filter(calls.prompt.notnull())
    c = c.select(actor=c.platform.concat(":", c.account_id), hit=_is_persona_instruction(c.prompt).cast("int64"))
    g = c.group_by("actor").aggregate(share=c.hit.mean(), n=c.count())
    share = g.select("actor", feature=ibis.literal("prompt_template:persona_instruction_share"),
                     value=g.share.cast("float64"), evidence=ibis.literal("[]"))
    count = g.select("actor", feature=ibis.literal("prompt_template:n_prompts"), value=g.n.cast("float64"),
                     evidence=ibis.literal("[]"))
    return share.union(count, distinct=False)
