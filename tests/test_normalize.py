"""Text repair: each repair on its own, the chain's invariants, and the seeds' OCR figures."""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protokollsok import lexicon, normalize
from protokollsok.model import Document

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"

pytestmark = pytest.mark.skipif(
    not lexicon.dictionary_path().exists(), reason="hunspell-sv is not installed"
)


def seed(name_prefix: str) -> str:
    """The text of the seed file whose name starts with ``name_prefix`` (skip if absent)."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not available")
    (path,) = SEEDS.glob(f"{name_prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def expected() -> dict:
    if not (SEEDS / "expected.json").exists():
        pytest.skip("../shared/seeds/expected.json not available")
    return json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))


# --- Unicode --------------------------------------------------------------------------------------


def test_nfc_composes_swedish_letters() -> None:
    assert normalize.nfc("na\u0308mnd pa\u030a") == "nämnd på"


def test_ligatures_are_spelled_out() -> None:
    assert normalize.expand_ligatures("ﬁnns ﬂera ﬀ") == "finns flera ff"


def test_zero_width_characters_and_inner_soft_hyphens_go() -> None:
    assert normalize.drop_invisible("sam\u00adverkan\u200b \ufeffnämnd") == "samverkan nämnd"


def test_a_soft_hyphen_at_a_line_end_is_kept_for_the_join() -> None:
    assert normalize.drop_invisible("sam\u00ad\nverkan") == "sam\u00ad\nverkan"


# --- markup ---------------------------------------------------------------------------------------


def test_html_tags_go_and_entities_are_decoded() -> None:
    text = "<b>Beslut</b><br>Nämnden &amp; förvaltningen&nbsp;tycker <span class='x'>lika</span>"
    assert normalize.strip_html(text) == "Beslut Nämnden & förvaltningen tycker lika"


def test_html_repair_leaves_comparisons_and_unknown_entities_alone() -> None:
    text = "om a < b och c > d; R&D; AT&T"
    assert normalize.strip_html(text) == text


def test_markdown_emphasis_headings_and_links_go() -> None:
    text = "## **Ärendet**\n**Handläggare**  \nSe [riktlinjen](https://x.se/a.pdf).\n- punkt"
    assert normalize.strip_markdown(text) == "Ärendet\nHandläggare  \nSe riktlinjen.\n- punkt"


def test_emphasis_glued_between_words_leaves_a_space() -> None:
    text = "§ 9**Övergripande samverkan\nStockholm****Svar på remiss**"
    assert normalize.strip_markdown(text) == "§ 9 Övergripande samverkan\nStockholm Svar på remiss"


def test_nested_remnants_are_removed_completely() -> None:
    assert normalize.strip_markup("&amp;amp; <<b>b>fet</b>") == "& fet"


def test_identifiers_with_double_underscores_survive() -> None:
    assert normalize.strip_markdown("fil__namn.txt") == "fil__namn.txt"


# --- mixed scripts --------------------------------------------------------------------------------


def test_cyrillic_letters_inside_a_swedish_word_become_latin() -> None:
    assert normalize.fix_mixed_script("Ersätтарыttrande från (S)") == "Ersättaryttrande från (S)"


def test_greek_look_alikes_inside_a_latin_word_become_latin() -> None:
    assert normalize.fix_mixed_script("nämndεn") == "nämnden"


def test_words_wholly_in_another_script_stay() -> None:
    assert normalize.fix_mixed_script("Москва och Αθήνα") == "Москва och Αθήνα"


# --- broken words ---------------------------------------------------------------------------------


def test_a_word_broken_over_a_line_is_joined_on_the_first_line() -> None:
    assert normalize.join_broken_words("ska genom-\nföras mer") == "ska genomföras\nmer"


@pytest.mark.parametrize(
    "text",
    [
        "Enskede-\nÅrsta-Vantörs stadsdelsnämnd",  # a name: capital after the hyphen
        "hälso-\noch sjukvård",  # a suspended hyphen before a conjunction
        "EU-\nkommissionen",  # the joined form is not a word
        "sidan 3-\n4",  # numbers
    ],
)
def test_hyphens_that_belong_to_the_text_stay(text: str) -> None:
    assert normalize.join_broken_words(text) == text


def test_a_soft_hyphen_at_a_line_end_always_joins() -> None:
    assert normalize.join_broken_words("sam\u00ad\nverkan sker") == "samverkan\nsker"


# --- OCR damage to å/ä/ö --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("Stadsdelsndmnden", "Stadsdelsnämnden"),
        ("6verenskommelsen", "överenskommelsen"),
        ("§vergripande", "övergripande"),
        ("&r", "är"),
        ("tjdnsteutlatande", "tjänsteutlåtande"),
        ("Sodermalms", "Södermalms"),
        ("samverkansomradena", "samverkansområdena"),
    ],
)
def test_damaged_words_get_their_letters_back(damaged: str, repaired: str) -> None:
    assert normalize.repair_word(damaged) == repaired


@pytest.mark.parametrize("word", ["nämnden", "Stockholm", "SOD", "2023", "Krangnes", "har"])
def test_words_without_a_better_spelling_stay(word: str) -> None:
    assert normalize.repair_word(word) == word


@pytest.mark.parametrize(
    ("word", "prev", "nxt", "meant"),
    [
        ("bor", "det", "tydligt", "bör"),  # bör det tydligt framgå
        ("bor", "som", "i", "bor"),  # de som bor i
        ("vart", "men", "kartlaggningsarbete", "vårt"),
        ("vart", "ske", "fjarde", "vart"),  # ske vart fjärde år
        ("for", "ansvar", "barnen", "för"),
        ("Har", "<s>", "ar", "Här"),
    ],
)
def test_words_that_are_words_either_way_are_decided_by_their_neighbours(
    word: str, prev: str, nxt: str, meant: str
) -> None:
    assert normalize.choose_in_context(word, prev, nxt) == meant


def test_a_damaged_word_offers_every_word_ocr_may_have_hidden() -> None:
    assert set(normalize.spellings("fdr")) >= {"för", "får"}
    assert normalize.spellings("fdr")[0] == "för"  # the likeliest out of context comes first


def test_a_capitalised_word_needs_far_stronger_evidence_than_a_lower_case_one() -> None:
    assert normalize.repair_word("Lisa") == "Lisa"  # a name, though ``läsa`` is more frequent
    assert normalize.repair_word("Nar") == "När"


@pytest.mark.parametrize("word", ["är", "ändra", "här", "AT"])
def test_context_never_takes_letters_away(word: str) -> None:
    assert all(
        normalize.choose_in_context(word, p, n) == word
        for p in ("<s>", "det", "som")
        for n in ("<s>", "att", "i")
    )


def test_clean_text_is_not_taken_for_ocr_damage() -> None:
    assert normalize.ocr_damage(seed("003")) == 0.0
    assert normalize.ocr_damage(seed("002")) == 0.0


def test_seed_000_is_recognised_as_ocr_damaged() -> None:
    assert normalize.ocr_damage(seed("000")) > normalize.MIN_DAMAGE_SHARE


def test_one_read_for_i_is_repaired_but_dates_keep_their_one() -> None:
    damaged = "Förvaltningen utgör en viktig del 1 arbetet med att skapa förutsättningar för " * 3
    damaged += "Stadsdelsndmnden 6verlamnar tjdnsteutlatande den 1 december."
    repaired = normalize.repair_ocr(damaged, force=True)
    assert "del i arbetet" in repaired
    assert "den 1 december" in repaired


@pytest.mark.parametrize(
    "address",
    [
        "https://botwebb.botkyrka.se/download/fa10f8/Sekretessf%C3%B6rbindelse.pdf",
        "www.vardsamordning.sll.se",
        "ad/sarskilt-boende/",
        "rengoring-och-desinfektion.pdf",
    ],
)
def test_addresses_are_neither_repaired_nor_taken_for_damage(address: str) -> None:
    text = f"Se {address} om 6verenskommelsen"
    assert normalize.repair_ocr(text, force=True) == f"Se {address} om överenskommelsen"
    assert normalize.ocr_damage(f"{address} " * 10) == 0.0


def test_seeds_in_clean_swedish_come_out_unchanged() -> None:
    for prefix in ("001", "003"):
        text = seed(prefix)
        assert normalize.clean(text) == text


def test_confusion_table_covers_every_confusion_seen_between_seed_000_and_003() -> None:
    damaged, clean = _ocr_passages()
    seen: Counter[tuple[str, str]] = Counter()
    for bad, good in zip(damaged.split(), clean.split(), strict=True):
        ops = difflib.SequenceMatcher(None, bad, good, autojunk=False).get_opcodes()
        seen.update((bad[i1:i2], good[j1:j2]) for op, i1, i2, j1, j2 in ops if op != "equal")
    assert seen
    for (bad, good), _ in seen.items():
        assert good in normalize.CONFUSIONS.get(bad, {}), (bad, good)


# --- the seeds ------------------------------------------------------------------------------------


def _passage(text: str, spec: dict) -> str:
    start = text.index(spec["from"])
    return text[start : text.index(spec["to"], start) + len(spec["to"])]


def _lines_of(text: str, spec: dict) -> tuple[int, int]:
    """First and last line (0-based) of the passage ``spec`` marks in ``text``."""
    start = text.index(spec["from"])
    end = text.index(spec["to"], start) + len(spec["to"])
    return text.count("\n", 0, start), text.count("\n", 0, end)


def _ocr_passages() -> tuple[str, str]:
    """Seed 000's damaged passage and seed 003's clean one, as expected.json marks them."""
    spec = expected()["ocr_repair"]
    damaged = seed(spec["damaged"]["file"].split("_")[0])
    clean = seed(spec["clean"]["file"].split("_")[0])
    return _passage(damaged, spec["damaged"]), _passage(clean, spec["clean"])


def word_accuracy(words: list[str], truth: list[str]) -> float:
    """Share of the truth's whitespace-split words matched at the same position."""
    return sum(a == b for a, b in zip(words, truth, strict=False)) / len(truth)


