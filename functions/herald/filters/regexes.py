"""Java regular expressions (``java.util.regex``) run on the ``regex`` package, with a time bound.

Jayway compiles ``/pattern/flags`` with ``Pattern.compile`` and tests it with ``Matcher.matches()``,
i.e. the whole input must match. The dialect differences that change results are translated:

* ``\\d \\w \\s \\b`` and the POSIX classes (``\\p{Alpha}``...) are ASCII in Java unless the ``U`` flag
  is given: they are spelled out as ASCII classes. Unicode properties (``\\p{Lu}``) stay Unicode.
* Case-insensitivity (``i``) is ASCII-only unless ``u`` or ``U`` is given: ASCII letters are
  expanded by hand (``a`` -> ``[aA]``, ``[a-c]`` -> ``[a-cA-C]``) because ``regex``'s ASCII flag
  would also make ``\\p{..}`` ASCII-only. Back-references are compared case-sensitively then.
* ``.`` excludes every Java line terminator (``\\n \\r \\u0085 \\u2028 \\u2029``), not only ``\\n``
  (with ``d``, UNIX_LINES, only ``\\n``; with ``s``, nothing).
* ``\\z`` / ``\\Z``, ``\\h \\H \\v \\V \\R``, ``\\x{h..h}``, ``\\0ooo``, ``\\cX``, ``\\e``, ``\\Q..\\E``,
  ``\\k<name>``, ``\\p{IsL}`` / ``\\p{javaLowerCase}`` become their ``regex`` equivalents.
* Flags: ``d i x m s u U`` (Jayway's ``PatternFlag``), also as inline groups ``(?imsxdu-...)``.
* Possessive quantifiers, atomic groups, lookaround and named groups work as in Java.
* Known approximations: ``$``/``^`` (multiline) know only ``\\n`` as a line end; in ``x`` mode ``#``
  starts a comment outside classes only.

Not supported (rejected as a syntax error rather than silently matching differently): character-class
union/intersection (``[a-z&&[^q]]``, nested ``[...]``), ``\\b{g}``, and the ``(?U)`` inline flag.
Syntax that ``regex`` accepts but Java rejects (``{e<=1}`` fuzzy matching, ``(?V1)``, ``\\K``...)
is rejected too, so a filter valid here is valid in Jayway.

Compiling is bounded before it starts: ``regex`` expands a repeat's minimum count into copies of
what it repeats (``a{3000000}`` holds ~1 GB, ``(a{1000}){1000}`` takes 20 s to compile), so the
translator measures the pattern's compiled size -- its translated text with every repeat expanded,
nested counts multiplying -- and refuses, with the position of the offending repeat, a count above
``MAX_REPEAT_COUNT``, a size above ``MAX_COMPILED_SIZE`` (shared by all the regexes of one filter),
a pattern longer than ``MAX_PATTERN_LENGTH`` or groups nested deeper than ``MAX_GROUP_DEPTH``.
Measured on 2 cores: `regex` parses ~7 us per translated character and copies ~0.5 us and ~150
bytes per element, so the bound keeps any filter's regexes under ~30 ms and ~600 KB to compile
(``bench/bench_filters.py``'s numbers are for matching). Compiled patterns are not kept in
`regex`'s own cache: the filter cache holds them, bounded by their total size.

Catastrophic backtracking is bounded: patterns whose shape can backtrack super-linearly (nested or
alternating quantified groups, back-references, lookaround, several unbounded quantifiers) run with
``regex``'s ``timeout``; a timeout makes that one evaluation fail with a recorded reason. Simple
patterns skip the timeout because passing it costs ~2 µs per match.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import regex

from .errors import FilterBoundError

REGEX_TIMEOUT_SECONDS = 0.050
MAX_GROUP_DEPTH = 64
# Each count of a {n} / {n,m} repeat (Java allows up to 2^31 - 1; nobody filters on that).
MAX_REPEAT_COUNT = 1000
# The compiled size of all the regexes of one filter together: translated characters plus the
# elements repeat counts copy (`regex`'s compile cost, 4-45 us a unit; see the module docstring).
MAX_COMPILED_SIZE = 4000
# Characters of one pattern's source (the filter itself is at most 2000).
MAX_PATTERN_LENGTH = 1000
# Digits read of a repeat count before it is known to be over the bound (int() of a 5000-digit
# string raises, and costs).
_COUNT_DIGITS = len(str(MAX_REPEAT_COUNT))

_LINE_TERMINATORS = "\\n\\r\\u0085\\u2028\\u2029"
_DOT = f"[^{_LINE_TERMINATORS}]"
_DOT_UNIX = "[^\\n]"
_ASCII_CLASSES = {
    "d": ("0-9", "[0-9]"),
    "D": ("\\x00-/:-\\U0010ffff", "[^0-9]"),
    "w": ("a-zA-Z0-9_", "[a-zA-Z0-9_]"),
    "W": ("\\x00-/:-@\\[-\\^`{-\\U0010ffff", "[^a-zA-Z0-9_]"),
    "s": (" \\t\\n\\x0b\\f\\r", "[ \\t\\n\\x0b\\f\\r]"),
    "S": ("\\x00-\\x08\\x0e-\\x1f!-\\U0010ffff", "[^ \\t\\n\\x0b\\f\\r]"),
}
_HORIZONTAL = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VERTICAL = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
_SPACE_CLASSES = {
    "h": (_HORIZONTAL, f"[{_HORIZONTAL}]"),
    "v": (_VERTICAL, f"[{_VERTICAL}]"),
}
_ASCII_WORD = "[a-zA-Z0-9_]"
_WORD_BOUNDARY = f"(?:(?<={_ASCII_WORD})(?!{_ASCII_WORD})|(?<!{_ASCII_WORD})(?={_ASCII_WORD}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_ASCII_WORD})(?={_ASCII_WORD})|(?<!{_ASCII_WORD})(?!{_ASCII_WORD}))"
# java.util.regex POSIX classes are US-ASCII only (unless UNICODE_CHARACTER_CLASS).
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}
_JAVA_CHARACTER_PROPERTIES = {
    "javaLowerCase": "Lowercase",
    "javaUpperCase": "Uppercase",
    "javaAlphabetic": "Alphabetic",
    "javaIdeographic": "Ideographic",
    "javaTitleCase": "Lt",
    "javaDigit": "Nd",
    "javaDefined": "Assigned",
    "javaLetter": "L",
    "javaLetterOrDigit": "Alnum",
    "javaMirrored": "Bidi_Mirrored",
    "javaSpaceChar": "Whitespace",
    "javaISOControl": "Cc",
}
_GENERAL_CATEGORIES = {
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "LC", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
    "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
    "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Co", "Cs", "Cn",
}  # fmt: skip
_JAVA_FLAGS = "dixmsuU"
_CLASS = regex.compile(r"\[\^?(?:\\.|[^\]\\])*\]")
_RANGE = "<range>"


class RegexDialectError(ValueError):
    """The pattern is not a Java regex we can run faithfully; ``offset`` is within the pattern."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class JavaPattern:
    """A compiled ``/pattern/flags`` literal. Compared by identity, as Java's ``Pattern`` is."""

    source: str
    flags: str
    compiled: regex.Pattern[str] = field(repr=False)
    timed: bool = field(repr=False)
    size: int = field(default=0, repr=False)  # compiled size (see `_Translator.size`)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def full_match(self, text: str) -> bool:
        """``Matcher.matches()``; raises FilterBoundError when the time bound is hit."""
        if not self.timed:
            return self.compiled.fullmatch(text) is not None
        try:
            return self.compiled.fullmatch(text, timeout=REGEX_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            raise FilterBoundError(
                f"regex /{self.source}/ timed out after {REGEX_TIMEOUT_SECONDS * 1000:.0f} ms "
                f"on a {len(text)}-character value"
            ) from None


# The compiled size left to the regexes of the filter being compiled (see `compile_budget`).
_budget: ContextVar[list[int] | None] = ContextVar("herald_regex_budget", default=None)


@contextmanager
def compile_budget(size: int = MAX_COMPILED_SIZE) -> Iterator[list[int]]:
    """Within the block, the regexes compiled share one `size` budget (one filter's regexes);
    yields the budget left, as a one-element list."""
    left = [size]
    token = _budget.set(left)
    try:
        yield left
    finally:
        _budget.reset(token)


def compile_java_pattern(source: str, flags: str) -> JavaPattern:
    """Translate and compile; raise RegexDialectError for invalid or unsupported patterns, and for
    patterns over the bounds (checked while translating, before `regex` does any work)."""
    shared = _budget.get()
    limit = shared[0] if shared is not None else MAX_COMPILED_SIZE
    translator = _Translator(source, flags, limit)
    translated, py_flags, timed = translator.run()  # linear in the source, and bounded by it
    if len(source) > MAX_PATTERN_LENGTH:
        raise RegexDialectError(
            f"the regex is longer than {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH
        )
    if shared is not None:
        shared[0] -= translator.size
    try:
        # Not in `regex`'s module cache (500 patterns, unbounded in size): filters cache theirs.
        compiled = regex.compile(translated, py_flags, cache_pattern=False)
    except RecursionError:
        raise RegexDialectError("the regex is nested too deeply", 0) from None
    except regex.error as exc:
        # regex positions refer to the translated text, so point at the start of the pattern.
        raise RegexDialectError(f"invalid regex: {exc.msg}", 0) from None
    return JavaPattern(source, flags, compiled, timed, translator.size)


@dataclass
class _State:
    dotall: bool
    unix_lines: bool
    unicode_classes: bool
    comments: bool
    ignore_case: bool
    unicode_case: bool

    @property
    def ascii_case(self) -> bool:
        """Java's CASE_INSENSITIVE without UNICODE_CASE: only ASCII letters fold (done by hand)."""
        return self.ignore_case and not self.unicode_case

    @property
    def python_ignore_case(self) -> bool:
        return self.ignore_case and self.unicode_case

    def copy(self) -> _State:
        return _State(
            self.dotall,
            self.unix_lines,
            self.unicode_classes,
            self.comments,
            self.ignore_case,
            self.unicode_case,
        )


@dataclass
class _Frame:
    state: _State
    has_quantifier: bool = False
    has_alternation: bool = False
    size: int = 0  # compiled size of what the group holds so far (see `_Translator.size`)
    nodes: int = 0  # elements it holds, repeats expanded (what a repeat of the group copies)


class _Translator:
    def __init__(self, source: str, flags: str, size_limit: int = MAX_COMPILED_SIZE) -> None:
        self.src = source
        self.pos = 0
        self.size_limit = size_limit
        self.atom_nodes = 0  # elements of what a following quantifier would repeat
        self.out: list[str] = []
        state = _State(
            dotall="s" in flags,
            unix_lines="d" in flags,
            unicode_classes="U" in flags,
            comments="x" in flags,
            ignore_case="i" in flags,
            unicode_case="u" in flags or "U" in flags,
        )
        self.frames = [_Frame(state)]
        # No regex.ASCII: it would also make \p{Lu} ASCII-only. ASCII classes are spelled out and
        # ASCII-only case folding is done by expanding letters (see _State.ascii_case).
        self.py_flags = regex.V0 | regex.UNICODE
        if state.python_ignore_case:
            self.py_flags |= regex.IGNORECASE
        if "m" in flags:
            self.py_flags |= regex.MULTILINE
        self.groups = 0
        self.unbounded = 0
        self.quantifiers = 0
        self.risky = False
        # What a following quantifier would apply to: None (nothing), or a frame summary of the atom.
        self.last_atom: tuple[bool, bool] | None = None
        self.last_literal: str | None = None  # the character the last escape stood for, if one

    @property
    def state(self) -> _State:
        return self.frames[-1].state

    @property
    def size(self) -> int:
        """The compiled size so far: the translated text's length (what `regex` parses) plus the
        elements that repeats' minimum counts copy (what it expands), nested counts multiplying."""
        return sum(frame.size for frame in self.frames)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        nodes = len(_CLASS.sub("c", text))  # a character class is one element
        self.atom_nodes = nodes
        frame = self.frames[-1]
        frame.size += len(text)
        frame.nodes += nodes
        self._check_size(self.pos)

    def _check_size(self, position: int) -> None:
        if self.size > self.size_limit:
            raise self.fail(
                f"the regex is too large: over {MAX_COMPILED_SIZE} units once its repeat counts are "
                "expanded (nested counts multiply; a filter's regexes share this bound)",
                position,
            )

    def fail(self, message: str, offset: int | None = None) -> RegexDialectError:
        return RegexDialectError(message, self.pos if offset is None else offset)

    def run(self) -> tuple[str, int, bool]:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if self.state.comments and ch in " \t\n\r\f\x0b":
                self.pos += 1
                continue
            if self.state.comments and ch == "#":
                while self.pos < len(src) and src[self.pos] != "\n":
                    self.pos += 1
                continue
            if ch == "\\":
                self._escape_outside()
            elif ch == "[":
                self._emit(self._char_class())
                self.last_atom = (False, False)
            elif ch == "(":
                self._open_group()
            elif ch == ")":
                self._close_group()
            elif ch == "|":
                self.frames[-1].has_alternation = True
                self._emit("|")
                self.pos += 1
                self.last_atom = None
            elif ch in "*+?{":
                self._quantifier()
            elif ch == ".":
                st = self.state
                self._emit("(?s:.)" if st.dotall else (_DOT_UNIX if st.unix_lines else _DOT))
                self.pos += 1
                self.last_atom = (False, False)
            elif ch in "^$":
                self._emit(ch)
                self.pos += 1
                self.last_atom = None
            else:
                self._emit(self._lit(ch))
                self.pos += 1
                self.last_atom = (False, False)
        if len(self.frames) > 1:
            raise self.fail("unclosed group '('", len(src))
        timed = self.risky or self.unbounded > 1 or self.quantifiers > 4
        return "".join(self.out), self.py_flags, timed

    # -- groups and quantifiers -------------------------------------------------------------------

    def _open_group(self) -> None:
        src, start = self.src, self.pos
        state = self.state.copy()
        if src.startswith("(?", start):
            rest = src[start + 2 : start + 3]
            if rest == ":":
                self._emit("(?:")
                self.pos += 3
            elif rest in ("=", "!"):
                self.risky = True
                self._emit(src[start : start + 3])
                self.pos += 3
            elif src.startswith("(?<=", start) or src.startswith("(?<!", start):
                self.risky = True
                self._emit(src[start : start + 4])
                self.pos += 4
            elif rest == "<":
                end = src.find(">", start + 3)
                name = src[start + 3 : end] if end != -1 else ""
                if not (name[:1].isascii() and name[:1].isalpha() and name.isascii() and name.isalnum()):
                    raise self.fail("invalid group name", start)
                self.groups += 1
                self._emit(f"(?P<{name}>")
                self.pos = end + 1
            elif rest == ">":
                self._emit("(?>")
                self.pos += 3
            else:
                self._inline_flags(state)
                return
        else:
            self.groups += 1
            self._emit("(")
            self.pos += 1
        self._push(_Frame(state))
        self.last_atom = None

    def _push(self, frame: _Frame) -> None:
        if len(self.frames) > MAX_GROUP_DEPTH:
            raise self.fail(f"groups nested more than {MAX_GROUP_DEPTH} levels deep")
        self.frames.append(frame)

    def _inline_flags(self, state: _State) -> None:
        """``(?idmsux-idmsux)`` changes the enclosing group; ``(?flags:X)`` opens a group."""
        src, start = self.src, self.pos
        i = start + 2
        on: list[str] = []
        off: list[str] = []
        negate = False
        while i < len(src) and (src[i] in _JAVA_FLAGS or (src[i] == "-" and not negate)):
            if src[i] == "-":
                negate = True
            else:
                (off if negate else on).append(src[i])
            i += 1
        if i >= len(src) or src[i] not in ":)":
            raise self.fail("unsupported group construct '(?'", start)
        if "U" in on or "U" in off:
            raise self.fail("the inline flag (?U) is not supported; use the /.../U flag", start)
        target = state if src[i] == ":" else self.state
        python_ignore_case_before = target.python_ignore_case
        for flag, value in [(f, True) for f in on] + [(f, False) for f in off]:
            if flag == "s":
                target.dotall = value
            elif flag == "d":
                target.unix_lines = value
            elif flag == "x":
                target.comments = value
            elif flag == "i":
                target.ignore_case = value
            elif flag == "u":
                target.unicode_case = value
        # Python only sees 'm' and (Unicode) 'i'; '.', classes and ASCII case folding are translated.
        py_on = "".join(f for f in on if f == "m")
        py_off = "".join(f for f in off if f == "m")
        if target.python_ignore_case != python_ignore_case_before:
            if target.python_ignore_case:
                py_on += "i"
            else:
                py_off += "i"
        text = "(?" + py_on + (f"-{py_off}" if py_off else "")
        if src[i] == ":":
            self._emit((text if len(text) > 2 else "(?") + ":")
            self._push(_Frame(state))
        elif len(text) > 2:
            self._emit(text + ")")
        self.pos = i + 1
        self.last_atom = None

    def _close_group(self) -> None:
        if len(self.frames) == 1:
            raise self.fail("unmatched ')'")
        frame = self.frames.pop()
        self.frames[-1].size += frame.size
        self.frames[-1].nodes += frame.nodes
        self._emit(")")
        self.atom_nodes = frame.nodes + 1
        self.pos += 1
        self.last_atom = (frame.has_quantifier, frame.has_alternation)

    def _quantifier(self) -> None:
        src, start = self.src, self.pos
        ch = src[start]
        if ch == "{":
            end = src.find("}", start)
            body = src[start + 1 : end] if end != -1 else ""
            low, comma, high = body.partition(",")
            if not (low.isascii() and low.isdigit()) or (high and not (high.isascii() and high.isdigit())):
                raise self.fail("illegal repetition '{'", start)
            for count in (low, high):
                if count and (len(count) > _COUNT_DIGITS or int(count) > MAX_REPEAT_COUNT):
                    raise self.fail(
                        f"the repeat count {count[:12]}{'…' if len(count) > 12 else ''} is over "
                        f"{MAX_REPEAT_COUNT}, the most a repeat may count",
                        start,
                    )
            self.pos = end + 1
            unbounded = bool(comma) and not high
            wide = unbounded or (bool(comma) and int(high) - int(low) > 10)
            minimum = int(low)
        else:
            self.pos += 1
            unbounded = ch in "*+"
            wide = unbounded
            minimum = 1 if ch == "+" else 0
        if self.last_atom is None:
            raise self.fail(f"dangling meta character '{ch}'", start)
        # `regex` compiles a repeat's minimum as that many copies of what it repeats.
        copies = self.atom_nodes * (max(minimum, 1) - 1)
        self.frames[-1].size += copies
        self.frames[-1].nodes += copies
        self._check_size(start)
        inner_quantifier, inner_alternation = self.last_atom
        if inner_quantifier or inner_alternation:
            self.risky = True  # (a+)+, (a|aa)*: exponential backtracking shapes
        if self.pos < len(src) and src[self.pos] in "?+":
            self.pos += 1  # lazy / possessive suffix, same syntax in both dialects
        self._emit(src[start : self.pos])
        self.quantifiers += 1
        if wide:
            self.unbounded += 1
        for frame in self.frames:
            frame.has_quantifier = True
        self.last_atom = None

    def _lit(self, ch: str) -> str:
        """A literal character outside a class, folded by hand under ASCII-only case-insensitivity."""
        if self.state.ascii_case and ch.isascii() and ch.isalpha():
            return f"[{ch.lower()}{ch.upper()}]"
        return _literal(ch)

    def _char(self, in_class: bool, ch: str) -> str:
        self.last_literal = ch
        if in_class:
            return _class_literal(ch)
        return self._lit(ch)

    # -- escapes ---------------------------------------------------------------------------------

    def _escape_outside(self) -> None:
        src, start = self.src, self.pos
        nxt = src[start + 1 : start + 2]
        if not nxt:
            raise self.fail("trailing backslash", start)
        atom = True
        if nxt == "Q":
            end = src.find("\\E", start + 2)
            end = len(src) if end == -1 else end
            literal = src[start + 2 : end]
            self._emit("".join(self._lit(c) for c in literal))
            self.pos = min(len(src), end + 2)
            self.last_atom = (False, False) if literal else self.last_atom
            return
        if nxt == "b":
            if src.startswith("\\b{", start):
                raise self.fail("\\b{...} boundaries are not supported", start)
            self._emit("\\b" if self.state.unicode_classes else _WORD_BOUNDARY)
            atom = False
        elif nxt == "B":
            self._emit("\\B" if self.state.unicode_classes else _NOT_WORD_BOUNDARY)
            atom = False
        elif nxt == "A" or nxt == "G":
            self._emit("\\" + nxt)
            atom = False
        elif nxt == "z":
            self._emit("\\Z")
            atom = False
        elif nxt == "Z":
            self._emit(f"(?=(?:\\r\\n|[{_LINE_TERMINATORS}])?\\Z)")
            atom = False
        elif nxt == "R":
            self._emit(f"(?:\\r\\n|[{_VERTICAL}])")
        elif nxt == "X":
            self._emit("\\X")
        elif nxt == "k":
            end = src.find(">", start)
            if not src.startswith("\\k<", start) or end == -1:
                raise self.fail("invalid named back-reference", start)
            self.risky = True
            self._emit(f"(?P={src[start + 3 : end]})")
            self.pos = end + 1
            self.last_atom = (False, False)
            return
        elif nxt.isdigit() and nxt != "0":
            self._back_reference()
            return
        else:
            self._emit(self._escape_common(in_class=False))
            self.last_atom = (False, False)
            return
        self.pos = start + 2
        self.last_atom = (False, False) if atom else None

    def _back_reference(self) -> None:
        src, start = self.src, self.pos
        end = start + 2
        number = int(src[start + 1])
        while end < len(src) and src[end].isdigit() and int(src[start + 1 : end + 1]) <= self.groups:
            number = int(src[start + 1 : end + 1])
            end += 1
        self.risky = True
        self._emit(f"(?:\\g<{number}>)")
        self.pos = end
        self.last_atom = (False, False)

    def _escape_common(self, in_class: bool) -> str:
        """Escapes valid both in and outside classes, translated for where they stand."""
        src, start = self.src, self.pos
        nxt = src[start + 1]
        self.pos = start + 2
        ascii_classes = not self.state.unicode_classes
        if nxt in _ASCII_CLASSES:
            if not ascii_classes:
                return "\\" + nxt
            inner, whole = _ASCII_CLASSES[nxt]
            return inner if in_class else whole
        if nxt in "hv":
            inner, whole = _SPACE_CLASSES[nxt]
            return inner if in_class else whole
        if nxt in "HV":
            inner, _ = _SPACE_CLASSES[nxt.lower()]
            if in_class:
                raise self.fail(f"\\{nxt} inside a character class is not supported", start)
            return f"[^{inner}]"
        if nxt in "pP":
            return self._property(nxt == "P", in_class, start)
        if nxt == "N":
            end = src.find("}", start)
            if not src.startswith("\\N{", start) or end == -1:
                raise self.fail("invalid \\N{name} escape", start)
            self.pos = end + 1
            return src[start : end + 1]
        simple = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "a": "\x07", "e": "\x1b"}
        if nxt in simple:
            return self._char(in_class, simple[nxt])
        if nxt == "0":
            digits = ""
            limit = 3 if src[start + 2 : start + 3] in ("0", "1", "2", "3") else 2
            while len(digits) < limit and src[self.pos : self.pos + 1] in tuple("01234567"):
                digits += src[self.pos]
                self.pos += 1
            if not digits:
                raise self.fail("illegal octal escape sequence", start)
            return self._char(in_class, chr(int(digits, 8)))
        if nxt == "x":
            if src.startswith("\\x{", start):
                end = src.find("}", start)
                digits = src[start + 3 : end] if end != -1 else ""
                self.pos = end + 1
            else:
                digits = src[start + 2 : start + 4]
                self.pos = start + 4
                if len(digits) != 2:
                    digits = ""
            if (
                not digits
                or not all(c in "0123456789abcdefABCDEF" for c in digits)
                or int(digits, 16) > 0x10FFFF
            ):
                raise self.fail("illegal hexadecimal escape sequence", start)
            return self._char(in_class, chr(int(digits, 16)))
        if nxt == "u":
            digits = src[start + 2 : start + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.fail("illegal unicode escape sequence", start)
            code = int(digits, 16)
            self.pos = start + 6
            low = src[self.pos : self.pos + 6]
            if 0xD800 <= code < 0xDC00 and low.startswith("\\u") and len(low) == 6:
                try:
                    low_code = int(low[2:], 16)
                except ValueError:
                    low_code = 0
                if 0xDC00 <= low_code < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)
                    self.pos += 6
            return self._char(in_class, chr(code))
        if nxt == "c":
            ctrl = src[start + 2 : start + 3]
            if not ctrl:
                raise self.fail("illegal control escape sequence", start)
            self.pos = start + 3
            return self._char(in_class, chr(ord(ctrl) ^ 64))
        if nxt.isascii() and nxt.isalpha():
            raise self.fail(f"illegal/unsupported escape sequence \\{nxt}", start)
        return self._char(in_class, nxt)

    def _property(self, negated: bool, in_class: bool, start: int) -> str:
        src = self.src
        if src[self.pos : self.pos + 1] == "{":
            end = src.find("}", self.pos)
            if end == -1:
                raise self.fail("unclosed \\p{...} property", start)
            name = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            name = src[self.pos : self.pos + 1]
            self.pos += 1
        if not name:
            raise self.fail("empty \\p{} property", start)
        bare = name[2:] if name.startswith("Is") else name
        if bare in _POSIX and not self.state.unicode_classes:
            inner = _POSIX[bare]
            if in_class:
                if negated:
                    raise self.fail("negated POSIX classes inside a class are not supported", start)
                return inner
            return f"[{'^' if negated else ''}{inner}]"
        if name in _JAVA_CHARACTER_PROPERTIES:
            name = _JAVA_CHARACTER_PROPERTIES[name]
        elif name.startswith("Is") and bare in _GENERAL_CATEGORIES:
            name = bare
        return f"\\{'P' if negated else 'p'}{{{name}}}"

    def _char_class(self) -> str:
        src, start = self.src, self.pos
        i = start + 1
        negated = src[i : i + 1] == "^"
        if negated:
            i += 1
        # (translated text, the literal character it stands for or None, or _RANGE for a '-')
        items: list[tuple[str, str | None]] = []
        while True:
            if i >= len(src):
                raise self.fail("unclosed character class", start)
            ch = src[i]
            if ch == "]" and items:
                self.pos = i + 1
                body = "".join(text for text, _ in items) + self._case_extras(items)
                return f"[{'^' if negated else ''}{body}]"
            if ch == "[":
                raise self.fail("nested character classes (union) are not supported", i)
            if ch == "&" and src[i + 1 : i + 2] == "&":
                raise self.fail("character class intersection (&&) is not supported", i)
            if self.state.comments and ch in " \t\n\r\f\x0b":
                i += 1
                continue
            if ch == "\\":
                nxt = src[i + 1 : i + 2]
                if nxt == "Q":
                    end = src.find("\\E", i + 2)
                    end = len(src) if end == -1 else end
                    items.extend((_class_literal(c), c) for c in src[i + 2 : end])
                    i = min(len(src), end + 2)
                elif not nxt:
                    raise self.fail("trailing backslash", i)
                elif nxt in "bBAGzZRXk" or (nxt.isdigit() and nxt != "0"):
                    raise self.fail(f"\\{nxt} is not allowed inside a character class", i)
                else:
                    self.pos = i
                    self.last_literal = None
                    items.append((self._escape_common(in_class=True), self.last_literal))
                    i = self.pos
            elif ch == "-":
                items.append(("-", _RANGE))
                i += 1
            else:
                items.append((_class_literal(ch), ch))
                i += 1

    def _case_extras(self, items: list[tuple[str, str | None]]) -> str:
        """Under ASCII-only case folding, add the other case of ASCII letters and letter ranges."""
        if not self.state.ascii_case:
            return ""
        extras: list[str] = []
        k = 0
        while k < len(items):
            char = items[k][1]
            is_range = (
                k + 2 < len(items)
                and items[k + 1][1] == _RANGE
                and char not in (None, _RANGE)
                and items[k + 2][1] not in (None, _RANGE)
            )
            if is_range:
                low, high = char, items[k + 2][1]
                assert low is not None and high is not None
                for first, last in (("a", "z"), ("A", "Z")):
                    a, b = max(low, first), min(high, last)
                    if a <= b:
                        extras.append(f"{a.swapcase()}-{b.swapcase()}")
                k += 3
                continue
            if char not in (None, _RANGE) and char.isascii() and char.isalpha():
                extras.append(char.swapcase())
            k += 1
        return "".join(extras)


def _literal(ch: str) -> str:
    """A character matched literally outside a class."""
    if ch.isalnum() or ch == "_":
        return ch
    if " " <= ch <= "~":
        return "\\" + ch
    return f"\\U{ord(ch):08x}"


def _class_literal(ch: str) -> str:
    """A character matched literally inside a class."""
    if ch.isalnum() or ch == "_":
        return ch
    if " " <= ch <= "~":
        return "\\" + ch if ch in "\\]^[-" else ch
    return f"\\U{ord(ch):08x}"
