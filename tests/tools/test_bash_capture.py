"""Bounded output capture of the bash tool: head and tail kept, JSON size bounded."""

import itertools

from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json

from sysward.tools.bash.capture import JSON_SLACK_RATIO, OutputCapture


@given(
    text=st.text(alphabet="abcxyz 0123456789", max_size=6000),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=8),
    max_bytes=st.integers(min_value=1024, max_value=4096),
)
def test_capture_keeps_exactly_the_first_and_last_halves(
    text: str, cuts: list[int], max_bytes: int
) -> None:
    data = text.encode()
    capture = OutputCapture(max_bytes)
    bounds = [0, *sorted(cut for cut in cuts if cut <= len(data)), len(data)]
    for start, end in itertools.pairwise(bounds):
        capture.feed(data[start:end])
    rendered, truncated = capture.render()
    assert capture.total_bytes == len(data)
    assert truncated is (len(data) > max_bytes)
    if not truncated:
        assert rendered == text
    else:
        head, tail = max_bytes // 2, max_bytes - max_bytes // 2
        assert rendered.startswith(text[:head]) and rendered.endswith(text[-tail:])
    assert len(to_json(rendered)) <= max_bytes + max_bytes // JSON_SLACK_RATIO


@given(data=st.binary(max_size=5000), max_bytes=st.integers(min_value=1024, max_value=2048))
def test_capture_of_any_bytes_renders_within_its_json_budget(data: bytes, max_bytes: int) -> None:
    capture = OutputCapture(max_bytes)
    capture.feed(data)
    rendered, truncated = capture.render()
    assert len(to_json(rendered)) <= max_bytes + max_bytes // JSON_SLACK_RATIO
    if not truncated:
        assert rendered == data.decode("utf-8", errors="replace")


def test_a_character_cut_by_the_head_or_tail_edge_is_dropped_not_garbled() -> None:
    capture = OutputCapture(1025)  # 512 bytes of head, 513 of tail: both edges split an é
    capture.feed(("a" + "é" * 2000).encode())
    rendered, truncated = capture.render()
    head, _, rest = rendered.partition("\n[... output truncated")
    assert truncated and "\ufffd" not in rendered
    assert set(head) == {"a", "é"} and set(rest.partition("...]\n")[2]) == {"é"}
