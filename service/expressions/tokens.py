"""Split expression text into tokens, each carrying its 0-based character position.

The tokenizer is the first gate of the safe parser: it lets through only ASCII numbers,
names, the operators of the grammar, parentheses and commas. Anything else is refused with
its position, and the Unicode look-alikes people paste from documents ('×', '−', '²')
get a hint naming the character to type instead.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import NamedTuple

from service.errors import ExpressionError


class Kind(Enum):
    """What a token is; operator kinds are valued by the text they stand for."""

    NUMBER = "number"
    NAME = "name"
    PLUS = "+"
    MINUS = "-"
    TIMES = "*"
    DIVIDE = "/"
    POWER = "^"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end of expression"


class Token(NamedTuple):
    """A token: a tuple underneath, so that the tokenizer makes them cheaply."""

    kind: Kind
    text: str
    position: int

    @property
    def end(self) -> int:
        return self.position + len(self.text)


# One alternative per token, tried in order at each position: a decimal literal (digits with
# an optional point, or a point and digits, then an optional exponent: "2e" and "2e+x" are
# the number 2 followed by the name e, the exponent needs digits), a name, "**", a run of
# whitespace, or any other single character (an operator, or one outside the grammar). No
# alternative matches the empty string and the last matches anything, so the pieces tile
# the text and each starts where the one before ended.
_PIECES = re.compile(
    r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|\*\*|\s+|.",
    re.DOTALL,
)
_OPERATORS = {
    "**": Kind.POWER,
    "^": Kind.POWER,
    "+": Kind.PLUS,
    "-": Kind.MINUS,
    "*": Kind.TIMES,
    "/": Kind.DIVIDE,
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    ",": Kind.COMMA,
}
_SKIP = object()  # the kind of a run of whitespace
# The kind of any other piece, by its first character: a piece starting with a digit or a
# letter is a number or a name; one starting with "." is a number unless it is "." alone.
_BY_FIRST = {
    **dict.fromkeys("0123456789.", Kind.NUMBER),
    **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", Kind.NAME),
    **dict.fromkeys(" \t\n\r\f\v", _SKIP),
}

# Characters that look like part of the grammar, and what to type instead.
_LOOKALIKES = {
    "×": "*", "·": "*", "⋅": "*", "∙": "*", "∗": "*", "✕": "*", "＊": "*",
    "÷": "/", "∕": "/", "⁄": "/", "／": "/",
    "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "﹣": "-", "－": "-",
    "＋": "+", "＾": "^", "（": "(", "）": ")", "，": ",",
    "⁰": "^0", "¹": "^1", "²": "^2", "³": "^3", "⁴": "^4", "⁵": "^5", "⁶": "^6",
    "⁷": "^7", "⁸": "^8", "⁹": "^9", "⁻": "^-",
    "√": "sqrt(...)", "∛": "cbrt(...)", "ℯ": "e", "½": "1/2", "¼": "1/4", "¾": "3/4",
}
_ASCII_HINTS = {
    "[": "use ( and ) for grouping",
    "]": "use ( and ) for grouping",
    "{": "use ( and ) for grouping",
    "}": "use ( and ) for grouping",
    "|": "write abs(x) for |x|",
    "=": "write only the expression, without '='",
    "!": "factorials are not supported",
}


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text``, ending with an END token at ``len(text)``."""
    tokens: list[Token] = []
    append, new, operators, by_first = tokens.append, tuple.__new__, _OPERATORS, _BY_FIRST
    position = 0
    for piece in _PIECES.findall(text):
        kind = operators.get(piece)
        if kind is None:
            kind = by_first.get(piece[0])
            if kind is _SKIP:
                position += len(piece)
                continue
            if kind is None or piece == ".":
                if piece.isspace():
                    position += len(piece)
                    continue
                raise ExpressionError(_unexpected_character(piece, position), position)
        append(new(Token, (kind, piece, position)))
        position += len(piece)
    append(new(Token, (Kind.END, "", position)))
    return tokens


def _unexpected_character(char: str, position: int) -> str:
    """Describe a character outside the grammar, with a hint when one helps."""
    if char.isascii() and char.isprintable():
        described = repr(char)
    else:
        described = f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"
    message = f"unexpected character {described} at position {position}"
    hint = _hint(char)
    return f"{message}; {hint}" if hint else message


def _hint(char: str) -> str | None:
    if char in _LOOKALIKES:
        return f"type '{_LOOKALIKES[char]}' instead"
    if char in _ASCII_HINTS:
        return _ASCII_HINTS[char]
    name = unicodedata.name(char, "")
    for prefix, spell in (("GREEK SMALL LETTER ", str.lower), ("GREEK CAPITAL LETTER ", str.capitalize)):
        if name.startswith(prefix) and " " not in name[len(prefix):]:
            return f"names are ASCII: write '{spell(name[len(prefix):])}'"
    return None
