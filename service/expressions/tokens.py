"""Split expression text into tokens, each carrying its 0-based character position.

The tokenizer is the first gate of the safe parser: it lets through only ASCII numbers,
names, the operators of the grammar, parentheses and commas. Anything else is refused with
its position, and the Unicode look-alikes people paste from documents ('×', '−', '²')
get a hint naming the character to type instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

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


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    position: int

    @property
    def end(self) -> int:
        return self.position + len(self.text)


# A decimal literal: digits with an optional point, or a point and digits, then an optional
# exponent. "2e" and "2e+x" are the number 2 followed by the name e: the exponent needs digits.
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s+")
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
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position = _SPACE.match(text, position).end()
            continue
        match = _NUMBER.match(text, position) or _NAME.match(text, position)
        if match:
            kind = Kind.NAME if match.re is _NAME else Kind.NUMBER
            tokens.append(Token(kind, match.group(), position))
            position = match.end()
            continue
        operator = text[position:position + 2] if text.startswith("**", position) else char
        if operator in _OPERATORS:
            tokens.append(Token(_OPERATORS[operator], operator, position))
            position += len(operator)
            continue
        raise ExpressionError(_unexpected_character(char, position), position)
    tokens.append(Token(Kind.END, "", length))
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
