"""Jayway's ``CharacterIndex``: the character scans the filter grammar and the path grammar share.

Both of Jayway's compilers (``FilterCompiler`` and ``PathCompiler``) walk the text with one
``CharacterIndex``; its quirks (only the space character is blank, quotes are skipped whole when
looking for a closing bracket, a regex is skipped whole inside ``[?(...)]``) must be the same in both,
so they live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from .errors import FilterSyntaxError


class CharacterIndex(ABC):
    """A cursor ``pos`` over ``s[...end]`` (``end`` inclusive, as in Jayway)."""

    def __init__(self, text: str, pos: int, end: int) -> None:
        self.s = text
        self.pos = pos
        self.end = end

    @abstractmethod
    def error(self, message: str, position: int, expected: str) -> FilterSyntaxError:
        """The syntax error to raise at ``position`` of ``s`` (each grammar reports positions its way)."""

    def next_significant(self, index: int) -> int:
        """The index of the first non-space character after ``index``, or -1."""
        index += 1
        while index <= self.end and self.s[index] == " ":
            index += 1
        return index if index <= self.end else -1

    def next_unescaped(self, index: int, ch: str) -> int:
        """The index of the next ``ch`` after ``index`` that no backslash escapes, or -1."""
        index += 1
        escaped = False
        while index <= self.end:
            c = self.s[index]
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == ch:
                return index
            index += 1
        return -1

    def matching_close(self, start: int, open_ch: str, close_ch: str, skip_regex: bool) -> int:
        """``indexOfMatchingCloseChar``: the ``close_ch`` that closes ``s[start]``, or -1 if none does.

        Quoted strings (and, with ``skip_regex``, ``/regex/`` literals) are skipped whole; one left
        open is a syntax error.
        """
        s, end = self.s, self.end
        opened = 1
        read = start + 1
        while read <= end:
            c = s[read]
            if c in "'\"":
                read = self.next_unescaped(read, c)
                if read == -1:
                    raise self.error(f"no closing {c} for a quoted string", start, c)
                read += 1
                if read > end:
                    return -1
                c = s[read]
            if skip_regex and c == "/":
                read = self.next_unescaped(read, "/")
                if read == -1:
                    raise self.error("no closing / for a regex", start, "/")
                read += 1
                if read > end:
                    return -1
                c = s[read]
            if c == open_ch:
                opened += 1
            if c == close_ch:
                opened -= 1
                if opened == 0:
                    return read
            read += 1
        return -1


def is_digit(ch: str) -> bool:
    """Java's ``Character.isDigit`` for one UTF-16 code unit (Unicode decimal digits, BMP only)."""
    return len(ch) == 1 and ch.isdecimal() and ch <= "\uffff"