def test_seed_000_passage_before_repair_matches_the_stated_baseline() -> None:
    damaged, clean = _ocr_passages()
    assert word_accuracy(damaged.split(), clean.split()) == pytest.approx(0.676, abs=0.001)


def test_seed_000_passage_reaches_the_required_word_accuracy_after_repair() -> None:
    spec = expected()["ocr_repair"]
    damaged_text = seed(spec["damaged"]["file"].split("_")[0])
    first, last = _lines_of(damaged_text, spec["damaged"])
    repaired = "\n".join(normalize.clean(damaged_text).split("\n")[first : last + 1])
    _, clean = _ocr_passages()
    accuracy = word_accuracy(repaired.split(), clean.split())
    assert accuracy >= spec["min_word_accuracy"]


def test_cleaning_the_clean_twin_changes_at_most_a_thousandth_of_its_words() -> None:
    spec = expected()["ocr_repair"]
    text = seed(spec["clean"]["file"].split("_")[0])
    before, after = text.split(), normalize.clean(text).split()
    assert len(after) == len(before)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed <= 0.001 * len(before)


def _seed_cases() -> list[tuple[str, str]]:
    if not (SEEDS / "expected.json").exists():
        return []
    files = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["files"]
    return [(name, phrase) for name, f in files.items() for s in f["segments"]
            for phrase in s.get("text_contains", [])]  # fmt: skip


