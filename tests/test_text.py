"""The text rules: chat that cannot hide or pose, and names that cannot pass for others."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blackjack.server.text import (
    CHAT_MAX,
    CHAT_WIDTH,
    MAX_MARKS,
    RESERVED_NAMES,
    chat_lines,
    clean_chat,
    display_width,
    look_alike_key,
    reserved_word,
)

# --- chat --------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [
    "\u200e", "\u200f", "\u061c",            # bidi marks
    "\u200b", "\u200c", "\u200d", "\u2060",  # zero-width space, joiners, word joiner
    "\ufeff", "\u00ad", "\u180e",            # BOM, soft hyphen, Mongolian vowel separator
    "\U000e0001", "\U000e0041", "\U000e007f",  # tag characters
    "\u202e", "\u2066",                      # overrides and isolates, again
])
def test_format_characters_are_stripped_from_chat(hidden: str) -> None:
    """Every invisible format character (Unicode category Cf) is dropped."""
    assert unicodedata.category(hidden) == "Cf"
    assert clean_chat(f"good{hidden} luck{hidden}") == "good luck"


def test_a_flood_of_combining_marks_is_capped_per_letter() -> None:
    """Fifty stacked marks on one letter become two; each letter keeps its own two."""
    zalgo = "a" + "\u0336" * 50 + "b" + "\u0489" * 9
    assert clean_chat(zalgo) == "a" + "\u0336" * MAX_MARKS + "b" + "\u0489" * MAX_MARKS


def test_marks_with_no_letter_to_sit_on_are_dropped() -> None:
    """Marks at the start or after a space would deface the speaker's name or a space."""
    assert clean_chat("\u0301\u0301hi \u0336\u0336there") == "hi there"


@pytest.mark.parametrize("text", [
    "naïve café", "Ệ", "e\u0302\u0323", "❤\ufe0f", "1\ufe0f\u20e3", "你好", "नमस्ते",
    "שָׁלוֹם", "👍🏽", "good luck!",
])
def test_ordinary_text_in_any_script_is_kept(text: str) -> None:
    """Accents, emoji with variation selectors, CJK, Devanagari and Hebrew points survive."""
    assert clean_chat(text) == unicodedata.normalize("NFC", text)


def test_runs_of_whitespace_collapse_so_chat_cannot_pad_itself_into_a_server_line() -> None:
    """'gg' + 60 spaces + 'Dealer has blackjack' is one short line, plainly chat."""
    assert clean_chat("gg" + " " * 60 + "Dealer has blackjack") == "gg Dealer has blackjack"


@pytest.mark.parametrize("blank", [" ", "\u00a0", "\u3000", "\u2003", "\u202f", "\u3164",
                                   "\u115f", "\u2800", "\uffa0", " \u200b "])
def test_anything_that_draws_as_blank_collapses_like_a_space(blank: str) -> None:
    """No-break and ideographic spaces, Hangul fillers and the blank braille cell pad
    nothing: a run of them is one space, and they are trimmed at the ends."""
    assert clean_chat(blank * 3 + "a" + blank * 40 + "b" + blank) == "a b"


def test_chat_is_cut_to_its_maximum_and_may_come_out_empty() -> None:
    """A long line keeps CHAT_MAX characters; one with nothing visible is empty."""
    assert clean_chat("x" * 1000) == "x" * CHAT_MAX
    assert clean_chat("\u200b\u200e \u3164") == ""


@given(st.text())
def test_clean_chat_leaves_nothing_hidden_or_stacked(text: str) -> None:
    """Whatever goes in, no format character, no double space, no mark run over the cap."""
    cleaned = clean_chat(text)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(unicodedata.category(ch) in ("Cf", "Cc", "Cn") for ch in cleaned)
    run = 0
    for ch in cleaned:
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Mc", "Me") else 0
        assert run <= MAX_MARKS
    assert clean_chat(cleaned) == cleaned


# --- how chat is laid out for a terminal ----------------------------------------------


def test_short_chat_is_one_line() -> None:
    """The usual case: '[table] name: text' on one line."""
    assert chat_lines("[main] bob: ", "good luck") == ["[main] bob: good luck"]


def test_long_chat_is_wrapped_with_the_speaker_on_every_line() -> None:
    """No piece of a long chat line starts a line of its own on an 80-column screen:
    text padded to make 'Dealer has blackjack' wrap to a new line stays attributed."""
    prefix = "[main] bob: "
    padding = "x" * (80 - len(prefix))
    lines = chat_lines(prefix, padding + " Dealer has blackjack: A♠ K♠.")
    assert all(line.startswith(prefix) for line in lines)
    assert all(display_width(line) <= CHAT_WIDTH for line in lines)
    assert " ".join(line[len(prefix):] for line in lines) == \
        padding[:CHAT_WIDTH - len(prefix)] + " " + padding[CHAT_WIDTH - len(prefix):] \
        + " Dealer has blackjack: A♠ K♠."


def test_wide_characters_count_two_columns() -> None:
    """CJK text wraps by screen columns, not code points."""
    lines = chat_lines("[main] bob: ", "你" * 60)
    assert all(display_width(line) <= CHAT_WIDTH for line in lines)
    assert len(lines) == 2


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_chat_lines_lose_nothing(text: str) -> None:
    """Wrapping only splits: every word is still there, in order."""
    cleaned = clean_chat(text)
    lines = chat_lines("[t] n: ", cleaned)
    assert all(line.startswith("[t] n: ") for line in lines)
    assert "".join(line[len("[t] n: "):] for line in lines).replace(" ", "") == \
        cleaned.replace(" ", "")


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, key", [
    ("alice", "allce"), ("aIice", "allce"), ("a1ice", "allce"), ("ALICE", "allce"),
    ("al_ice", "allce"), ("a-l-i-c-e", "allce"), ("b0b", "bob"), ("8ob", "bob"),
    ("Dearner", "deamer"), ("vvill", "wlll"), ("Ja5on", "jason"), ("Zed2", "zedz"),
])
def test_look_alike_keys_fold_what_passes_for_the_same_on_screen(name: str, key: str) -> None:
    """Case, I/l/1, O/0, 5/s, 8/B, 2/z, rn/m, vv/w and separators all fold as documented."""
    assert look_alike_key(name) == key


def test_different_enough_names_keep_different_keys() -> None:
    """Names a reader tells apart do not collide."""
    names = ["alice", "alicia", "bob", "rob", "bobby", "carol", "carl", "dave", "eve"]
    assert len({look_alike_key(n) for n in names}) == len(names)


def test_every_reserved_word_is_its_own_reserved_word() -> None:
    """Each word on the list is refused, and names the word it is."""
    for word in RESERVED_NAMES:
        assert reserved_word(word) == word


@pytest.mark.parametrize("name, word", [
    ("Dea1er", "Dealer"), ("DEALER99", "Dealer"), ("Seat_7", "Seat"), ("Y0U", "You"),
    ("Adrnin", "Admin"), ("5erver", "Server"),
])
def test_look_alikes_of_reserved_words_are_reserved(name: str, word: str) -> None:
    """A reserved word spelled with look-alikes, or with a number added, is still it."""
    assert reserved_word(name) == word


@pytest.mark.parametrize("name", ["alice", "Dealerfan", "Seattle", "Youssef", "Ali", "Tablet"])
def test_ordinary_names_are_not_reserved(name: str) -> None:
    """Names that merely start with, or resemble part of, a reserved word are free."""
    assert reserved_word(name) is None
