"""Shell command analysis for `bash exec`: what a command line would really run.

`analyse` parses a line (bashlex) into simple commands, redirections, here-docs
and nested scripts; `hard_blocks` and `dangers` read that analysis. The rules
that use it live in `sysward.policy.rules`.
"""

from sysward.policy.shell.blocks import hard_blocks
from sysward.policy.shell.dangers import dangers
from sysward.policy.shell.model import Finding, HereDoc, Redirect, ShellAnalysis, SimpleCommand
from sysward.policy.shell.parse import MAX_DEPTH, analyse

__all__ = [
    "MAX_DEPTH",
    "Finding",
    "HereDoc",
    "Redirect",
    "ShellAnalysis",
    "SimpleCommand",
    "analyse",
    "dangers",
    "hard_blocks",
]