@pytest.mark.parametrize(("name", "phrase"), _seed_cases())
def test_cleaned_seed_contains_the_expected_phrases(name: str, phrase: str) -> None:
    text = normalize.clean((SEEDS / name).read_text(encoding="utf-8"))
    assert phrase in re.sub(r"\s+", " ", text)


def test_cleaned_seeds_hold_no_markup_remnants() -> None:
    files = expected()["files"]
    for name, spec in files.items():
        text = normalize.clean((SEEDS / name).read_text(encoding="utf-8"))
        for segment in spec["segments"]:
            for remnant in segment.get("text_excludes", []):
                assert remnant not in text, (name, remnant)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_cleaning_a_seed_keeps_its_lines_and_is_idempotent(prefix: str) -> None:
    text = seed(prefix)
    once = normalize.clean(text)
    assert once.count("\n") == text.count("\n")
    assert normalize.clean(once) == once


def test_clean_document_replaces_only_the_text() -> None:
    doc = Document(path="x.txt", sha256="0" * 64, format="txt", text="<b>Beslut</b>\nﬁnns")
    cleaned = normalize.clean_document(doc)
    assert cleaned.text == "Beslut\nfinns"
    assert (cleaned.path, cleaned.sha256, cleaned.format) == (doc.path, doc.sha256, doc.format)


# --- invariants -----------------------------------------------------------------------------------

