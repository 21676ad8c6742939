"""TweepFake (Fagni et al., PLOS ONE 2021) as training data, split by *persona* into train and validation.

Each bot in TweepFake imitates one human account (kevinhookebot imitates kevinhooke, five generators
imitate realDonaldTrump). A random per-post or per-account split would put a human's tweets on one side
and its imitation on the other, and the detector would be graded on styles it has seen. So accounts are
grouped into personas (a human with every bot that imitates it) and a whole persona goes to one side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# persona -> its accounts (the human first). From the screen names and the paper's account table;
# theJadenTrudeau mixes Jaden Smith and Justin Trudeau, so both humans join one persona; Gpt2Wint
# imitates @dril (wint is dril's author), so it joins dril.
PERSONAS: dict[str, tuple[str, ...]] = {
    "narendramodi": ("narendramodi", "AINarendraModi"),
    "realDonaldTrump": ("realDonaldTrump", "DeepDrumpf", "botustrump", "gpt2_trump", "deep_potus", "sarcastic_trump"),
    "elonmusk": ("elonmusk", "DeepElonMusk", "Musk_from_Mars"),
    "dril": ("dril", "dril_gpt2", "DrilRnn", "Gpt2Wint"),
    "GenePark": ("GenePark", "GenePark_GPT2"),
    "JustinTrudeau+jaden": ("JustinTrudeau", "jaden", "theJadenTrudeau"),
    "Thorin": ("Thorin", "deep_thorin"),
    "UtilityLimb": ("UtilityLimb", "utilitylimbgpt2"),
    "VitalikButerin": ("VitalikButerin", "VBoterin"),
    "ahadsheriff": ("ahadsheriff", "ahadsheriffbot"),
    "awhalefact": ("awhalefact", "whalefakes"),
    "calebgamman": ("calebgamman", "calebgamman2"),
    "imranye": ("imranye", "imranyebot"),
    "kevinhooke": ("kevinhooke", "kevinhookebot"),
    "ninjasexparty": ("ninjasexparty", "nsp_gpt2"),
    "zawvrk": ("zawvrk", "zawarbot"),
}

# Validation personas, fixed (not drawn) so every run grades the same accounts. Chosen to hold about a
# quarter of the posts and all three generator families: GPT-2 (whalefakes, GenePark_GPT2, calebgamman2,
# VBoterin, utilitylimbgpt2, botustrump, gpt2_trump, deep_potus), RNN (DeepDrumpf, deep_thorin) and
# "others" (ahadsheriffbot, sarcastic_trump). 20 accounts, 8 of them human, 5,173 posts.
VALIDATION_PERSONAS = ("realDonaldTrump", "ahadsheriff", "awhalefact", "Thorin", "GenePark", "UtilityLimb",
                       "VitalikButerin", "calebgamman")

SHARED_FILE = Path("data") / "real" / "ai_text" / "tweepfake_train.csv"


def default_path() -> Path:
    """../shared/data/real/ai_text/tweepfake_train.csv next to the repository."""
    return Path(__file__).resolve().parents[3].parent / "shared" / SHARED_FILE


def persona_of(screen_names: pa.Array) -> pa.Array:
    keys = [a for accounts in PERSONAS.values() for a in accounts]
    values = [p for p, accounts in PERSONAS.items() for _ in accounts]
    found = pc.index_in(screen_names, value_set=pa.array(keys))
    if found.null_count:
        missing = pc.unique(pc.filter(screen_names, pc.is_null(found))).to_pylist()
        raise ValueError(f"TweepFake accounts with no persona: {missing}")
    return pa.array(values).take(found)


def load(path: Path | None = None) -> pa.Table:
    """The file as an Arrow table: screen_name, text, label (1 = machine), class_type, persona, split."""
    path = Path(path) if path else default_path()
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
                           convert_options=pacsv.ConvertOptions(column_types={"text": pa.string()}))
    names = table["screen_name"].combine_chunks()
    persona = persona_of(names)
    split = pc.if_else(pc.is_in(persona, value_set=pa.array(VALIDATION_PERSONAS)), "validation", "train")
    label = pc.cast(pc.equal(table["account.type"], "bot"), pa.int8())
    return pa.table({"screen_name": names, "text": pc.fill_null(table["text"], ""), "label": label,
                     "class_type": table["class_type"], "persona": persona, "split": split})


def split_masks(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    is_validation = pc.equal(table["split"], "validation").to_numpy(zero_copy_only=False)
    return ~is_validation, is_validation
