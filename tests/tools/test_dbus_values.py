"""JSON <-> D-Bus values: round trips through the codec alone and through a real bus."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from dbus_fast.signature import SignatureType, get_signature_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from sysward.tools import ToolOk, ToolRegistry
from sysward.tools.dbus import BusAddresses, DbusTool
from sysward.tools.dbus.values import MAX_STRING_CHARS, ConversionError, ReplyDecoder, to_dbus

from .dbus_daemon import INTERFACE, PATH, SERVICE, DBusDaemon, SampleInterface

INTEGERS = {
    "y": (0, 2**8 - 1),
    "n": (-(2**15), 2**15 - 1),
    "q": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "u": (0, 2**32 - 1),
    "x": (-(2**63), 2**63 - 1),
    "t": (0, 2**64 - 1),
}
KEY_TOKENS = [*INTEGERS, "b", "s", "o"]

texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
object_paths = st.lists(st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True), max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
signatures = st.recursive(
    st.sampled_from([*INTEGERS, "b", "d", "s", "o", "g", "ay"]),
    lambda inner: st.one_of(
        inner.map(lambda item: "a" + item),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: "(" + "".join(items) + ")"),
        st.tuples(st.sampled_from(KEY_TOKENS), inner).map(lambda kv: "a{" + kv[0] + kv[1] + "}"),
        st.just("v"),
    ),
    max_leaves=5,
)


def values(type_: SignatureType) -> st.SearchStrategy[JsonValue]:
    """JSON values of D-Bus type ``type_``, in the tool's JSON forms."""
    token = type_.token
    simple: dict[str, st.SearchStrategy[JsonValue]] = {
        "b": st.booleans(),
        "d": st.floats(allow_nan=False, allow_infinity=False),
        "s": texts,
        "o": object_paths,
        "g": st.sampled_from(["", "s", "a{sv}", "(ias)"]),
        "v": signatures.flatmap(
            lambda sig: values(get_signature_tree(sig).types[0]).map(
                lambda value: {"signature": sig, "value": value}
            )
        ),
    }
    if token in INTEGERS:
        return st.integers(*INTEGERS[token])
    if token in simple:
        return simple[token]
    if token == "(":
        return st.tuples(*(values(child) for child in type_.children)).map(list)
    element = type_.children[0]
    if element.token == "y":
        return st.binary(max_size=16).map(lambda raw: base64.b64encode(raw).decode())
    if element.token == "{":
        key, item = element.children
        return st.dictionaries(keys(key), values(item), max_size=3)
    return st.lists(values(element), max_size=3)


def keys(type_: SignatureType) -> st.SearchStrategy[str]:
    """Dict keys as JSON spells them: integers and booleans as their canonical text."""
    if type_.token in INTEGERS:
        return st.integers(*INTEGERS[type_.token]).map(str)
    if type_.token == "b":
        return st.sampled_from(["true", "false"])
    return object_paths if type_.token == "o" else texts


typed_values = signatures.flatmap(
    lambda sig: st.tuples(st.just(sig), values(get_signature_tree(sig).types[0]))
)


@settings(max_examples=300)
@given(typed_values)
def test_every_value_survives_encoding_and_decoding(typed: tuple[str, JsonValue]) -> None:
    signature, value = typed
    encoded = to_dbus(get_signature_tree(signature).types[0], value, "arg")
    assert ReplyDecoder(max_items=1000).decode(encoded) == value


@pytest.mark.parametrize(
    ("signature", "value", "where"),
    [
        ("a(si)", [["ok", 1], ["bad", "x"]], "arg[1][1]"),
        ("a{sv}", {"k": {"signature": "u", "value": -1}}, "arg.k.value"),
        ("(sas)", ["a", ["b", 3]], "arg[1][1]"),
    ],
)
def test_a_conversion_error_says_where(signature: str, value: JsonValue, where: str) -> None:
    with pytest.raises(ConversionError) as raised:
        to_dbus(get_signature_tree(signature).types[0], value, "arg")
    assert str(raised.value).startswith(f"{where}: ")


def test_variants_nested_past_the_dbus_limit_are_refused() -> None:
    value: JsonValue = "deep"
    for _ in range(70):
        value = {"signature": "v", "value": value}
    with pytest.raises(ConversionError, match="nested deeper"):
        to_dbus(get_signature_tree("v").types[0], value, "arg")


def test_decoder_cuts_long_strings_and_bytes() -> None:
    decoder = ReplyDecoder(max_items=10)
    assert decoder.decode("x" * (MAX_STRING_CHARS + 5)) == "x" * MAX_STRING_CHARS
    assert len(base64.b64decode(str(decoder.decode(b"\x00" * 10_000)))) == 3072
    assert decoder.truncated is True


def test_decoder_spells_non_finite_doubles_as_text() -> None:
    decoder = ReplyDecoder(max_items=10)
    assert [decoder.decode(x) for x in (float("nan"), float("inf"))] == ["nan", "inf"]


@pytest.fixture
async def registry(
    dbus_daemon: DBusDaemon, sample_service: SampleInterface
) -> AsyncIterator[ToolRegistry]:
    registry = ToolRegistry([DbusTool(BusAddresses(system=dbus_daemon.address))])
    try:
        yield registry
    finally:
        await registry.aclose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(variant=values(get_signature_tree("v").types[0]))
async def test_every_value_survives_a_trip_through_a_real_bus(
    registry: ToolRegistry, variant: JsonValue
) -> None:
    target = {"service": SERVICE, "path": PATH, "interface": INTERFACE}
    args = {**target, "method": "Identity", "signature": "v", "args": [variant], "max_items": 1000}
    result = await registry.invoke("dbus", "call", args)
    assert isinstance(result, ToolOk), result
    assert result.output == {"signature": "v", "values": [variant], "truncated": False}
