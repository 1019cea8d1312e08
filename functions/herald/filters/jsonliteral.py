"""JSON literals inside filters (``['a', 'b']``, ``{"k": 1}``), read the way Jayway reads them.

Jayway hands the literal's text to json-smart in ``MODE_PERMISSIVE``, which accepts more than JSON:
single-quoted strings, unquoted words (``[a, b]`` is ``["a", "b"]``), unquoted object keys and a
trailing comma. This parser accepts exactly that subset; anything else is a syntax error.

Numbers follow json-smart's storage choice, which Jayway's comparisons can observe: integers stay
integers (Java Integer/Long/BigInteger) and numbers with a fraction or exponent become floats (Java
Double), so ``[1] == [1.0]`` is false just as ``Integer.equals(Double)`` is.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WHITESPACE = " \t\r\n"
MAX_DEPTH = 64
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonLiteralError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def parse_json_literal(text: str) -> Any:
    """Parse a permissive JSON array or object; raise :class:`JsonLiteralError` with an offset."""
    reader = _Reader(text)
    reader.skip_ws()
    value = reader.value(stop=",]}")
    reader.skip_ws()
    if reader.pos != len(text):
        raise JsonLiteralError("unexpected text after the JSON value", reader.pos)
    return value


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JsonLiteralError(f"JSON literal nested more than {MAX_DEPTH} levels deep", self.pos)

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def value(self, stop: str) -> Any:
        if self.pos >= len(self.text):
            raise JsonLiteralError("a value is missing", self.pos)
        ch = self.text[self.pos]
        if ch == "[":
            return self.array()
        if ch == "{":
            return self.obj()
        if ch in "\"'":
            return self.string(ch)
        return self.word(stop)

    def array(self) -> list[Any]:
        self.enter()
        self.pos += 1
        items: list[Any] = []
        while True:
            self.skip_ws()
            if self._peek() == "]":
                self.pos += 1
                self.depth -= 1
                return items
            items.append(self.value(stop=",]"))
            self.skip_ws()
            ch = self._peek()
            if ch == ",":
                self.pos += 1
            elif ch != "]":
                raise JsonLiteralError("expected ',' or ']' in the JSON array", self.pos)

    def obj(self) -> dict[str, Any]:
        self.enter()
        self.pos += 1
        items: dict[str, Any] = {}
        while True:
            self.skip_ws()
            if self._peek() == "}":
                self.pos += 1
                self.depth -= 1
                return items
            ch = self._peek()
            key = self.string(ch) if ch in "\"'" else self._raw_word(":")
            if not key and ch not in "\"'":
                raise JsonLiteralError("an object key is missing", self.pos)
            self.skip_ws()
            if self._peek() != ":":
                raise JsonLiteralError("expected ':' after the object key", self.pos)
            self.pos += 1
            self.skip_ws()
            items[key] = self.value(stop=",}")
            self.skip_ws()
            ch = self._peek()
            if ch == ",":
                self.pos += 1
            elif ch != "}":
                raise JsonLiteralError("expected ',' or '}' in the JSON object", self.pos)

    def string(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                nxt = text[self.pos + 1 : self.pos + 2]
                if nxt == "u":
                    digits = text[self.pos + 2 : self.pos + 6]
                    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                        raise JsonLiteralError("invalid \\u escape in a JSON string", self.pos)
                    out.append(chr(int(digits, 16)))
                    self.pos += 6
                    continue
                if nxt not in _ESCAPES:
                    raise JsonLiteralError("invalid escape in a JSON string", self.pos)
                out.append(_ESCAPES[nxt])
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        raise JsonLiteralError("unterminated string in the JSON literal", start)

    def word(self, stop: str) -> Any:
        start = self.pos
        word = self._raw_word(stop)
        if not word:
            raise JsonLiteralError("a value is missing", start)
        if word == "true":
            return True
        if word == "false":
            return False
        if word == "null":
            return None
        if _NUMBER.fullmatch(word):
            if any(c in word for c in ".eE"):
                return float(word)
            return int(word)
        return word  # json-smart's unquoted string

    def _raw_word(self, stop: str) -> str:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] not in stop and text[pos] not in "[]{}\"'":
            pos += 1
        word = text[self.pos : pos].strip(_WHITESPACE)
        self.pos = pos
        return word

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""
