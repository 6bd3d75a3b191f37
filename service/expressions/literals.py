"""Turn a decimal literal into an exact fraction, refusing oversized ones before building them.

Literals are exact (``0.1`` is 1/10), so they are read from their digit string with integer
arithmetic, never through ``float``. The size check comes first and works on the digit
counts alone, so ``1e999999999`` costs nothing.
"""

from __future__ import annotations

import math
import re

from service.config import Limits
from service.errors import LimitExceeded

_PARTS = re.compile(r"([0-9]*)\.?([0-9]*)(?:[eE]([+-]?[0-9]+))?")
_CHUNK = 1000  # digits converted per step: stays under Python's int/str conversion limit


def exact_decimal(text: str, position: int, limits: Limits) -> tuple[int, int]:
    """Return ``(numerator, denominator)`` in lowest terms for the literal ``text``.

    Raises LimitExceeded when the numerator or the denominator would have more than
    ``limits.max_integer_digits`` digits.
    """
    length = len(text)
    if length <= _CHUNK and length <= limits.max_integer_digits and text.isdigit() and (
            text.isascii()):
        return int(text), 1  # the common case: a plain integer the limit cannot refuse
    whole, fraction, exponent_text = _PARTS.fullmatch(text).groups()
    fraction = fraction.rstrip("0")
    digits = (whole + fraction).lstrip("0")
    if not digits:
        return 0, 1
    exponent = _exponent(exponent_text, text, position, limits) - len(fraction)
    limit = limits.max_integer_digits
    if exponent >= 0:
        if len(digits) + exponent > limit:
            _refuse(text, position, limits, f"has {len(digits) + exponent:,} digits")
        return int_from_digits(digits) * 10**exponent, 1
    # The denominator 10^-exponent can only shrink by the factors 2 and 5 of the digits,
    # so it keeps at least -exponent - len(digits) digits: refuse before dividing.
    if len(digits) > limit:
        _refuse(text, position, limits, f"has {len(digits):,} significant digits")
    if -exponent - len(digits) > limit:
        _refuse(text, position, limits, f"has a denominator of more than {limit:,} digits")
    numerator, denominator = int_from_digits(digits), 10**-exponent
    common = math.gcd(numerator, denominator)
    numerator, denominator = numerator // common, denominator // common
    for part, label in ((numerator, "a numerator"), (denominator, "a denominator")):
        if digit_count(part) > limit:
            _refuse(text, position, limits, f"has {label} of {digit_count(part):,} digits")
    return numerator, denominator


def _exponent(exponent_text: str | None, text: str, position: int, limits: Limits) -> int:
    if exponent_text is None:
        return 0
    sign = -1 if exponent_text.startswith("-") else 1
    magnitude = exponent_text.lstrip("+-").lstrip("0") or "0"
    if len(magnitude) > 9:
        _refuse(text, position, limits, "has an exponent of more than 9 digits")
    return sign * int(magnitude)


def _refuse(text: str, position: int, limits: Limits, problem: str) -> None:
    shown = text if len(text) <= 30 else text[:27] + "..."
    raise LimitExceeded(
        f"the number {shown} at position {position} {problem}",
        limits.max_integer_digits,
        Limits.env_var("max_integer_digits"),
        position=position,
    )


def digit_count(number: int) -> int:
    """Return the number of decimal digits of ``|number|`` (1 for 0), without ``str``."""
    number = abs(number)
    if number < 10:
        return 1
    estimate = int((number.bit_length() - 1) * math.log10(2)) + 1
    return estimate + (number >= 10**estimate)


def int_from_digits(digits: str) -> int:
    """Convert a string of decimal digits of any length to an int."""
    value = 0
    for start in range(0, len(digits), _CHUNK):
        chunk = digits[start:start + _CHUNK]
        value = value * 10**len(chunk) + int(chunk)
    return value


def digits_of(number: int) -> str:
    """Return the decimal digits of ``number`` (with '-'), for numbers of any length."""
    if number < 0:
        return "-" + digits_of(-number)
    if number < 10**_CHUNK:
        return str(number)
    chunks = []
    scale = 10**_CHUNK
    while number:
        number, chunk = divmod(number, scale)
        chunks.append(chunk)
    head, *rest = reversed(chunks)
    return str(head) + "".join(str(chunk).zfill(_CHUNK) for chunk in rest)
