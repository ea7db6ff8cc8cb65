"""Lone surrogate escapes in JSON text become U+FFFD; everything else is untouched."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from sysward.llm.jsontext import without_lone_surrogates

ANY_CODE_POINTS = st.text(st.characters(codec=None, categories=None))


@given(ANY_CODE_POINTS)
def test_decoded_strings_can_always_be_encoded_as_utf8(text: str) -> None:
    decoded = json.loads(without_lone_surrogates(json.dumps(text)))
    assert decoded.encode("utf-8").decode("utf-8") == decoded


@given(st.text())
def test_text_without_lone_surrogates_decodes_unchanged(text: str) -> None:
    escaped = json.dumps(text)
    assert without_lone_surrogates(escaped) == escaped
    assert json.loads(without_lone_surrogates(escaped)) == text


def test_an_escaped_backslash_before_u_is_not_an_escape() -> None:
    assert json.loads(without_lone_surrogates(r'"\\ud800"')) == "\\ud800"
    assert json.loads(without_lone_surrogates(r'"\\\ud800"')) == "\\\ufffd"