_MARKUP = st.sampled_from(
    ["**", "__", "## ", "<b>", "</b>", "<br>", "&amp;", "&nbsp;", "[a](b)", "-\n", "\u00ad\n",
     "\u200b", "ﬁ", "т", "а", "р", "1 ", "&", "6", "§", "é", "\n", " ", "  "]
)  # fmt: skip
_SWEDISH = st.sampled_from(
    [
        "nämnden",
        "förvaltningens",
        "förslag",
        "till",
        "beslut",
        "är",
        "att",
        "samverkan",
        "ska",
        "öka",
        "på",
        "såväl",
        "lokal",
        "som",
        "central",
        "nivå",
        "Stockholms",
        "stad",
        "och",
        "Polisregion",
        "Stockholm",
        "överenskommelsen",
        "gäller",
        "från",
        "januari",
        "2024",
        "Stadsdelsnämnden",
        "överlämnar",
        "tjänsteutlåtandet",
        "reservation",
        "(S)",
        "§",
        "23",
        "bör",
        "för",
        "vårt",
        "här",
    ]
)
_ANY_TEXT = st.lists(st.one_of(_MARKUP, _SWEDISH, st.text(max_size=4)), max_size=40).map("".join)
_CLEAN_SWEDISH = st.lists(
    st.tuples(_SWEDISH, st.sampled_from([" ", " ", "\n", ", ", ". "])), min_size=1, max_size=60
).map(lambda pairs: "".join(w + sep for w, sep in pairs))
_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(_ANY_TEXT)
@example("nämnden\xad\nnämnden__nämnden")  # a join must not leave "__" at a line start
@example("nämnden\xad\nnämnden## ")  # nor a heading mark
@example("nämnden\xad\nnämnden ## x")
def test_clean_is_idempotent(text: str) -> None:
    once = normalize.clean(text)
    assert normalize.clean(once) == once


@_FAST
@given(_ANY_TEXT)
def test_clean_never_changes_the_number_of_lines(text: str) -> None:
    assert normalize.clean(text).count("\n") == text.count("\n")


@_FAST
@given(_CLEAN_SWEDISH)
def test_clean_swedish_is_left_unchanged(text: str) -> None:
    assert normalize.clean(text) == text


# --- the benchmark on real text -------------------------------------------------------------------


@pytest.mark.slow
def test_ocr_repair_on_damaged_real_text_keeps_its_measured_floor() -> None:
    """bench/eval_ocr.py on a small sample: see bench/results/ocr.md for the full figures."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import eval_ocr

    if not (SHARED / "corpora").is_dir():
        pytest.skip("../shared/corpora not available")
    total = eval_ocr.run(SHARED / "corpora", docs=15, seed=7, rate=0.7)["total"]
    assert total.damaged_right / total.words < 0.9  # the channel really damages
    assert total.repaired_right / total.words >= 0.97
    assert total.clean_changed <= 0.001 * total.words


def _seed_document(spec_key: str) -> Document:
    name = expected()["ocr_repair"][spec_key]["file"]
    text = seed(name.split("_")[0])
    return Document(path=name, sha256="", format="txt", text=text, warnings=("read as cp1252",))


def test_a_document_repaired_from_ocr_damage_counts_the_words_changed_and_warns_once() -> None:
    doc = _seed_document("damaged")
    cleaned = normalize.clean_document(doc)
    assert cleaned.text == normalize.clean(doc.text)
    changed = sum(a != b for a, b in zip(doc.text.split(), cleaned.text.split(), strict=False))
    assert cleaned.ocr_repaired > 100 and cleaned.ocr_repaired <= changed  # only the OCR step's changes
    assert cleaned.warnings[0] == "read as cp1252"  # the reader's warnings stay first
    (note,) = cleaned.warnings[1:]
    assert f"OCR damage repaired: {cleaned.ocr_repaired} words changed" in note and "original" in note


def test_a_clean_document_is_not_said_to_be_ocr_repaired() -> None:
    doc = _seed_document("clean")
    cleaned = normalize.clean_document(doc)
    assert cleaned.ocr_repaired == 0 and cleaned.warnings == doc.warnings


def test_changed_words_counts_the_words_that_read_differently() -> None:
    assert normalize.changed_words("Nämnden beslutar &r 6verenskommelsen", "Nämnden beslutar är överenskommelsen") == 2
    assert normalize.changed_words("ett två", "ett två") == 0
    assert normalize.changed_words("a b c", "a b c d") == 1  # words added: counted as new words
