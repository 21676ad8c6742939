"""prompt_template: one template filled with different slots by several accounts, persona
instructions, and a product's built-in prompt that everyone uses."""

import json

from chorusline.signals.prompt_template import (PromptTemplateParams, persona_instruction_features,
                                                prompt_template_edges)
from conftest import add_calls

CAMPAIGN = ["以a farmer in Iowa的视角用英文评论elections，口语化，加一个问句。",
            "以a mom of two in Colorado的视角用英文评论trade，口语化，加一个问句。",
            "以a retired teacher in Ohio的视角用英文评论taxes，口语化，加一个问句。"]


def test_accounts_filling_one_template_are_tied(any_store):
    records = [{"call_id": f"op{i}", "account_id": f"op{i}", "ts": i, "prompt": p} for i, p in enumerate(CAMPAIGN)]
    # a built-in prompt of a product, filled by 6 developers: a template, but not a persona one
    records += [{"call_id": f"dev{i}", "account_id": f"dev{i}", "ts": 100 + i,
                 "prompt": f"Summarize this article in three bullet points: report number {i} on sales"}
                for i in range(6)]
    # one account repeating one prompt verbatim: no slots filled differently, no template
    records += [{"call_id": f"r{i}", "account_id": "r", "ts": 200 + i, "prompt": "Explain recursion to a child"}
                for i in range(3)]
    calls = add_calls(any_store, records)
    edges = prompt_template_edges(calls).to_pandas()
    persona = edges[edges.signal == "prompt_template:persona"]
    assert sorted(zip(persona.a_actor, persona.b_actor)) == [("llm-api:op0", "llm-api:op1"), ("llm-api:op0", "llm-api:op2"),
                                                             ("llm-api:op1", "llm-api:op2")]
    assert json.loads(persona.evidence.iloc[0]) == ["以§的视角用英文评论§，口语化，加一个问句。"]
    plain = edges[edges.signal == "prompt_template"]
    assert len(plain) == 15 and json.loads(plain.evidence.iloc[0]) == ["summarize this article in three bullet points: §"]
    assert plain.weight.max() < persona.weight.min()  # shared by 6 of 10 accounts: less rare than 3 of 10
    # over the cap, a template makes no pairs at all
    assert prompt_template_edges(calls, PromptTemplateParams(max_accounts=5)).to_pandas().signal.unique().tolist() == \
        ["prompt_template:persona"]
    features = persona_instruction_features(calls).to_pandas().set_index(["actor", "feature"]).value
    assert features[("llm-api:op0", "prompt_template:persona_instruction_share")] == 1.0
    assert features[("llm-api:dev0", "prompt_template:persona_instruction_share")] == 0.0
    assert features[("llm-api:r", "prompt_template:n_prompts")] == 3


def test_persona_instructions_read_alike_on_both_engines(any_store):
    """Constructs RE2 (DuckDB) and Java (Spark) read differently — Cyrillic case under (?i), \\b before
    a Cyrillic word, `.` across U+2028 — give the same answers."""
    prompts = {"От имени a bakery owner напиши пост на английском о sports.": 1,  # capital О
               "Напиши пост в роли учителя из Огайо, по-английски.": 1,  # \b before в
               "Write\u2028a short post about taxes as a retired teacher.": 1,
               "Rewrite this paragraph as a bulleted list.": 0,  # "rewrite" is not "write"
               "Summarize the report: its weaknesses, as a table.": 0}
    calls = add_calls(any_store, [{"call_id": f"c{i}", "account_id": f"a{i}", "ts": i, "prompt": p}
                                  for i, p in enumerate(prompts)])
    got = persona_instruction_features(calls).to_pandas().set_index(["actor", "feature"]).value
    assert [got[(f"llm-api:a{i}", "prompt_template:persona_instruction_share")] for i in range(len(prompts))] == \
        list(prompts.values())
