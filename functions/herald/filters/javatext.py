"""Java behaviours of strings and numbers that Jayway's results depend on.

Jayway turns every number into a ``BigDecimal`` (from the number's Java ``toString``) and compares
strings with ``String.compareTo`` (UTF-16 code units). Reproducing those exactly matters: ``$.v == '1.0'``
with ``v = 1`` is true while ``'1.0' == $.v`` is false, because one side compares numerically and the
other compares the BigDecimal's text.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# java.math.BigDecimal(String) grammar. ``\d`` is Unicode Nd, like Character.isDigit / Character.digit.
_BIG_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_HEX = re.compile(r"[+-]?[0-9A-Fa-f]+")
_INT_MIN = -(2**31)
_INT_RANGE = 2**32

_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "r": "\r", "f": "\f", "t": "\t", "n": "\n", "b": "\b"}


def unescape(text: str) -> str:
    """Jayway's ``Utils.unescape``: backslash escapes of quoted strings and bracket property names.

    Unknown escapes yield the escaped character; an incomplete ``\\u`` at the end is dropped and a
    lone trailing backslash is kept. Raises ``ValueError`` for a ``\\u`` whose 4 characters are not hex.
    """
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            out.append("\\")
            break
        nxt = text[i + 1]
        if nxt == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) < 4:
                break  # Jayway silently drops an unfinished \u escape at the end of the text
            # Integer.parseInt(x, 16) accepts a sign, so "\u-001" is (char) -1 == U+FFFF.
            if not _HEX.fullmatch(digits):
                raise ValueError(f"Unable to parse unicode value: {digits}")
            out.append(chr(int(digits, 16) & 0xFFFF))
            i += 6
            continue
        out.append(_SIMPLE_ESCAPES.get(nxt, nxt))
        i += 2
    result = "".join(out)
    # \uD83D\uDE00 produced two UTF-16 halves; Java sees one code point, so join them the same way.
    if any("\ud800" <= c <= "\udfff" for c in result):
        result = result.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return result


def parse_big_decimal(text: str) -> Decimal | None:
    """``new BigDecimal(text)``, or ``None`` where Java throws ``NumberFormatException``."""
    if not _BIG_DECIMAL.fullmatch(text):
        return None
    return normalize_zero(Decimal(text))


def normalize_zero(value: Decimal) -> Decimal:
    """BigDecimal has no negative zero: ``new BigDecimal("-0.0")`` prints as ``0.0``."""
    if value.is_zero() and value.is_signed():
        return value.copy_negate()
    return value


def double_to_string(value: float) -> str:
    """Java's ``Double.toString`` (shortest round-trip digits, as in JDK 19+).

    Raises ``ValueError`` for NaN and infinities: Jayway passes the text to ``new BigDecimal``,
    which rejects them.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"Could not convert {value!r} to a number node")
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + exponent  # position of the decimal point relative to the digits
    prefix = "-" if sign else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{prefix}{digits}{'0' * (point - len(digits))}.0"
        return f"{prefix}{digits[:point]}.{digits[point:]}"
    mantissa = f"{digits[0]}.{digits[1:] or '0'}"
    return f"{prefix}{mantissa}E{point - 1}"


def int_value(value: Decimal) -> int:
    """``BigDecimal.intValue()``: truncate towards zero, keep the low 32 bits (two's complement)."""
    if value.adjusted() > 64:
        # Any integer with 32 or more trailing decimal zeros is divisible by 2**32.
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        if exponent >= 32:
            return 0
    whole = int(value)
    return (whole - _INT_MIN) % _INT_RANGE + _INT_MIN


def utf16_length(text: str) -> int:
    """``String.length()``: characters outside the BMP count twice."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ch > "\uffff")


def compare_strings(left: str, right: str) -> int:
    """``String.compareTo``: order by UTF-16 code units (differs from code points above U+FFFF)."""
    if left.isascii() and right.isascii():
        return (left > right) - (left < right)
    a = left.encode("utf-16-be", "surrogatepass")
    b = right.encode("utf-16-be", "surrogatepass")
    return (a > b) - (a < b)


def java_trim(text: str) -> str:
    """``String.trim()`` removes every character up to U+0020, not only whitespace."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def decimal_of_float(value: float) -> Decimal:
    """A Java Double as Jayway sees it: ``new BigDecimal(Double.toString(value))``."""
    return normalize_zero(Decimal(double_to_string(value)))
