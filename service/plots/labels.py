"""Labels in matplotlib's mathtext, with a plain-text fallback that cannot fail.

SymPy's LaTeX is mostly within mathtext (``\\frac``, ``\\sqrt[3]``, ``\\left(``,
``\\operatorname``, Greek letters), but not all of it (``\\begin{cases}``, ``\\text``,
``\\displaystyle``...). A label is tried as it is, then with those commands rewritten into
ones mathtext has; if mathtext still refuses it, or it is too long to be read in a picture,
the expression's plain text is used instead. A label is checked by parsing it here, so a
picture never fails while it is being drawn.
"""

from __future__ import annotations

import functools
import re

from matplotlib.mathtext import MathTextParser

#: Longest LaTeX tried in mathtext; longer formulas are shown as (shortened) plain text.
MAX_LATEX_CHARS = 400
#: Longest plain-text formula shown in full.
MAX_TEXT_CHARS = 90

_PARSER = MathTextParser("path")

_REWRITES = [
    (re.compile(r"\\operatorname\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\text(?:rm)?\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\(?:left|right)\s*\."), ""),
    (re.compile(r"\\(?:left|right)\s*(?=[()\[\]|])"), ""),
    (re.compile(r"\\(?:left|right)\s*\\([{}|])"), r"\\\1"),
    (re.compile(r"\\[dt]frac"), r"\\frac"),
    (re.compile(r"\\(?:displaystyle|limits|nolimits)\b"), ""),
]


@functools.lru_cache(maxsize=1024)
def renders(math: str) -> bool:
    """Whether mathtext can draw ``$math$``."""
    try:
        _PARSER.parse(f"${math}$", dpi=72)
    except (ValueError, RuntimeError, KeyError, IndexError):
        return False
    return True


def rewrite(latex: str) -> str:
    """``latex`` with the commands mathtext lacks replaced by ones it has."""
    for pattern, replacement in _REWRITES:
        latex = pattern.sub(replacement, latex)
    return latex


def plain(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Text shown literally: ``$`` escaped, shortened with an ellipsis past ``max_chars``."""
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "\u2026"
    return text.replace("$", r"\$")


#: Always applied: mathtext draws ``\\left| x \\right|`` with bars shorter than the x.
_PREFERRED = [(re.compile(r"\\(?:left|right)\|"), "|")]


def math_or_none(latex: str) -> str | None:
    """``latex`` (or its rewrite) if mathtext can draw it, else None."""
    if len(latex) > MAX_LATEX_CHARS:
        return None
    for pattern, replacement in _PREFERRED:
        latex = pattern.sub(replacement, latex)
    for candidate in (latex, rewrite(latex)):
        if renders(candidate):
            return candidate
    return None


def formula(name_latex: str, latex: str, name_text: str, text: str) -> str:
    """A label ``name = formula``: mathtext when it can be drawn, else plain text."""
    math = math_or_none(latex)
    if math is not None and renders(f"{name_latex} = {math}"):
        return f"${name_latex} = {math}$"
    return plain(f"{name_text} = {text}")


def math(latex: str, text: str) -> str:
    """``$latex$`` when mathtext can draw it, else ``text`` as plain text."""
    checked = math_or_none(latex)
    return f"${checked}$" if checked is not None else plain(text)


def number(value: float) -> str:
    """A float in 4 significant digits, without a trailing ``.0`` or ``-0``."""
    text = f"{value:.4g}"
    return "0" if text in ("-0", "0") else text
