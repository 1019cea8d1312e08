"""docs/deploy.md as a user reads it: its fenced bash blocks and inline commands, by section.

The tests take every command from the guide's own text (never a copy), so a command that changes in
the guide changes what is tested, and a new one must be claimed by a test (test_infra_deploy_doc).
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
# The programs a command of the guide may start with.
PROGRAMS = ("npx", "aws", "herald", "python", "python3", "make", "npm", "source", "export", "curl")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
_HEADING = re.compile(r"^## (.+)$", re.M)
_INLINE = re.compile(r"`([^`\n]+)`")
_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>\n]*>")


@dataclass(frozen=True)
class Block:
    section: str
    text: str

    @property
    def commands(self) -> list[str]:
        return commands(self.text)


def text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def bash_blocks(guide: str | None = None) -> list[Block]:
    guide = text() if guide is None else guide
    headings = [(m.start(), m.group(1).strip()) for m in _HEADING.finditer(guide)]
    blocks = []
    for match in _FENCE.finditer(guide):
        if match.group("lang") not in ("bash", "sh"):
            continue
        section = next((title for start, title in reversed(headings) if start < match.start()), "")
        blocks.append(Block(section, textwrap.dedent(match.group("body"))))
    return blocks


def section_block(section: str) -> Block:
    found = [block for block in bash_blocks() if block.section == section]
    assert len(found) == 1, (
        f"docs/deploy.md: expected one bash block under '## {section}', found {len(found)}"
    )
    return found[0]


def commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comment-only lines dropped."""
    joined = re.sub(r"\\\n[ \t]*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def inline_commands(guide: str | None = None) -> list[str]:
    """Commands quoted inline in the prose (`npx aws-cdk synth`, `aws sts ...`)."""
    guide = _FENCE.sub("", text() if guide is None else guide)
    return [span for span in _INLINE.findall(guide) if span.split(" ", 1)[0] in PROGRAMS and " " in span]


def argv(command: str) -> list[str]:
    """A command's words, its trailing `# comment` dropped (as bash reads it)."""
    return shlex.split(command, comments=True)


def fill(command: str, values: dict[str, str]) -> str:
    """The command with its `<placeholders>` replaced; every placeholder must have a value."""
    for placeholder, value in values.items():
        command = command.replace(placeholder, value)
    left = _PLACEHOLDER.findall(command)
    assert not left, f"docs/deploy.md: no test value for {left} in: {command}"
    return command


def cdk_commands(verb: str) -> list[list[str]]:
    """Every `npx aws-cdk <verb> ...` of the guide's blocks, as words."""
    found = []
    for block in bash_blocks():
        for command in block.commands:
            words = argv(command)
            if words[:3] == ["npx", "aws-cdk", verb]:
                found.append(words)
    return found


def context_of(words: list[str]) -> dict[str, str]:
    """The `-c key=value` / `--context key=value` pairs of a CDK CLI command."""
    context = {}
    for flag, value in zip(words, [*words[1:], ""], strict=True):
        if flag in ("-c", "--context"):
            key, _, val = value.partition("=")
            context[key] = val
    return context


def section_text(section: str) -> str:
    guide = text()
    start = guide.index(f"\n## {section}\n")
    end = guide.find("\n## ", start + 1)
    return guide[start : end if end != -1 else len(guide)]


def outputs_table() -> set[str]:
    """The output names the `## Outputs` table lists (first column, each in backticks)."""
    names = set()
    for line in section_text("Outputs").splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z]+)`", line.split("|")[1]))
    return names
