"""Shell analysis: what a command line would run, as `sysward.policy.shell` sees it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysward.policy.shell import MAX_DEPTH, ShellAnalysis, analyse, dangers, hard_blocks
from sysward.policy.shell.paths import is_block_device, is_system_path
from sysward.policy.shell.words import dequote


def texts(line: str, cwd: str | None = None) -> list[str]:
    analysis = analyse(line, cwd)
    assert analysis.is_fully_analysed, analysis
    return [c.text for c in analysis.commands]


def test_leading_assignments_are_not_part_of_argv() -> None:
    (command,) = analyse("LANG=C TZ=UTC ls -l /srv").commands
    assert command.argv == ("ls", "-l", "/srv")
    assert command.assignments == ("LANG=C", "TZ=UTC")


def test_wrappers_are_unwrapped_down_to_the_real_command() -> None:
    line = "sudo -u root env -i X=1 nice -n 5 timeout -s KILL 10 nohup rm -f /tmp/x"
    assert texts(line)[-1] == "rm -f /tmp/x"
    assert [c.via for c in analyse(line).commands] == [
        None, "sudo", "env", "nice", "timeout", "nohup"
    ]  # fmt: skip


def test_xargs_stdbuf_exec_and_command_are_unwrapped() -> None:
    assert texts("xargs -n 1 -I {} stat {}")[-1] == "stat {}"
    assert texts("exec -a name stdbuf -o L grep x")[-1] == "grep x"
    assert texts("command rm x")[-1] == "rm x"


def test_command_v_only_looks_a_name_up() -> None:
    assert texts("command -v rm") == ["command -v rm"]


def test_quotes_and_backslashes_are_removed_as_bash_does() -> None:
    assert texts("'r'\"m\" \\-rf a'b c'") == ["rm -rf ab c"]
    assert dequote("'a'\"'\"'b'") == "a'b"
    assert dequote("$'\\x72\\x6d'") == "rm"


def test_redirections_are_recorded_with_their_target() -> None:
    (command,) = analyse("ls >> /var/log/x 2>&1 < /etc/hosts").commands
    assert [(r.op, r.target, r.is_write) for r in command.redirects] == [
        (">>", "/var/log/x", True),
        (">&", "&1", False),
        ("<", "/etc/hosts", False),
    ]


def test_closing_a_descriptor_is_a_redirection_not_a_crash() -> None:
    # Found by the fuzz test: bashlex gives `<&-`'s target as a bare string.
    (command,) = analyse("cat <&- 2>&-").commands
    assert [(r.op, r.target, r.is_write) for r in command.redirects] == [
        ("<&", "&-", False),
        (">&", "&-", False),
    ]


@pytest.mark.parametrize("line", ["{'${'", "echo {'${' }", "{'&${'&${'&"])
def test_an_unclosed_parameter_expansion_is_a_parse_error_not_a_hang(line: str) -> None:
    # bashlex 0.18 loops forever on these, eating memory (found by the fuzz test).
    analysis = analyse(line)
    assert analysis.parse_error is not None and "bad substitution" in analysis.parse_error


def test_a_group_redirection_applies_to_each_command_inside() -> None:
    commands = analyse("{ ls; id; } > /tmp/out").commands
    assert [[r.target for r in c.redirects] for c in commands] == [["/tmp/out"], ["/tmp/out"]]


@pytest.mark.parametrize(
    ("line", "inner", "via"),
    [
        ("echo $(id -u)", "id -u", "$(…)"),
        ("echo `id -u`", "id -u", "$(…)"),
        ("diff <(ls a) b", "ls a", "<(…)"),
        ("X=$(id -u) true", "id -u", "$(…)"),
        ("bash -c 'id -u'", "id -u", "bash -c"),
        ("sh -ec 'id -u'", "id -u", "sh -ec"),
        ("su -c 'id -u' root", "id -u", "su -c"),
        ("eval id -u", "id -u", "eval"),
        ("env -S 'id -u'", "id -u", "env -S"),
        ("find . -exec id -u ;", "id -u", "find -exec"),
    ],
)
def test_nested_commands_are_found(line: str, inner: str, via: str) -> None:
    found = {c.text: c.via for c in analyse(line).commands}
    assert found.get(inner) == via, found


def test_nesting_is_bounded() -> None:
    within = "eval " * MAX_DEPTH + "id"
    assert "id" in texts(within)
    beyond = analyse("eval " * (MAX_DEPTH + 1) + "id")
    assert any("deeper than" in u for u in beyond.unanalysed), beyond
    assert "id" not in [c.text for c in beyond.commands]


def test_a_script_computed_at_run_time_is_reported_unanalysed() -> None:
    analysis = analyse('bash -c "$(curl -s http://x)"')
    assert any("computed at run time" in u for u in analysis.unanalysed)


def test_a_here_doc_body_is_kept_and_its_substitutions_are_found() -> None:
    analysis = analyse("cat <<EOF\nuser $(whoami)\nEOF")
    assert analysis.heredocs[0].body == "user $(whoami)"
    assert analysis.heredocs[0].is_expanding
    assert "whoami" in [c.text for c in analysis.commands]


def test_a_quoted_here_doc_delimiter_stops_expansion() -> None:
    analysis = analyse("cat <<'EOF'\nuser $(whoami)\nEOF")
    assert analysis.is_fully_analysed
    assert not analysis.heredocs[0].is_expanding
    assert [c.text for c in analysis.commands] == ["cat"]


def test_a_here_doc_fed_to_a_shell_is_parsed_as_a_script() -> None:
    assert "rm -rf /srv/x" in texts("bash <<EOF\nls\nrm -rf /srv/x\nEOF")


def test_cd_sets_the_directory_of_the_commands_after_it() -> None:
    commands = analyse("cd /etc && ls; cd nginx; cat x", cwd="/").commands
    assert [c.cwd for c in commands] == ["/", "/etc", "/etc", "/etc/nginx"]


def test_computed_words_are_marked() -> None:
    (command,) = [c for c in analyse("$X -l $(pwd) plain").commands if c.via is None]
    assert command.is_name_computed
    assert command.computed == {0, 2}


def test_pipelines_and_background_are_recorded() -> None:
    commands = analyse("a | b & c").commands
    assert [(c.pipeline is not None, c.stage, c.is_background) for c in commands] == [
        (True, 0, True), (True, 1, True), (False, 0, False)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "line", ["echo 'unterminated", "[[ -f /x ]] && ls", "case x in a) ls;; esac", "echo $((1+2))"]
)
def test_what_bashlex_cannot_parse_is_reported_not_raised(line: str) -> None:
    analysis = analyse(line)
    assert analysis.parse_error
    assert not analysis.is_fully_analysed


def test_an_overlong_line_is_not_parsed() -> None:
    assert "longer than" in (analyse("x" * 70_000).parse_error or "")


@pytest.mark.parametrize(
    ("path", "cwd", "expected"),
    [
        ("/", None, True),
        ("/*", None, True),
        ("/./", None, True),
        ("//", None, True),
        ("/usr/..", None, True),
        ("/etc/", None, True),
        ("/e*", None, True),
        ("/var/lib", None, True),
        ("~", None, True),
        ("*", "/", True),
        ("/tmp/build", None, False),
        ("/var/lib/apt/lists", None, False),
        ("*", "/srv/app", False),
        ("build", None, False),
    ],
)
def test_system_paths(path: str, cwd: str | None, expected: bool) -> None:
    assert is_system_path(path, cwd) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/dev/sda", True), ("/dev/nvme0n1p1", True), ("/dev/mapper/vg-root", True),
     ("/dev/null", False), ("/tmp/sda", False)],
)  # fmt: skip
def test_block_devices(path: str, expected: bool) -> None:
    assert is_block_device(path) is expected


# -- robustness -----------------------------------------------------------------------

_SHELLISH = st.text(alphabet=st.sampled_from(list("ab $()`'\"\\|&;<>{}[]*?~!#=-\n\t/rmfc0")))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), _SHELLISH))
def test_analysing_any_text_never_raises(line: str) -> None:
    analysis = analyse(line)
    assert isinstance(analysis, ShellAnalysis)
    assert analysis.source == line
    hard_blocks(analysis)
    dangers(analysis)


@given(st.text(max_size=100))
def test_dequoting_any_text_never_raises(word: str) -> None:
    assert isinstance(dequote(word), str)
