"""Control and format characters: refused in names and ids, escaped when shown or logged."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from webapp.characters import describe, first_refused, refusal, visible


@pytest.mark.parametrize(("text", "shown"), [
    ("plain text, ünïcode & <html>", "plain text, ünïcode & <html>"),
    ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
    ("\x1b[31mred\x00\x07", "\\x1b[31mred\\x00\\x07"),
    ("abc\u202edef\u200b\ufeff", "abc\\u202edef\\u200b\\ufeff"),
    ("\u2028\u2029\x85\x9b", "\\u2028\\u2029\\x85\\x9b"),
    ("lone \ud800", "lone \\ud800"),
    (42, "42"),
])
def test_visible_escapes_what_would_break_a_line_or_hide_itself(text, shown):
    assert visible(text) == shown


def test_every_character_escaped_is_one_isprintable_refuses():
    """visible() returns printable text untouched: that shortcut must miss none of them."""
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        if unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp", "Cs"}:
            assert not character.isprintable(), hex(code)
            assert visible(character) != character


def test_refusal_names_the_character():
    assert first_refused("ok") is None and refusal("The name", "ok") is None
    assert describe("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert describe("\x1b") == "U+001B"
    assert refusal("The name", "a\x07") == (
        "The name holds a control character, U+0007, which would show as something it is "
        "not: remove it.")
