"""The parsed form of a filter (what :mod:`.parser` produces and :mod:`.compiler` turns into closures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .paths import CompiledPath


@dataclass(frozen=True)
class PathOperand:
    path: CompiledPath
    # False when written ``!$.x``; only an existence test honours it (Jayway ignores it elsewhere).
    should_exist: bool
    position: int


@dataclass(frozen=True)
class Literal:
    value: Any  # a value node, see values.py
    text: str
    position: int


Operand = PathOperand | Literal


@dataclass(frozen=True)
class Comparison:
    left: Operand
    operator: str  # upper-cased, a key of compare.OPERATORS
    right: Operand
    position: int


@dataclass(frozen=True)
class Exists:
    path: CompiledPath
    should_exist: bool


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Comparison | Exists | Not | And | Or
