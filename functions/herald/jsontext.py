"""Strict JSON (RFC 8259): what Herald accepts is what every receiver can parse.

Python's `json` reads `NaN`, `Infinity` and numbers that overflow to infinity, and strings holding
lone surrogates; Herald would then deliver text that strict parsers (JavaScript's JSON.parse, Go,
Jackson) refuse. Deeply nested or enormous numbers raise errors that are not ValueError-shaped.
`loads` refuses all of them with one error that says why.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotJson(ValueError):
    """The text is not strict JSON; the message says where or why."""


def _no_constant(token: str) -> Any:
    raise NotJson(f"{token} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson(f"the number {text[:20]} is out of range")
    return value


def loads(text: str | bytes) -> Any:
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        # Lone surrogates survive json.loads but not UTF-8: receivers could not decode them.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except NotJson:
        raise
    except RecursionError:
        raise NotJson("nested too deeply") from None
    except UnicodeError:
        raise NotJson("a string holds an unpaired surrogate (\\ud800-\\udfff)") from None
    except ValueError as exc:  # JSONDecodeError, or an integer beyond Python's 4300-digit limit
        raise NotJson(str(exc).split(":")[0]) from None
    return value
