"""The one text generator that organic users and campaigns share (same vocabularies, same
languages), so no artefact separates them except their tactics. Vectorised: strings are assembled
from index arrays with Arrow kernels; Python loops run over templates, never over rows."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NEUTRAL_TOPICS = ("tech", "travel", "local", "food", "sports")
POLITICAL_TOPICS = ("trade", "elections", "energy", "healthcare", "immigration")
TOPICS = NEUTRAL_TOPICS + POLITICAL_TOPICS
PRO, ANTI, BALANCED, NEUTRAL = 0, 1, 2, 3
STANCE_NAMES = ("pro", "anti", "balanced", "neutral")

SUBJECTS = {
    "tech": ["the new phone update", "this laptop", "the battery life on my tablet", "the latest AI app", "my smart watch"],
    "travel": ["the trip to the coast", "our weekend in the mountains", "the new train line", "that little hotel downtown",
               "the airport security line"],
    "local": ["the farmers market", "the road works on Main Street", "our public library", "the new bike lanes",
              "the school fundraiser"],
    "food": ["the taco place on 5th", "grandma's apple pie recipe", "the new coffee shop", "homemade sourdough",
             "the food truck festival"],
    "sports": ["last night's game", "the home team", "the marathon this weekend", "our coach's new plan", "the playoffs"],
    "trade": ["the new tariff deal", "the trade agreement", "export rules", "the import quotas", "the trade talks"],
    "elections": ["the election results", "the new voting rules", "the candidate debate", "the campaign promises",
                  "the ballot count"],
    "energy": ["the energy plan", "gas prices", "the new power plant", "the solar subsidies", "the pipeline decision"],
    "healthcare": ["the healthcare bill", "hospital funding", "drug prices", "the insurance reform", "clinic wait times"],
    "immigration": ["the border policy", "the visa changes", "the asylum rules", "the work permit program",
                    "the immigration bill"],
}
NEUTRAL_PREDICATES = ["was better than expected", "is worth a look", "made my day", "was a bit disappointing",
                      "needs more attention", "is getting a lot of buzz", "surprised everyone", "was just ok"]
POLITICAL_PREDICATES = {
    PRO: ["is finally working for families", "shows real leadership", "is exactly what we needed",
          "is good news for workers", "proves the government got it right", "will make us stronger"],
    ANTI: ["is hurting small businesses", "is a total failure", "ignores ordinary people", "was badly rushed",
           "will cost us for years", "shows how out of touch they are"],
    BALANCED: ["has good and bad sides", "deserves a fair debate", "could work with some changes",
               "is not perfect but it is a start", "raises some fair questions"],
}
OPENERS = ["", "Honestly,", "Just saw that", "Not gonna lie,", "Reminder:", "Ok so", "Hot take:", "Funny how",
           "Can we talk about how", "Update:", "Wow,", "I think"]
CLOSERS = ["", "", "Thoughts?", "Change my mind.", "Just saying.", "What do you think?", "Big if true.", "Agree?",
           "🙏", "👍", "Love it.", "Sad."]
PRODUCTS = ["sneakers", "phone cases", "vitamins", "sunglasses", "crypto course", "weight loss tea"]
SHOPS = ["deals-hub.example.com", "megasale.example.net", "shop-now.example.org", "bestprice.example.com"]

# Persona descriptions used inside prompts (the English slot values)
CAMPAIGN_PERSONAS = ["a retired US teacher", "a nurse from Ohio", "a small business owner in Texas", "a veteran from Florida",
                     "a mom of two in Colorado", "a college student in Lyon", "a truck driver in Ontario",
                     "a factory worker in Leipzig", "a pastor in Georgia", "a farmer in Iowa"]
ORGANIC_PERSONAS = ["a friendly barista", "a fitness coach", "a travel blogger", "a tech reviewer", "a bakery owner",
                    "a real estate agent"]

STANCE_WORDS = {
    "en": {PRO: "supportive of the government", ANTI: "critical of the government", BALANCED: "balanced, mildly critical"},
    "zh": {PRO: "支持政府", ANTI: "批评政府", BALANCED: "客观，略带批评"},
    "ru": {PRO: "в поддержку правительства", ANTI: "критически к правительству", BALANCED: "сбалансированно"},
    "es": {PRO: "a favor del gobierno", ANTI: "crítico con el gobierno", BALANCED: "equilibrado"},
    "de": {PRO: "regierungsfreundlich", ANTI: "regierungskritisch", BALANCED: "ausgewogen"},
    "fr": {PRO: "favorable au gouvernement", ANTI: "critique envers le gouvernement", BALANCED: "équilibré"},
}
LANGUAGES = tuple(STANCE_WORDS)

# Commentary-writing prompts: {persona} {topic} {stance}. Campaigns pick a few; organic persona
# prompts (marketing voices) come from the same bank.
COMMENT_TEMPLATES = {
    "zh": ["请以{persona}的身份，用英文写一条关于{topic}的推文，立场：{stance}，不超过50字。",
           "你是{persona}。写一段关于{topic}的英文评论，语气自然，{stance}。",
           "用英语写一条社交媒体回复，话题：{topic}，人设：{persona}，态度：{stance}。",
           "模仿{persona}的口吻，写一条关于{topic}的英文短评，观点：{stance}。",
           "写一条英文帖子，像{persona}那样谈论{topic}，要显得真实，{stance}。",
           "以{persona}的视角用英文评论{topic}，口语化，{stance}，加一个问句。"],
    "en": ["Write a short tweet about {topic} as {persona}. Stance: {stance}.",
           "You are {persona}. Write a casual social media comment on {topic}, {stance}.",
           "Pretend to be {persona} and reply to a post about {topic}. Keep it {stance} and under 40 words.",
           "As {persona}, give your honest take on {topic} in one or two sentences ({stance}).",
           "Write a Facebook post in the voice of {persona} about {topic}. Tone: {stance}.",
           "Draft a reply from {persona} about {topic}; sound natural and {stance}."],
    "ru": ["Напиши твит на английском о {topic} от лица {persona}, позиция: {stance}.",
           "Ты {persona}. Напиши короткий комментарий на английском о {topic}, {stance}.",
           "Составь ответ на английском в соцсети о {topic} как {persona}, {stance}.",
           "От имени {persona} напиши пост на английском о {topic}: {stance}."],
    "es": ["Escribe un tuit en inglés sobre {topic} como {persona}. Postura: {stance}.",
           "Eres {persona}. Escribe un comentario en inglés sobre {topic}, {stance}.",
           "Redacta una respuesta en inglés sobre {topic} con la voz de {persona}, {stance}.",
           "Como {persona}, publica en inglés tu opinión sobre {topic} ({stance})."],
    "de": ["Schreibe einen englischen Tweet über {topic} als {persona}. Haltung: {stance}.",
           "Du bist {persona}. Schreibe einen kurzen englischen Kommentar zu {topic}, {stance}.",
           "Formuliere eine englische Antwort zu {topic} im Stil von {persona}, {stance}.",
           "Als {persona}: ein englischer Post über {topic} ({stance})."],
    "fr": ["Écris un tweet en anglais sur {topic} en tant que {persona}. Position : {stance}.",
           "Tu es {persona}. Écris un commentaire en anglais sur {topic}, {stance}.",
           "Rédige une réponse en anglais sur {topic} avec la voix de {persona}, {stance}.",
           "En tant que {persona}, donne ton avis en anglais sur {topic} ({stance})."],
}
# Everyday API work: {subject}. Batch jobs fill these too (templated, and benign).
TASK_TEMPLATES = {
    "en": ["Summarize this article in three bullet points: {subject}", "Translate into Spanish: {subject}",
           "Write a Python function that sorts {subject}", "Draft a polite email to a customer about {subject}",
           "Classify the sentiment of this review: {subject}", "Extract the dates mentioned in: {subject}",
           "Explain {subject} to a beginner", "Write unit tests for a parser of {subject}"],
    "zh": ["把这篇文章总结成三点：{subject}", "翻译成英文：{subject}", "写一个Python函数来处理{subject}",
           "帮我给客户写一封关于{subject}的邮件", "判断这条评论的情感：{subject}"],
    "ru": ["Кратко перескажи статью: {subject}", "Переведи на английский: {subject}", "Напиши функцию на Python для {subject}"],
    "es": ["Resume este artículo: {subject}", "Traduce al inglés: {subject}", "Escribe una función en Python para {subject}"],
    "de": ["Fasse diesen Artikel zusammen: {subject}", "Übersetze ins Englische: {subject}",
           "Schreibe eine Python-Funktion für {subject}"],
    "fr": ["Résume cet article : {subject}", "Traduis en anglais : {subject}", "Écris une fonction Python pour {subject}"],
}
TASK_SUBJECTS = ["quarterly sales figures", "a list of invoices", "customer support tickets", "the meeting notes",
                 "a product launch", "shipping delays", "CSV files of sensor readings", "the onboarding guide",
                 "a recipe blog post", "the weather data"]
TASK_OUTPUTS = ["Here is a summary of the main points.", "Sure, here is the function you asked for.",
                "The overall sentiment is positive.", "Dear customer, thank you for your patience.",
                "The dates mentioned are listed below.", "Here is a simple explanation.", "Translation follows."]


def _cat(values: list[str]) -> pa.Array:
    return pa.array(values, pa.string())


def join(*parts, sep: str = " ") -> pa.Array:
    """Element-wise join of arrays/scalars, squeezing the gaps left by empty parts."""
    joined = pc.binary_join_element_wise(*parts, sep)
    joined = pc.replace_substring_regex(joined, r"\s{2,}", " ")
    return pc.utf8_trim_whitespace(joined)


def sentences(rng: np.random.Generator, topics: np.ndarray, stances: np.ndarray) -> tuple[pa.Array, dict]:
    """One short social-media sentence per row for topic codes (index into TOPICS) and stance codes.
    Returns the texts and the parts chosen (for paraphrasing the same message later)."""
    n = len(topics)
    subj_offsets = np.cumsum([0] + [len(SUBJECTS[t]) for t in TOPICS])
    subj_all = _cat([s for t in TOPICS for s in SUBJECTS[t]])
    subj_counts = np.diff(subj_offsets)
    subject = subj_offsets[topics] + (rng.random(n) * subj_counts[topics]).astype(np.int64)
    pred_lists = [NEUTRAL_PREDICATES, POLITICAL_PREDICATES[PRO], POLITICAL_PREDICATES[ANTI], POLITICAL_PREDICATES[BALANCED]]
    pred_offsets = np.cumsum([0] + [len(p) for p in pred_lists])
    pred_all = _cat([p for lst in pred_lists for p in lst])
    group = np.where(stances == NEUTRAL, 0, stances + 1)
    pred_counts = np.diff(pred_offsets)
    predicate = pred_offsets[group] + (rng.random(n) * pred_counts[group]).astype(np.int64)
    parts = {"subject": subject, "predicate": predicate}
    return render(rng, parts, subj_all, pred_all), parts


def render(rng, parts: dict, subj_all=None, pred_all=None) -> pa.Array:
    """Text from chosen subject/predicate with fresh openers and closers (a paraphrase when the
    parts were chosen before)."""
    if subj_all is None:
        subj_all = _cat([s for t in TOPICS for s in SUBJECTS[t]])
        pred_all = _cat([p for lst in [NEUTRAL_PREDICATES, *POLITICAL_PREDICATES.values()] for p in lst])
    n = len(parts["subject"])
    opener = pc.take(_cat(OPENERS), pa.array(rng.integers(0, len(OPENERS), n)))
    closer = pc.take(_cat(CLOSERS), pa.array(rng.integers(0, len(CLOSERS), n)))
    subject = pc.take(subj_all, pa.array(parts["subject"]))
    predicate = pc.take(pred_all, pa.array(parts["predicate"]))
    body = join(opener, subject, predicate)
    body = pc.binary_join_element_wise(body, ".", "")
    return join(body, closer)


def spam(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """Commercial spam texts and their shop URLs."""
    product = pc.take(_cat(PRODUCTS), pa.array(rng.integers(0, len(PRODUCTS), n)))
    url = pc.binary_join_element_wise("https://", pc.take(_cat(SHOPS), pa.array(rng.integers(0, len(SHOPS), n))),
                                      "/p/", pa.array(rng.integers(100, 999, n)).cast(pa.string()), "")
    text = join("Huge sale on", product, "today only!", url)
    return text, url


def fill(templates: list[str], which: np.ndarray, slots: dict[str, pa.Array]) -> pa.Array:
    """Fill ``templates[which[i]]`` with ``slots[name][i]`` for every row, template by template."""
    n = len(which)
    out = [None] * n
    pieces = []
    order = []
    for t, template in enumerate(templates):
        rows = np.nonzero(which == t)[0]
        if not len(rows):
            continue
        idx = pa.array(rows)
        parts = []
        for literal, name in _split(template):
            if literal:
                parts.append(literal)
            if name:
                parts.append(pc.take(slots[name], idx))
        if not any(isinstance(p, pa.Array) for p in parts):
            parts.append(pa.array([""] * len(rows)))
        pieces.append(pc.binary_join_element_wise(*parts, ""))
        order.append(rows)
    if not pieces:
        return pa.array(out, pa.string())
    flat = pa.concat_arrays(pieces)
    positions = np.concatenate(order)
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(n)
    return pc.take(flat, pa.array(inverse))


def _split(template: str):
    """[(literal, slot name or None), …]"""
    out = []
    last = 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append((template[last:m.start()], m.group(1)))
        last = m.end()
    out.append((template[last:], None))
    return out


def pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pc.take(_cat(values), pa.array(rng.integers(0, len(values), n)))
