"""Exact SymEngine objects in SymPy's form: build, canonicalize and evaluate without SymPy.

Why: for a never-seen expression SymPy spends milliseconds building objects (the parser's
builder), rebuilding SymEngine's derivatives and evaluating them exactly at a point, where
SymEngine takes microseconds. But each simplifies as it builds, and differently: SymEngine
keeps ``sqrt(8)``, writes ``sin(x + y - 1)`` as ``-sin(1 - x - y)``, merges
``exp(x)*exp(y)`` and ``x**2*x**y``, expands ``log(2/3)``; SymPy distributes ``2*(x + 1)``,
evaluates ``sec(atan(x))`` and ``exp(2*log(3))``, and with real symbols makes
``sqrt(x**2)`` into ``Abs(x)``. The fast path must give what the SymPy path gives, so here
SymEngine objects are only made through constructors that do what SymPy's constructors do
(``Add``, ``Mul``, ``Pow`` and the functions' ``eval``, read from SymPy 1.14) for a
whitelist of cases; anything else raises :class:`Unsupported` and the caller uses SymPy,
which also writes every error message.

A tree is *canonical* when it mirrors SymPy's tree node for node (same kinds, same
arguments): ``fast.to_sympy`` gives the very SymPy object, and printers of SymEngine trees
can write it as SymPy's printers write SymPy's. Where SymEngine's own constructors would
rewrite such a node (sin(x - 1) is -sin(1 - x) for SymEngine, log(2/3) is log(2) - log(3))
the node is made unevaluated (:func:`fast.as_written`), as ``fast.to_symengine`` makes it
of the SymPy object: differentiated, the tree gives what ``sympy.diff`` gives.

- :func:`build`: the parser's syntax tree -> SymEngine, as ``service.expressions.builder``
  builds it with SymPy (without request ``constants``), refusing wherever that builder
  might refuse (its size estimates, exponents, division by zero, complex parts);
- :func:`canonical`: a SymEngine result (a derivative) rebuilt in SymPy's form, what
  ``fast.to_sympy`` makes of it;
- :func:`value_at`: the exact value at a point (SymPy's ``xreplace``, as
  ``engine.substitute`` does it, with its size estimates), only when it is certainly a
  finite real number of a modest size; :func:`float_value` its float64.

Memos are per process and bounded; the running call's state is module-level (one
computation at a time per process, as the service runs them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction
from functools import lru_cache

import symengine as se

from service.calculus import fast
from service.calculus.fast import Unsupported
from service.config import Limits
from service.expressions.syntax_tree import (
    Call, Name, Negate, Node, Number, Power, Product, Reciprocal, Sum,
)

__all__ = ["Unsupported", "build", "canonical", "clear_memo", "float_value", "value_at"]

_ZERO, _ONE, _MINUS_ONE = se.Integer(0), se.Integer(1), se.Integer(-1)
_HALF = se.Rational(1, 2)
_PI, _E = se.pi, se.E
_Add, _Mul, _Pow, _Symbol = se.Add, se.Mul, se.Pow, se.Symbol
_RATIONALS = frozenset(type(v) for v in (
    _ZERO, _ONE, _MINUS_ONE, se.Integer(2), _HALF, se.Rational(3, 7), se.Rational(-1, 2)))
_PI_TYPE, _E_TYPE = type(_PI), type(_E)
_ZERO_TYPE, _ONE_TYPE = type(_ZERO), type(_ONE)

# -- sizes -------------------------------------------------------------------------------------
# The SymPy path refuses numbers past the limits: before each sum, product and power the
# builder (and the substitution of a point) estimates the digits SymPy is about to compute
# (service/expressions/builder.py). The same estimates are made here, on the same structures
# (the trees mirror SymPy's), and anything past half the limits or a few hundred digits is
# refused: then the SymPy path decides, and says why.
_MAX_DIGITS = 300  # estimated digits of the numbers one sum, product or power computes
_MAX_EXPONENT = 1000  # |rational exponent| of a power
_MAX_RADICAND = 10**7  # integers whose roots are taken (factored by trial division here)
_MAX_ROOT_DEGREE = 60


class _Caps:
    """The size caps for one call, the smaller of ours and half the ``limits``."""

    __slots__ = ("digits", "exponent", "radical", "small")

    def __init__(self, limits: Limits | None):
        limits = limits or _DEFAULT_LIMITS
        self.digits = min(_MAX_DIGITS, limits.max_number_digits // 2)
        self.exponent = min(_MAX_EXPONENT, limits.max_exponent)
        self.radical = min(50, limits.max_integer_digits // 2)  # digits left under a root
        # numbers of at most this many digits in all cannot reach an estimate's cap
        self.small = min(self.radical, self.digits / 2)


_DEFAULT_LIMITS = Limits()
# The state of the running call (calls do not nest; one computation at a time per process):
_caps = _Caps(None)  # its size caps
_pi_seen = True  # whether pi may occur (else trigonometric arguments are not searched)

_number_cache: dict[se.Basic, tuple[float, int, float, float]] = {}


def _number_info(r) -> tuple[float, int, float, float]:
    """(the builder's digits of the rational ``r``: log10 of the larger of its numerator
    and denominator; that one's bits; the digits of its numerator; of its denominator),
    remembered."""
    found = _number_cache.get(r)
    if found is None:
        p, q = r.get_num_den()
        p, q = abs(int(p)), int(q)
        largest = max(p, q)
        found = (_log10(largest), largest.bit_length(), _log10(p), _log10(q))
        if len(_number_cache) > 20_000:
            _number_cache.clear()
        _number_cache[r] = found
    return found


def _log10(n: int) -> float:
    return math.log10(n) if n > 1 else 0.0


def _digits(r) -> float:
    return _number_info(r)[0]


def _bits(r) -> int:
    return _number_info(r)[1]


def _check_digits(digits: float) -> None:
    if digits > _caps.digits:
        raise Unsupported("numbers too large for the fast path")


def _power_digits(base) -> float:
    """Digits a power of ``base`` computes per unit of exponent: its rational coefficient
    and numeric radicals (sums are not expanded)."""
    t = type(base)
    if t in _RATIONALS:
        return _digits(base)
    if t is _Pow:
        b, e = base.args
        if type(b) in _RATIONALS and type(e) in _RATIONALS:
            return _digits(b) * abs(float(e))
    elif t is _Mul:
        return sum(_power_digits(f) for f in base.args)
    return 0.0


def _product_size(factors) -> float:
    """Digits a product computes: rational factors multiply numerators and denominators
    apart; a sum counts its largest coefficient, other factors their _power_digits."""
    numerator = denominator = 0.0
    for f in factors:
        t = type(f)
        if t in _RATIONALS:
            _, _, p, q = _number_info(f)
            numerator += p
            denominator += q
            continue
        if t is _Add:
            digits = max((_digits(c) for c in (_coefficient(term) for term in f.args)
                          if c is not None), default=0.0)
        else:
            digits = _power_digits(f)
        numerator += digits
        denominator += digits
    return max(numerator, denominator)


def _sum_size(terms) -> float:
    """Digits a sum computes: adding like terms multiplies their denominators."""
    groups: dict = {}
    for value in terms:
        for term in value.args if type(value) is _Add else (value,):
            t = type(term)
            if t in _RATIONALS:
                coefficient, rest = term, ()
            elif t is _Mul:
                factors = term.args
                if type(factors[0]) in _RATIONALS:
                    coefficient, rest = factors[0], factors[1:]
                else:
                    coefficient, rest = _ONE, factors
            else:
                coefficient, rest = _ONE, (term,)
            group = groups.get(rest)
            if group is None:
                group = groups[rest] = [0.0, 0.0]
            digits, _, _, denominator = _number_info(coefficient)
            group[0] += denominator
            group[1] = max(group[1], digits)
    return max((denominators + largest for denominators, largest in groups.values()),
               default=0.0)


def _radicand_digits(factor) -> float:
    """Digits of the numbers under roots (SymPy multiplies sqrt(a)*sqrt(b) into sqrt(a*b))."""
    t = type(factor)
    if t is _Pow:
        b, e = factor.args
        if type(b) in _RATIONALS and type(e) in _RATIONALS and not e.is_integer:
            return _digits(b)
    elif t is _Mul:
        return sum(_radicand_digits(f) for f in factor.args)
    return 0.0


def _check_product(factors) -> None:
    _check_digits(_product_size(factors))
    if sum(_radicand_digits(f) for f in factors) > _caps.radical:
        raise Unsupported("roots of numbers too large for the fast path")


def _check_power(base, exponent) -> None:
    if type(exponent) in _RATIONALS:
        _check_exponent(exponent)
        _check_digits(_power_digits(base) * _exponent_sizes[exponent])


_exponent_sizes: dict[se.Basic, float] = {}


def _check_exponent(e) -> None:
    """Refuse a rational exponent past the caps (the builder refuses |e| > max_exponent)."""
    size = _exponent_sizes.get(e)
    if size is None:
        size = math.inf if _digits(e) > 8 else abs(float(e))
        if len(_exponent_sizes) > 10_000:
            _exponent_sizes.clear()
        _exponent_sizes[e] = size
    if size > _caps.exponent:
        raise Unsupported("an exponent too large for the fast path")


_constants: dict[se.Basic, bool] = {}


def _is_constant(a) -> bool:
    """Whether ``a`` has no symbol (remembered: ``free_symbols`` builds a set)."""
    found = _constants.get(a)
    if found is None:
        found = not a.free_symbols
        if len(_constants) > 50_000:
            _constants.clear()
        _constants[a] = found
    return found


# -- SymPy's minus-sign rule -------------------------------------------------------------------

def _could_extract_minus_sign(a) -> bool:
    """``a.could_extract_minus_sign()`` of the SymPy object ``a`` mirrors."""
    t = type(a)
    if t in _RATIONALS:
        return a.is_negative
    if t is _Mul:
        c = a.args[0]
        return type(c) in _RATIONALS and c.is_negative
    if t is _Add:
        terms = a.args
        negative = sum(1 for term in terms if _could_extract_minus_sign(term))
        positive = len(terms) - negative
        if positive != negative:
            return negative > positive
        decided = _tie_of_monomials(terms)
        if decided is not None:
            return decided
        from service.calculus.fast_order import could_extract_minus_sign

        return could_extract_minus_sign(a)
    return False


def _tie_of_monomials(terms):
    """SymPy breaks a tie with ``a.sort_key() < (-a).sort_key()``: the keys differ first at
    the first terms of ``a.as_ordered_terms()`` and ``(-a).as_ordered_terms()``. Decided
    here for terms that are rational multiples of products of integer powers of symbols,
    and at most one rational number: they are ordered by their monomials in lex order over
    the sorted names (a number is the zero monomial), largest first, except that
    ``as_ordered_terms`` puts a positive number first before one term with a negative
    coefficient and a single factor. A number sorts before any such term; the same term
    sorts first in ``a`` or ``-a`` as its coefficient is smaller. None for other terms
    (``fast_order`` decides)."""
    number = None
    monomials = []
    for term in terms:
        t = type(term)
        negative = False
        if t in _RATIONALS:
            number = term
            continue
        factors = term.args if t is _Mul else (term,)
        if type(factors[0]) in _RATIONALS:
            negative = factors[0].is_negative
            factors = factors[1:]
        powers = {}
        for f in factors:
            tf = type(f)
            if tf is _Symbol:
                powers[f.name] = 1
            elif tf is _Pow:
                base, e = f.args
                if type(base) is not _Symbol or type(e) not in _RATIONALS or not e.is_integer:
                    return None
                powers[base.name] = int(e)
            else:
                return None
        monomials.append((powers, negative, len(factors) == 1))
    names = sorted({name for powers, _, _ in monomials for name in powers})
    zero = (0,) * len(names)
    keyed = [(tuple(powers.get(n, 0) for n in names), negative, single)
             for powers, negative, single in monomials]
    if number is None:
        return max(keyed)[1]
    number_negative = number.is_negative
    if len(terms) > 2:
        best = max(keyed)
        return best[1] if best[0] > zero else number_negative
    vector, negative, single = keyed[0]
    lex_first = "term" if vector > zero else "number"
    first = "number" if not number_negative and negative and single else lex_first
    first_of_negation = "number" if number_negative and not negative and single else lex_first
    if first != first_of_negation:
        return first == "number"
    return number_negative if first == "number" else negative


# -- Add ---------------------------------------------------------------------------------------
# sympy.Add(*args) of canonical terms collects them as SymEngine's Add does: _Add is used.

def _negate(a):
    """SymPy's ``-a`` (Mul(-1, a)): a sum is distributed, a coefficient negated, SymEngine's
    ``-a`` does the rest alike."""
    if type(a) is _Add:
        return _Add(*[-term for term in a.args])
    return -a


# -- Mul ---------------------------------------------------------------------------------------

def _coefficient(term):
    """The rational coefficient of a term, or None."""
    t = type(term)
    if t in _RATIONALS:
        return term
    if t is _Mul:
        first = term.args[0]
        if type(first) in _RATIONALS:
            return first
    return None


def _coeff_split(e):
    """``e.as_coeff_Mul()``: (rational coefficient, the rest)."""
    t = type(e)
    if t in _RATIONALS:
        return e, _ONE
    if t is _Mul:
        args = e.args
        if type(args[0]) in _RATIONALS:
            return args[0], _Mul(*args[1:])
    return _ONE, e


def _mul(args, node=None, raw=()):
    """``sympy.Mul(*args)`` (``Mul.flatten``) for canonical factors; ``raw`` holds
    unevaluated powers of positive rationals, (base, exponent) as Fractions."""
    coeff = None
    bases: dict = {}  # base -> its factor
    repeated = None  # base -> factors, for bases met more than once
    radicals = None  # numeric radicals: Pow(positive integer, rational)
    numeric_powers = None  # Pow(positive rational, non-rational exponent)
    stack = None
    for a in args:
        t = type(a)
        if t in _RATIONALS:
            coeff = a if coeff is None else coeff * a
            continue
        if t is _Pow:
            base = a.base
            if type(base) in _RATIONALS:
                if type(a.exp) in _RATIONALS:
                    radicals = [a] if radicals is None else [*radicals, a]
                else:
                    numeric_powers = _numeric_power(a, numeric_powers)
                continue
        elif t is _Mul:  # a product among the factors: its factors are taken in
            stack = [*(stack or ()), *a.args]
            continue
        else:
            base = a
        if base in bases:
            repeated = repeated or {}
            repeated.setdefault(base, [bases[base]]).append(a)
        else:
            bases[base] = a
    if stack:
        return _mul([a for a in args if type(a) is not _Mul] + stack, None, raw)
    if coeff is not None:
        if coeff.is_zero:
            return _ZERO
        if coeff == _ONE:
            coeff = None
    changed = False
    if repeated is not None:
        changed = True
        for base, factors in repeated.items():
            bases[base] = _merged_power(base, [f.exp if type(f) is _Pow else _ONE
                                               for f in factors])
        for base in [b for b, f in bases.items() if f is None or type(f) in _RATIONALS]:
            factor = bases.pop(base)
            if factor is not None:
                coeff = factor if coeff is None else coeff * factor
    factors = list(bases.values())
    if raw and radicals is None:
        radicals = []
    if radicals is not None:
        new_coeff, new_radicals = _flatten_radicals(radicals, raw)
        if new_coeff != 1 or len(new_radicals) != len(radicals) or any(
                r not in radicals for r in new_radicals):
            changed = True
        if new_coeff != 1:
            coeff = new_coeff if coeff is None else coeff * new_coeff
        if coeff is not None and coeff == _ONE:
            coeff = None
        factors.extend(new_radicals)
    if numeric_powers is not None:
        factors.extend(_numeric_powers(numeric_powers, radicals))
    if not factors:
        return coeff if coeff is not None else _ONE
    if len(factors) == 1:
        if coeff is None:
            return factors[0]
        if type(factors[0]) is _Add:  # 2*(x + 1) -> 2*x + 2
            return _Add(*[_mul([coeff, term]) for term in factors[0].args])
    if node is not None and not changed:
        return node
    if coeff is not None:
        factors.insert(0, coeff)
    return _Mul(*factors)


def _numeric_power(a, found):
    """Collect 2**x (a positive rational to a non-rational power) for :func:`_numeric_powers`."""
    base = a.base
    if base.is_negative or base.get_num_den()[0] == 1:  # SymPy writes (1/2)**x as 2**(-x)
        raise Unsupported("a power of a unit fraction or a negative number in a product")
    return [(base, a.exp, a)] if found is None else [*found, (base, a.exp, a)]


def _merged_power(base, exponents):
    """Factors of one base (SymPy's ``_gather``): exponents add when their non-numeric parts
    agree (x*x**2, exp(x)*exp(2*x)); SymPy keeps x**2*x**y apart, SymEngine cannot."""
    total = None
    rest = None
    for e in exponents:
        c, r = _coeff_split(e)
        if rest is None:
            rest = r
        elif r != rest:
            raise Unsupported("powers of one base that SymPy keeps apart")
        total = c if total is None else total + c
    if total.is_zero:
        return None
    exponent = total if rest == 1 else _mul([total, rest])
    if type(exponent) in _RATIONALS:
        _check_exponent(exponent)
    factor = _pow(base, exponent)
    if type(factor) is _Mul or type(factor) is _Add:
        raise Unsupported("a merged power that SymPy would not flatten")
    return factor


def _numeric_powers(entries, radicals):
    """2**x*3**y stays; SymPy multiplies 2**x*3**x into 6**x and 2**x*2**y stays apart (both
    merged by SymEngine): refused. A radical of the same base would merge in SymEngine."""
    seen_bases = set()
    seen_exponents = set()
    radical_bases = {r.args[0] for r in radicals} if radicals else set()
    out = []
    for base, e, factor in entries:
        if base in seen_bases or e in seen_exponents or base in radical_bases:
            raise Unsupported("numeric powers that SymPy combines")
        seen_bases.add(base)
        seen_exponents.add(e)
        out.append(factor)
    return out


# -- numeric radicals (Integer._eval_power, Rational._eval_power, Mul.flatten's pnum_rat) -----

@lru_cache(maxsize=4096)
def _factor(n: int) -> tuple[tuple[int, int], ...]:
    """SymPy's factors of a radicand: ``perfect_power`` first (its base need not be prime),
    else the primes (complete below 2**30, as SymPy's trial division to 2**15 is)."""
    perfect = _perfect_power(n)
    if perfect:
        return (perfect,)
    found = []
    d = 2
    while d * d <= n:
        if n % d == 0:
            k = 0
            while n % d == 0:
                n //= d
                k += 1
            found.append((d, k))
        d += 1 if d == 2 else 2
    if n > 1:
        found.append((n, 1))
    return tuple(found)


def _perfect_power(n: int):
    """``sympy.perfect_power(n)``: (b, e) with the largest e > 1 such that n == b**e."""
    for e in range(n.bit_length(), 1, -1):
        b = _iroot(n, e)
        if b is not None and b > 1:
            return b, e
    return None


def _iroot(n: int, k: int):
    """The exact integer k-th root of n, or None."""
    r = round(n ** (1.0 / k))
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**k == n:
            return c
    return None


def _integer_power(n: int, e: Fraction) -> tuple[Fraction, list[tuple[Fraction, Fraction]]]:
    """``Integer(n)**e`` for n >= 2 and a positive non-integer e, as SymPy evaluates it
    (Integer._eval_power): (rational coefficient, [(integer, exponent in (0, 1))])."""
    if n > _MAX_RADICAND or e.denominator > _MAX_ROOT_DEGREE:
        raise Unsupported("a root too costly for the fast path")
    p, q = e.numerator, e.denominator
    root = _iroot(n, q)
    if root is not None:
        return Fraction(root**p), []
    out_int = 1
    radicals: list[tuple[Fraction, Fraction]] = []
    leftover: dict[int, int] = {}
    for prime, multiplicity in _factor(n):
        multiplicity *= p
        whole, rest = divmod(multiplicity, q)
        out_int *= prime**whole
        if rest:
            g = math.gcd(rest, q)
            if g != 1:
                radicals.append((Fraction(prime), Fraction(rest // g, q // g)))
            else:
                leftover[prime] = rest
    common = 0
    for rest in leftover.values():
        common = math.gcd(common, rest)
    sqr_int = 1
    for prime, rest in leftover.items():
        sqr_int *= prime ** (rest // common)
    if sqr_int == n and out_int == 1 and not radicals:
        return Fraction(1), [(Fraction(n), e)]
    # out_int*out_rad*Pow(sqr_int, common/q): each power evaluated, then multiplied
    if sqr_int != 1:
        radicals.append((Fraction(sqr_int), Fraction(common, q)))
    coefficient, pairs = _evaluated(radicals)
    return coefficient * out_int, pairs


def _rational_power(b: Fraction, e: Fraction) -> tuple[Fraction, list[tuple[Fraction, Fraction]]]:
    """``Rational(b)**e`` for b > 0 and a non-integer e, as SymPy evaluates it
    (Integer._eval_power, Rational._eval_power): (coefficient, radicals)."""
    if e < 0:
        return _rational_power(1 / b, -e)
    if b.denominator == 1:
        return _integer_power(b.numerator, e)
    p, q = e.numerator, e.denominator
    whole = p // q
    if whole:
        whole += 1
        frac = Fraction(whole * q - p, q)
        scale = Fraction(1, b.denominator**whole)
    else:
        frac = Fraction(q - p, q)
        scale = Fraction(1, b.denominator)
    parts = [(Fraction(b.denominator), frac)]
    if b.numerator != 1:
        parts.insert(0, (Fraction(b.numerator), e))
    coefficient, pairs = _evaluated(parts)
    return coefficient * scale, pairs


def _evaluated(powers) -> tuple[Fraction, list[tuple[Fraction, Fraction]]]:
    """The product of the evaluated powers of positive integers, flattened as SymPy does."""
    coefficient = Fraction(1)
    pairs = []
    for base, e in powers:
        c, r = _integer_power(base.numerator, e)
        coefficient *= c
        pairs.extend(r)
    c, pairs = _flatten_radical_pairs(pairs)
    return coefficient * c, pairs


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    """``Rational.gcd``: gcd of the numerators over the lcm of the denominators."""
    return Fraction(math.gcd(a.numerator, b.numerator), math.lcm(a.denominator, b.denominator))


def _flatten_radical_pairs(pairs, *, raw=()):
    """Mul.flatten on numeric powers with rational exponents (SymPy's ``pnum_rat``): bases
    with the same total exponent multiply, and each power is evaluated again (bases with a
    common factor are refused: SymPy's result then depends on the order of its factors).
    ``pairs`` are evaluated radicals, ``raw`` unevaluated powers (``Pow(7/9, 1/2,
    evaluate=False)`` from a root of a product). Returns (coefficient, [(integer, exponent
    in (0, 1))])."""
    coefficient = Fraction(1)
    by_base: dict[Fraction, Fraction] = {}
    for base, e in pairs:
        by_base[base] = by_base.get(base, 0) + e
    for base, e in raw:
        if base.numerator == 1:  # Pow.as_base_exp: (1/q)**e is taken as q**(-e)
            base, e = Fraction(base.denominator), -e
        if e.denominator == 1:
            coefficient *= base**e
        elif e < 0:  # Mul.flatten evaluates these first
            c, r = _rational_power(base, e)
            coefficient *= c
            for b2, e2 in r:
                by_base[b2] = by_base.get(b2, 0) + e2
        else:
            by_base[base] = by_base.get(base, 0) + e
    if len(pairs) == 1 and not raw:  # one radical, already in SymPy's form
        return coefficient, list(pairs)
    by_exponent: dict[Fraction, Fraction] = {}
    for base, e in by_base.items():
        by_exponent[e] = by_exponent.get(e, Fraction(1)) * base
    num_rat = []
    for e, base in by_exponent.items():
        if e.denominator == 1:
            coefficient *= base**e.numerator
            continue
        if e.numerator > e.denominator:
            whole, rest = divmod(e.numerator, e.denominator)
            coefficient *= base**whole
            e = Fraction(rest, e.denominator)
        num_rat.append((base, e))
    if any(_gcd(a, b) != 1 for i, (a, _) in enumerate(num_rat) for b, _ in num_rat[i + 1:]):
        # SymPy then pulls common factors out in the order the factors come in its product
        raise Unsupported("radicals whose combination depends on their order")
    new: dict[Fraction, list[Fraction]] = defaultdict(list)
    for base, e in num_rat:  # coprime bases: each power is evaluated again
        c, r = _rational_power(base, e)
        coefficient *= c
        for b, e2 in r:
            new[e2].append(b)
    out = []
    for e, bases in new.items():
        base = math.prod(bases)
        c, r = _rational_power(base, e) if len(bases) > 1 else (Fraction(1), [(base, e)])
        if c != 1 or len(r) != 1:
            raise Unsupported("radicals SymPy leaves in an unusual form")
        out.extend(r)
    return coefficient, out


def _sorted_pairs(product) -> tuple:
    return product[0], sorted(product[1])


def _radical_objects(coefficient: Fraction, radicals) -> tuple:
    """SymEngine objects of a coefficient and radicals, checking their sizes."""
    if sum(math.log10(b) for b, _ in radicals) > _caps.radical:
        raise Unsupported("a radical too large for the fast path")
    return (se.Rational(coefficient.numerator, coefficient.denominator),
            [_Pow(se.Integer(b.numerator), se.Rational(e.numerator, e.denominator))
             for b, e in radicals])


def _flatten_radicals(radicals, raw=()):
    """The numeric radicals of a product in SymPy's form: (coefficient, radical factors)."""
    pairs = []
    for r in radicals:
        b, e = r.args
        if type(b) not in _RATIONALS or not b.is_integer or not b.is_positive:
            raise Unsupported("a radical not in SymPy's form")
        pairs.append((_fraction(b), _fraction(e)))
    if sum(math.log10(b) for b, _ in pairs) > _caps.radical:  # the builder's radicand check
        raise Unsupported("radicals too large for the fast path")
    if len(radicals) == 1 and not raw:
        return _ONE, radicals
    c, out = _flatten_radical_pairs(pairs, raw=raw)
    if len(out) > 1 and _sorted_pairs(_flatten_radical_pairs(out)) != _sorted_pairs((1, out)):
        # SymPy's product is not its own Mul's fixed point: 21**(3/4)*sqrt(3) gives
        # 3**(1/4)*7**(3/4) when multiplied again; refused, as the paths would part
        raise Unsupported("radicals SymPy would combine again")
    return _radical_objects(c, out)


def _fraction(r) -> Fraction:
    p, q = r.get_num_den()
    return Fraction(int(p), int(q))


# -- Pow ---------------------------------------------------------------------------------------

def _pow(b, e, node=None):
    """``sympy.Pow(b, e)`` for canonical b and e (real symbols)."""
    te, tb = type(e), type(b)
    rational_exponent = te in _RATIONALS
    if rational_exponent:
        if te is _ZERO_TYPE:
            return _ONE
        if te is _ONE_TYPE:
            return b
        _check_exponent(e)
        if tb is _Symbol:
            return node if node is not None else _Pow(b, e)
    if tb in _RATIONALS:
        return _power_of_rational(b, e)
    if tb is _E_TYPE:
        return _exp(e)
    if not rational_exponent and not e.is_Atom and _has_function(e, se.log):
        raise Unsupported("an exponent with a logarithm (SymPy may rewrite the base as e)")
    if tb is _Pow:
        return _power_of_power(b, e)
    if tb is _Mul:
        return _power_of_product(b, e, node)
    if not (rational_exponent and e.is_integer) and tb is not _PI_TYPE and (
            _is_constant(b) and not _positive(b)):
        # sqrt(E - 3): SymPy keeps it (a complex number) and to_symengine refuses it
        raise Unsupported("a root of a number that may be negative")
    if tb is _Symbol or tb is _Add or tb is _PI_TYPE or tb in _FUNCTIONS:
        return _plain_power(b, e, node)
    raise Unsupported(f"a power of {tb.__name__}")


def _plain_power(b, e, node=None):
    """A power SymPy keeps as written; refused where SymEngine would not keep it."""
    if node is not None:
        return node
    power = _Pow(b, e)
    if type(power) is not _Pow or power.args[0] != b:
        raise Unsupported("SymEngine rewrites this power")
    return power


def _power_of_rational(b, e):
    if b.is_zero:
        if type(e) in _RATIONALS and e.is_positive:
            return _ZERO
        raise Unsupported("a power of zero")
    if type(b) is _ONE_TYPE:
        return _ONE
    if type(e) in _RATIONALS:
        if e.is_integer:
            _check_digits(_digits(b) * abs(int(e)))
            return b**e
        if b.is_negative:
            raise Unsupported("a root of a negative number")
        _check_digits(_digits(b) * abs(float(e)))
        coefficient, radicals = _rational_power(_fraction(b), _fraction(e))
        c, factors = _radical_objects(coefficient, radicals)
        return _mul([c, *factors]) if factors else c
    if b.is_negative:
        raise Unsupported("a power of a negative number")
    if _has_function(e, se.log):
        raise Unsupported("an exponent with a logarithm (SymPy may rewrite the base as e)")
    if _is_constant(e):  # 2**pi: the builder sizes it in floats
        try:
            size = abs(float(e)) * abs(math.log10(float(b)))
        except (OverflowError, RuntimeError, TypeError, ValueError):
            raise Unsupported("a numeric power not sized here") from None
        _check_digits(size)
    return _plain_power(b, e)


def _power_of_power(b, e):
    """Pow._eval_power: (c**d)**e."""
    c, d = b.args
    if type(e) in _RATIONALS and e.is_integer:
        return _pow(c, _mul([d, e]))
    if type(c) is _E_TYPE:
        if _surely_real(d):
            return _exp(_mul([d, e]))
        raise Unsupported("a power of exp of a possibly complex argument")
    if type(d) in _RATIONALS:
        if abs(_fraction(d)) < 1:
            return _pow(c, _mul([d, e]))
        if d.is_integer and int(d) % 2 and type(c) is _Symbol and int(d) != -1:
            return _plain_power(b, e)
        raise Unsupported("a root of a power SymPy may rewrite (with Abs)")
    if type(c) in _RATIONALS and c.is_positive and _surely_real(d):
        return _pow(c, _mul([d, e]))
    raise Unsupported("a power of a power not decided here")


# Factors whose sign SymPy cannot decide for real symbols: they stay under a root of a product.
_SIGN_UNKNOWN_FUNCTIONS = frozenset({se.sin, se.cos, se.tan, se.atan, se.sinh, se.tanh,
                                     se.asinh, se.erf})


def _sign_unknown(f) -> bool:
    t = type(f)
    if t is _Symbol:
        return True
    if t is _Pow:
        base, e = f.args
        return (type(base) is _Symbol and type(e) in _RATIONALS
                and not (e.is_integer and int(e) % 2 == 0))
    if t in _SIGN_UNKNOWN_FUNCTIONS:
        return type(f.args[0]) is _Symbol
    return False


def _positive_constant(f) -> bool:
    """A factor SymPy knows is positive and splits off a root: numbers, pi, e, radicals."""
    t = type(f)
    if t in _RATIONALS:
        return f.is_positive
    if t is _PI_TYPE or t is _E_TYPE:
        return True
    if t is _Pow:
        base, e = f.args
        return type(e) in _RATIONALS and _positive_constant(base)
    return False


def _power_of_product(b, e, node=None):
    """Mul._eval_power and Pow._eval_expand_power_base: (c*u*v)**e."""
    args = b.args
    if type(e) in _RATIONALS and e.is_integer:
        return _mul([_pow(f, e) for f in args])
    if type(e) not in _RATIONALS:  # (2*x)**y stays
        return _plain_power(b, e, node)
    positive, unknown, negative = [], [], None
    for f in args:
        if type(f) in _RATIONALS and f.is_negative:
            negative = f
        elif _positive_constant(f):
            positive.append(f)
        elif _sign_unknown(f):
            unknown.append(f)
        else:
            raise Unsupported("a root of a product whose factors' signs SymPy may know")
    if negative is not None:
        if not unknown:
            raise Unsupported("a root of a negative number")
        if negative != -1:
            positive.append(-negative)
        unknown.insert(0, _MINUS_ONE)
    if not positive:  # sqrt(x*y), sqrt(-x) stay
        return _plain_power(b, e, node)
    # rational factors stay unevaluated powers for Mul.flatten, the others are evaluated
    raw = [(_fraction(f), _fraction(e)) for f in positive if type(f) in _RATIONALS]
    parts = [_pow(f, e) for f in positive if type(f) not in _RATIONALS]
    if len(unknown) == 1:
        parts.append(_pow(unknown[0], e))
    elif unknown:
        parts.append(_plain_power(_Mul(*unknown), e))
    return _mul(parts, raw=raw)


def _surely_real(u) -> bool:
    """Whether SymPy knows ``u`` is real (``is_extended_real``) for real symbols; False
    when unsure."""
    t = type(u)
    if t in _RATIONALS or t is _Symbol or t is _PI_TYPE or t is _E_TYPE:
        return True
    if t is _Add or t is _Mul:
        return all(_surely_real(a) for a in u.args)
    if t is _Pow:
        base, e = u.args
        if type(base) is _E_TYPE:
            return _surely_real(e)
        return type(e) in _RATIONALS and e.is_integer and e.is_positive and _surely_real(base)
    if t is se.sin or t is se.cos:
        return _surely_real(u.args[0])
    return False


def _has_function(u, f) -> bool:
    """Whether ``u`` has the function ``f`` anywhere (without recursion: values may nest
    deeper than it goes; shared parts looked at once)."""
    stack, seen = [u], set()
    while stack:
        v = stack.pop()
        t = type(v)
        if t is f:
            return True
        if (t is _Add or t is _Mul or t is _Pow or t in _FUNCTIONS) and v not in seen:
            seen.add(v)
            stack.extend(v.args)
    return False


def _unevaluated(f, a):
    """``f(a)`` exactly as written (:func:`fast.as_written`), or Unsupported."""
    node = fast.as_written(f, a)
    if node is None:
        raise Unsupported(f"SymEngine rewrites {f.__name__}({a})")
    return node


# -- functions ---------------------------------------------------------------------------------

# fast.FUNCTION_SYMBOL: sigmoid and softplus (fast.SMOOTH_CUSTOM), the only ones made here
_FUNCTION_SYMBOL = fast.FUNCTION_SYMBOL
_FUNCTIONS = frozenset({se.sin, se.cos, se.tan, se.cot, se.sec, se.csc, se.asin, se.acos,
                        se.atan, se.sinh, se.cosh, se.tanh, se.asinh, se.atanh, se.erf,
                        se.log, _FUNCTION_SYMBOL})
_ODD = frozenset({se.sin, se.tan, se.cot, se.csc, se.asin, se.atan, se.sinh, se.tanh,
                  se.asinh, se.atanh, se.erf})
_EVEN = frozenset({se.cos, se.sec, se.cosh})
_TRIGONOMETRIC = frozenset({se.sin, se.cos, se.tan, se.cot, se.sec, se.csc})
_INVERSE = frozenset({se.asin, se.acos, se.atan, se.asinh, se.atanh})
_BOUNDED_DOMAIN = frozenset({se.asin, se.acos, se.atanh})  # real inside (-1, 1)
# f(g(u)) SymPy simplifies to u (SymEngine too)
_UNDONE = frozenset({(se.sin, se.asin), (se.cos, se.acos), (se.tan, se.atan),
                     (se.sinh, se.asinh), (se.tanh, se.atanh)})
# f(g(u)) SymPy rewrites algebraically (sin(acos(u)) = sqrt(1 - u**2), sec(atan(u)), ...)
_REWRITTEN = frozenset(
    {(f, g) for f in _TRIGONOMETRIC for g in (se.asin, se.acos, se.atan)}
    | {(f, g) for f in (se.sinh, se.cosh, se.tanh) for g in (se.asinh, se.atanh)}
) - _UNDONE


def _pi_times(c):
    return _mul([c, _PI])


# f(r) for the rational r at which SymPy evaluates f; None: infinite (or written with log)
_SPECIAL = {
    se.sin: {_ZERO: _ZERO}, se.cos: {_ZERO: _ONE}, se.tan: {_ZERO: _ZERO},
    se.sec: {_ZERO: _ONE}, se.csc: {_ZERO: None}, se.cot: {_ZERO: None},
    se.asin: {_ZERO: _ZERO, _ONE: _pi_times(_HALF), _HALF: _pi_times(se.Rational(1, 6))},
    se.acos: {_ZERO: _pi_times(_HALF), _ONE: _ZERO, _MINUS_ONE: _PI,
              _HALF: _pi_times(se.Rational(1, 3)), -_HALF: _pi_times(se.Rational(2, 3))},
    se.atan: {_ZERO: _ZERO, _ONE: _pi_times(se.Rational(1, 4))},
    se.sinh: {_ZERO: _ZERO}, se.cosh: {_ZERO: _ONE}, se.tanh: {_ZERO: _ZERO},
    se.asinh: {_ZERO: _ZERO, _ONE: None, _MINUS_ONE: None},
    se.atanh: {_ZERO: _ZERO, _ONE: None, _MINUS_ONE: None},
    se.erf: {_ZERO: _ZERO},
}


def _call(f, a, node=None):
    """``f(a)`` as SymPy evaluates it (``f.eval``), for the grammar's smooth functions."""
    global _pi_seen
    if f is se.log:
        return _log(a, node)
    ta = type(a)
    if ta in _RATIONALS:
        table = _SPECIAL[f]
        if a in table:
            value = table[a]
            if value is None:
                raise Unsupported(f"{f.__name__}({a}) is infinite or not kept as written")
            if type(value) not in _RATIONALS:
                _pi_seen = True  # acos(1/2) = pi/3
            return value
        if f in _BOUNDED_DOMAIN and not _at_most_one(a, closed=False):
            raise Unsupported(f"{f.__name__} of a number outside its real domain")  # asin(2)
    else:
        if ta in _INVERSE:
            if (f, ta) in _UNDONE:
                return a.args[0]
            if (f, ta) in _REWRITTEN:
                raise Unsupported(f"SymPy rewrites {f.__name__} of {ta.__name__}")
        if _pi_seen and f in _TRIGONOMETRIC and _shifted_by_pi(a):
            raise Unsupported("SymPy shifts trigonometric functions by multiples of pi")
        if f in _INVERSE and _is_constant(a):
            if _may_be_tabulated(f, a):
                raise Unsupported(f"SymPy may evaluate {f.__name__} of this number")
            if f in _BOUNDED_DOMAIN and not _at_most_one(a, closed=False):
                # acos(pi) is complex: the SymPy path differentiates it with sympy.diff
                raise Unsupported(f"{f.__name__} of a number outside its real domain")
    if (f in _ODD or f in _EVEN) and _could_extract_minus_sign(a):
        value = _call(f, _negate(a))  # sin(-u) = -sin(u), cos(-u) = cos(u)
        return _negate(value) if f in _ODD else value
    if node is not None:
        return node
    value = f(a)
    # SymEngine's odd functions take a sign out as a product, its even ones inside
    if type(value) is not f or f in _EVEN and value.args[0] != a:
        return _unevaluated(f, a)
    return value


_CUSTOM = {name: se.Function(name) for name in fast.SMOOTH_CUSTOM}
_LOG_2 = se.log(se.Integer(2))


def _custom(name: str, a, node=None):
    """sigmoid(a) or softplus(a) as their ``eval`` makes them (custom_functions.py): a
    value at 0 (1/2, log(2)), else kept as written (no sign rule, no other values)."""
    function = _CUSTOM.get(name)
    if function is None:
        raise Unsupported(f"{name} is not handled by the fast path")
    if type(a) is _ZERO_TYPE:
        return _HALF if name == "sigmoid" else _LOG_2
    return node if node is not None else function(a)


def _custom_derivative(name: str, u):
    """The function's fdiff at u, as ``fast.to_sympy`` writes SymEngine's derivative node:
    sigmoid(u)*(1 - sigmoid(u)), and sigmoid(u) for softplus."""
    s = _custom("sigmoid", u)
    return _mul([s, _Add(_ONE, _negate(s))]) if name == "sigmoid" else s


def _shifted_by_pi(a) -> bool:
    """Whether SymPy's trigonometric ``eval`` may shift or evaluate ``a`` by multiples of
    pi: only pi times something with symbols (sin(pi*x)) is left alone."""
    if not a.has(_PI):
        return False
    t = type(a)
    if t is _Mul:
        # and pi times a number times a sum: SymPy writes its factor of pi anew, as a
        # product of two, which distributes: cos(pi*(z - 9)/9) is cos(pi*(z/9 - 1))
        rest = [f for f in a.args if f != _PI]
        return _is_constant(a) or len(rest) == 2 and type(rest[0]) in _RATIONALS and (
            type(rest[1]) is _Add)
    if t is _Add:
        return any(term.has(_PI) and not (type(term) is _Mul and not _is_constant(term))
                   for term in a.args)
    return True


_TABULATED_INSIDE = frozenset({se.sin, se.cos, se.tan, se.cot, se.sec, se.csc, se.sinh,
                               se.tanh})


def _may_be_tabulated(f, a) -> bool:
    """Whether SymPy may evaluate the inverse function ``f`` at the number ``a``: its tables
    hold numbers with square roots (asin(sqrt(2)/2) = pi/4), and asin(sin(1)) = 1."""
    stack = [a]
    while stack:
        v = stack.pop()
        t = type(v)
        if t in _TABULATED_INSIDE:
            return True
        if t is _Pow and f in (se.asin, se.acos, se.atan):
            e = v.args[1]
            if not (type(e) in _RATIONALS and e.is_integer):
                return True
        stack.extend(v.args)
    return False


def _exp(u, node=None):
    """``exp(u)`` (SymEngine's ``E**u``) as ``exp.eval`` evaluates it."""
    tu = type(u)
    if tu in _RATIONALS:
        if tu is _ZERO_TYPE:
            return _ONE
        if tu is _ONE_TYPE:
            return _E
    elif tu is se.log:
        return u.args[0]
    elif tu is _Mul or tu is _Add:
        # exp(2*log(3)) = 9, exp(x + log(y)) = y*exp(x): refused, as SymPy may rewrite them
        for part in u.args if tu is _Add else (u,):
            if type(part) is se.log or type(part) is _Mul and any(
                    type(f) is se.log or type(f) is _Add and _has_function(f, se.log)
                    for f in part.args):
                raise Unsupported("exp of a sum or product with a logarithm")
    if node is not None:
        return node
    value = _Pow(_E, u)
    if type(value) is not _Pow or value.args[1] != u:
        raise Unsupported("SymEngine rewrites this exponential")
    return value


def _log(a, node=None):
    """``log(a)`` as ``log.eval`` evaluates it: log(1/q) = -log(q), log(exp(u)) = u for a
    real u, log of a negative number has I (refused), log(p/q) and log(cos(1)) stay."""
    ta = type(a)
    if ta in _RATIONALS:
        if not a.is_positive:
            raise Unsupported("log of a number that is not positive")
        if ta is _ONE_TYPE:
            return _ZERO
        p, q = a.get_num_den()
        if q == 1:
            return node if node is not None else se.log(a)
        if p == 1:
            return _negate(se.log(q))
        return _unevaluated(se.log, a)  # SymEngine writes log(p) - log(q)
    if ta is _E_TYPE:
        return _ONE
    if ta is _Pow and type(a.args[0]) is _E_TYPE:
        if _surely_real(a.args[1]):
            return a.args[1]
        raise Unsupported("log of exp of a possibly complex argument")
    if _is_constant(a):
        if not _positive(a):
            raise Unsupported("log of a number that may not be positive")
    if node is not None:
        return node
    value = se.log(a)
    if type(value) is not se.log or value.args[0] != a:
        return _unevaluated(se.log, a)
    return value


# -- rebuilding a node in SymPy's form -----------------------------------------------------------

def _rebuild(node, args, same: bool):
    """What SymPy's constructor of ``node``'s kind makes of ``args``; ``same`` when they are
    ``node``'s own arguments (then, where SymPy keeps them, the node is returned)."""
    t = type(node)
    keep = node if same else None
    if t is _Mul:
        return _mul(args, keep)
    if t is _Add:  # SymEngine's diff may leave a sum among the terms: SymPy flattens it
        return keep if same and not any(type(a) is _Add for a in args) else _Add(*args)
    if t is _Pow:
        if type(args[0]) is _E_TYPE:
            return _exp(args[1], keep)
        return _pow(args[0], args[1], keep)
    if t is _FUNCTION_SYMBOL:
        return _custom(node.get_name(), args[0], keep)
    if t in _FUNCTIONS:
        return _call(t, args[0], keep)
    if t is _SUBS or t is _DERIVATIVE:  # SymEngine's derivative of sigmoid or softplus at u
        name, _ = fast.derivative_of_custom(node)
        return _custom_derivative(name, args[-1])
    raise Unsupported(f"{t.__name__} is not handled by the fast path")


_SUBS, _DERIVATIVE = se.Subs, se.Derivative


_ATOMS = _RATIONALS | {_Symbol, _PI_TYPE, _E_TYPE}


def _check_atom(node) -> None:
    if type(node) not in _ATOMS:
        raise Unsupported(f"{type(node).__name__} is not handled by the fast path")


_CANONICAL_ENTRIES = 50_000
# node -> (its canonical form, whether that is the node itself), shared between calls: the
# partials of a gradient and a Hessian share most of their parts
_canonical: dict[se.Basic, tuple[se.Basic, bool]] = {}


def canonical(expr: se.Basic) -> se.Basic:
    """``expr`` (a SymEngine result, e.g. a derivative) rebuilt in SymPy's form: the tree
    ``to_sympy`` gives, mirrored node for node. Raises :class:`Unsupported`."""
    global _caps, _pi_seen
    done = _canonical
    found = done.get(expr)
    if found is not None:
        return found[0]
    if len(done) > _CANONICAL_ENTRIES:
        done.clear()
    _caps = _Caps(None)
    _pi_seen = expr.has(_PI)
    _walk(expr, done, _canonical_node)
    return done[expr][0]


def _canonical_node(node, args, results):
    if not args:
        _check_atom(node)
        return node, True
    same = all(r[1] for r in results)
    value = _rebuild(node, [r[0] for r in results], same)
    return value, same and value is node


class _TooDeep(Exception):
    pass


_DEPTH = 300  # recursion this deep goes on without it


def _walk(root, done: dict, visit) -> None:
    """Post-order walk: ``done[node] = visit(node, args, [done[a] for a in args])`` once the
    args are done. Recursive (the faster), and without recursion when trees nest deeper."""
    try:
        _walk_recursively(root, done, visit, 0)
    except _TooDeep:
        _walk_iteratively(root, done, visit)


def _walk_recursively(node, done: dict, visit, depth: int):
    found = done.get(node)
    if found is None:
        if depth > _DEPTH:
            raise _TooDeep
        found = done[node] = _visit_recursively(node, done, visit, depth)
    return found


def _visit_recursively(node, done: dict, visit, depth: int):
    """visit(node, ...) for a node not yet done. Its args are looked up here first: most
    are shared parts, already done, and a call per arg is a good part of a walk."""
    args = node.args
    results = []
    get = done.get
    depth += 1
    for a in args:
        found = get(a)
        if found is None:
            if depth > _DEPTH:
                raise _TooDeep
            found = done[a] = _visit_recursively(a, done, visit, depth)
        results.append(found)
    return visit(node, args, results)


def _walk_iteratively(root, done: dict, visit) -> None:
    get = done.get
    stack = [(root, None)]
    while stack:
        node, args = stack[-1]
        if args is None:
            if get(node) is not None:
                stack.pop()
                continue
            args = node.args
        results = [get(a) for a in args]
        if any(r is None for r in results):
            stack[-1] = (node, args)
            stack.extend((a, None) for a, r in zip(args, results) if r is None)
            continue
        stack.pop()
        done[node] = visit(node, args, results)


# -- building from the syntax tree ---------------------------------------------------------------

_BUILD_FUNCTIONS = {
    "sin": se.sin, "cos": se.cos, "tan": se.tan, "sec": se.sec, "csc": se.csc,
    "cot": se.cot, "asin": se.asin, "acos": se.acos, "atan": se.atan, "sinh": se.sinh,
    "cosh": se.cosh, "tanh": se.tanh, "asinh": se.asinh, "atanh": se.atanh, "erf": se.erf,
}
_LOG_BASES = {"log": None, "ln": None, "log2": se.Integer(2), "log10": se.Integer(10)}
_symbols: dict[str, se.Symbol] = {}


def _symbol(name: str) -> se.Symbol:
    found = _symbols.get(name)
    if found is None:
        found = _symbols[name] = _Symbol(name)
    return found


def build(tree: Node, variables: frozenset[str], limits: Limits | None = None) -> se.Basic:
    """The canonical SymEngine form of what ``service.expressions.parse(text, limits,
    variables=variables)`` builds from ``tree`` (no request constants; other names become
    variables). Raises :class:`Unsupported` for anything else, and wherever the SymPy
    builder might raise an error or refuse a size: then the SymPy path answers."""
    global _caps, _pi_seen
    _caps = _Caps(limits)
    _pi_seen = False
    small = _caps.small
    values: list[se.Basic] = []
    digits: list[float] = []  # a bound on the digits of the numbers in each value
    pending: list = [tree]
    while pending:
        node = pending.pop()
        if node is None:  # the marker: the node below's children are built
            node = pending.pop()
            kind = type(node)
            n = len(node.children)
            args = values[-n:]
            size = sum(digits[-n:])  # bounds the builder's estimates of this node
            del values[-n:], digits[-n:]
            if kind is Sum:
                if size > small:
                    _check_digits(_sum_size(args))
                value = _Add(*args)
            elif kind is Product:
                if size > small:
                    _check_product(args)
                value = _mul(args)
            elif kind is Negate:
                value = _negate(args[0])
            elif kind is Power:
                value = _build_power(args[0], args[1])
                if type(args[1]) in _RATIONALS:
                    size *= max(1.0, _exponent_sizes[args[1]])
            elif kind is Call:
                value = _build_call(node.name, args)
            elif kind is Reciprocal:
                _check_power(args[0], _MINUS_ONE)
                value = _pow(args[0], _MINUS_ONE)
            else:
                raise Unsupported(f"{kind.__name__} nodes are not built here")
            values.append(value)
            # adding n fractions may take log10(n) more digits; + a special value's (pi/6)
            digits.append(size + (math.log10(n) + 1 if kind is Sum else 1))
            continue
        kind = type(node)
        size = 0.0
        if kind is Number:
            value = _number(node.numerator, node.denominator)
            size = _digits(value)
        elif kind is Name:
            name = node.name
            if name in variables or name not in ("pi", "e"):
                value = _symbol(name)
            elif name == "pi":
                _pi_seen = True
                value = _PI
            else:
                value = _E
        else:
            pending.append(node)
            pending.append(None)
            pending.extend(reversed(node.children))
            continue
        values.append(value)
        digits.append(size)
    value = values[0]
    _canonical[value] = (value, True)  # what is built is canonical: derivatives share it
    return value


_numbers: dict[tuple[int, int], se.Basic] = {}


def _number(numerator: int, denominator: int) -> se.Basic:
    """A literal as an exact SymEngine number (refused past the caps)."""
    found = _numbers.get((numerator, denominator))
    if found is None:
        found = (se.Integer(numerator) if denominator == 1
                 else se.Rational(numerator, denominator))
        if len(_numbers) > 10_000:
            _numbers.clear()
        _numbers[(numerator, denominator)] = found
    _check_digits(_digits(found))
    return found


def _build_power(base, exponent):
    """The builder's power: the size of the numbers it computes is checked first (a
    numeric power such as 2**pi is sized in floats)."""
    if type(exponent) in _RATIONALS:
        _check_power(base, exponent)
    elif _is_constant(exponent) and _is_constant(base):
        try:
            size, power = abs(float(base)), abs(float(exponent))
        except (OverflowError, RuntimeError, TypeError, ValueError):
            raise Unsupported("a numeric power not sized here") from None
        if size not in (0.0, 1.0):
            _check_digits(power * abs(math.log10(size)) if math.isfinite(size * power)
                          else math.inf)
    return _pow(base, exponent)


def _build_call(name: str, args):
    function = _BUILD_FUNCTIONS.get(name)
    if function is not None:
        return _call(function, args[0])
    if name in _CUSTOM:
        return _custom(name, args[0])
    if name == "sqrt":
        _check_power(args[0], _HALF)
        return _pow(args[0], _HALF)
    if name == "exp":
        return _exp(args[0])
    if name in _LOG_BASES:
        base = args[1] if len(args) > 1 else _LOG_BASES[name]
        return _log_to_base(args[0], base)
    raise Unsupported(f"{name} is left to SymPy")


def _log_to_base(a, base):
    """The grammar's ``_log``: log(x) or SymPy's log(x, b) = log(x)/log(b) (b != 0, 1)."""
    if type(a) in _RATIONALS and a.is_zero:
        raise Unsupported("log(0)")
    if base is None or type(base) is _E_TYPE:
        return _log(a)
    if type(base) in _RATIONALS:
        if base.is_zero or base == 1:
            raise Unsupported("a logarithm to base 0 or 1")
        if type(a) in _RATIONALS:
            raise Unsupported("SymPy evaluates the logarithm of a number to a base")
    return _mul([_log(a), _pow(_log(base), _MINUS_ONE)])


# -- exact values at a point -------------------------------------------------------------------

# The values of the last point's nodes: (value, whether a symbol was replaced below it,
# bits and visits as in _number_sizes, a bound on the digits of its numbers). The function
# and its partials at one point share most of their parts.
_point: list = [None, {}, False, set()]  # [key, node -> value, has pi, values checked real]
_value_sizes: dict[se.Basic, tuple] = {}  # values made by value_at -> (_, bits, visits)


def value_at(expr: se.Basic, values: dict[se.Symbol, se.Basic],
             limits: Limits | None = None) -> se.Basic:
    """The exact value of the canonical ``expr`` at ``values`` (canonical exact numbers), as
    SymPy's ``xreplace`` evaluates it (``engine.substitute``); raises :class:`Unsupported`
    unless it is certainly a finite real number with numbers of a modest size."""
    global _caps, _pi_seen
    _caps = _Caps(limits)
    key = (tuple(values.items()), _caps.digits, _caps.exponent, _caps.radical)
    if _point[0] != key:
        done = {symbol: (value, True, *_number_sizes(value)[1:], _value_digits(value))
                for symbol, value in values.items()}
        _point[:] = [key, done, any(value.has(_PI) for value in values.values()), set()]
    done = _point[1]
    if len(done) > _CANONICAL_ENTRIES:
        _point[0] = None
    _pi_seen = _point[2] or expr.has(_PI)
    _walk(expr, done, _value_node)
    value, _, bits, visits, _ = done[expr]
    _check_finite_real(value, _point[3])
    if len(_value_sizes) > 10_000:
        _value_sizes.clear()
    _value_sizes[value] = (0.0, bits, visits)
    return value


def _value_node(node, args, results):
    if not args:
        t = type(node)
        if t is _Symbol:
            raise Unsupported(f"no value for {node}")
        _check_atom(node)
        if t in _RATIONALS:
            info = _number_info(node)
            return node, False, info[1], 1, info[0]
        return node, False, 0, 1, 0.0
    t = type(node)
    # one pass over the results (their bits, visits and digits; whether a symbol was
    # replaced below), not one generator each: this runs for every node of every value
    bits, visits, digits, replaced = 0, 1, 0.0, False
    for r in results:
        if r[2] > bits:
            bits = r[2]
        visits += r[3]
        digits += r[4]
        if r[1]:
            replaced = True
    # bounds the builder's estimates below (adding n terms may take log10(n) more digits)
    digits += math.log10(len(args)) + 1 if t is _Add else 1
    if (t in _FUNCTIONS or t is _Pow and type(args[0]) is _E_TYPE) and (
            type(results[-1][0]) not in _RATIONALS):
        bits = _NESTED
    if not replaced:  # SymPy leaves a node without symbols alone
        return node, False, bits, visits, digits
    new = [r[0] for r in results]
    # the sizes substitute_exact checks before SymPy computes (when they might matter)
    if t is _Pow and type(new[1]) in _RATIONALS:
        _check_exponent(new[1])
        digits = results[0][4] * max(1.0, _exponent_sizes[new[1]]) + results[1][4]
        if digits > _caps.digits:
            _check_power(new[0], new[1])
    elif digits > _caps.small:
        if t is _Mul:
            _check_product(new)
        elif t is _Add:
            _check_digits(_sum_size(new))
    return _rebuild(node, new, False), True, bits, visits, digits


_digit_totals: dict[se.Basic, tuple[int, int]] = {}


def _value_digits(value) -> float:
    """The digits of all the numbers in ``value`` (remembered per node)."""
    return _number_sizes(value)[0]


def _number_sizes(value) -> tuple[float, int, int]:
    """(digits of all the numbers in ``value``, bits of its largest numerator or
    denominator, or more when a function's argument is not a rational: its float64 value
    would carry an absolute error; the nodes an evaluation visits, shared parts as often
    as they occur), remembered per node."""
    found = _digit_totals.get(value)
    if found is None:
        if len(_digit_totals) > 50_000:
            _digit_totals.clear()
        _walk(value, _digit_totals, _sizes_node)
        found = _digit_totals[value]
    return found


_NESTED = 1 << 20  # the bits of a function of something other than a rational


def _sizes_node(node, args, sizes) -> tuple[float, int, int]:
    if args:
        bits = max(s[1] for s in sizes)
        t = type(node)
        if (t in _FUNCTIONS or t is _Pow and type(args[0]) is _E_TYPE) and (
                type(args[-1]) not in _RATIONALS):
            bits = _NESTED
        return sum(s[0] for s in sizes), bits, 1 + sum(s[2] for s in sizes)
    if type(node) in _RATIONALS:
        return _digits(node), _bits(node), 1
    return 0.0, 0, 1


# Signs and values of constants are computed with MPFR, in enough bits for the digits of the
# numbers in them (float64 would take sin(10**15 + 1/3) from a rounded argument), and a sign
# counts only when the value clears this margin relative to the size of its terms.
_MARGIN = 1e-9


# MPFR's erf (as bundled with SymEngine's wheel) fails an assertion and aborts the process
# for some arguments at 1,023 bits and more (erf(sqrt(3)); none of 87 arguments below 1,000
# bits, tests/performance/test_fast_exact.py): values with erf are evaluated below this.
_ERF_MAX_BITS = 960
_MAX_BITS = 8192


# A value that is 0 in this many bits is 0.0 in float64 (or past its range): a sum of terms
# below 2^1000 that cancels to under 2^-1048. A 0 in fewer bits may be all the bits lost:
# 1 - sigmoid(300) is 0 in 113 and in 226 bits, and 5.1e-131.
_ZERO_BITS = 2048


def _evaluate(a) -> float:
    """``a`` as a float, evaluated with MPFR in enough bits: in twice as many until two
    evaluations agree (sin(cosh(512)) needs the 740 bits of its argument's size), and
    until _ZERO_BITS when they agree on 0."""
    top = _ERF_MAX_BITS if _has_function(a, se.erf) else _MAX_BITS
    bits = min(113 + 4 * _value_digits(a), 2048, top // 2)  # a bound: shared parts repeat
    try:
        value = _n(a, bits)
        while bits * 2 <= top:
            bits *= 2
            again = _n(a, bits)
            if (again == value or abs(again - value) <= 1e-17 * abs(again)) and (
                    again != 0 or bits >= _ZERO_BITS):
                break
            value = again
        else:
            raise Unsupported("a value whose evaluation does not settle")
    except (OverflowError, RuntimeError, TypeError, ValueError):
        raise Unsupported("a value not evaluated here") from None
    if not math.isfinite(value):
        raise Unsupported("a value past the float64 range")
    return again


def _n(a, bits: int) -> float:
    """float(a.n(bits)), sigmoid and softplus included (fast.evaluated)."""
    return fast.evaluated(lambda e: float(e.n(prec=bits, real=True)), a)


def _float_and_scale(a) -> tuple[float, float]:
    """The value of the constant ``a`` and the size of its terms (for the margin)."""
    value = _evaluate(a)
    scale = sum(abs(_evaluate(t)) for t in a.args) if type(a) is _Add else abs(value)
    return value, max(scale, 1e-300)


def _positive(a) -> bool:
    """Whether the constant ``a`` is certainly positive."""
    if type(a) in _RATIONALS:
        return a.is_positive
    value, scale = _float_and_scale(a)
    return value > _MARGIN * scale


def _nonzero(a) -> bool:
    """Whether the constant ``a`` is certainly not zero."""
    if type(a) in _RATIONALS:
        return not a.is_zero
    value, scale = _float_and_scale(a)
    return abs(value) > _MARGIN * scale


def _at_most_one(a, closed: bool) -> bool:
    """Whether |a| <= 1 (closed) or |a| < 1, certainly."""
    if type(a) in _RATIONALS:
        size = abs(_fraction(a))
        return size <= 1 if closed else size < 1
    value, scale = _float_and_scale(a)
    return abs(value) < 1 - _MARGIN * max(1.0, scale)


def _check_finite_real(value, seen: set) -> None:
    """Refuse a value that is or might be complex, infinite or undefined: every root, power
    and logarithm must be of a positive number, every inverse function inside its real
    domain, every tangent away from a pole. ``seen``: parts already found real."""
    checked = []
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t in _RATIONALS or v in seen:
            continue
        checked.append(v)
        args = v.args
        if not args:
            _check_atom(v)
            continue
        stack.extend(args)
        if t is _Pow:
            base, e = args
            if type(base) is _E_TYPE or type(base) is _PI_TYPE:
                continue
            if type(e) in _RATIONALS and e.is_integer:
                if e.is_negative and not _nonzero(base):
                    raise Unsupported("a value that may be infinite")
            elif not _positive(base):
                raise Unsupported("a power of a number that may be negative")
        elif t is se.log:
            if not _positive(args[0]):
                raise Unsupported("a logarithm of a number that may not be positive")
        elif t is se.asin or t is se.acos:
            if not _at_most_one(args[0], closed=True):
                raise Unsupported(f"{t.__name__} outside [-1, 1]")
        elif t is se.atanh:
            if not _at_most_one(args[0], closed=False):
                raise Unsupported("atanh outside (-1, 1)")
        elif t is se.tan or t is se.sec or t is se.cot or t is se.csc:
            a = args[0]  # finite at every rational but 0 (cot(0) was refused)
            pole = se.cos(a) if t is se.tan or t is se.sec else se.sin(a)
            if type(a) not in _RATIONALS and not _nonzero(pole):
                raise Unsupported(f"{t.__name__} at a pole")
        elif t not in _FUNCTIONS and t is not _Add and t is not _Mul:
            raise Unsupported(f"{t.__name__} in a value")
    seen.update(checked)


# Values whose numbers have at most this many bits are evaluated in double precision
# (SymEngine's float(), as the compiled NumPy functions do): their rounding errors stay near
# the last bit. Others with MPFR (sin(10**15 + 1/3) would be taken of a rounded argument).
_DOUBLE_BITS = 20
_MAX_VISITS = 20_000


def float_value(exact: se.Basic) -> float:
    """The float64 of a canonical exact real value: a rational rounded correctly, a value
    of small numbers evaluated in double precision, others with MPFR in enough bits for
    their numbers. Raises :class:`Unsupported` if it is not a finite real float64 (exp(exp(7))
    is a finite real, past the float64 range)."""
    if type(exact) in _RATIONALS:
        p, q = exact.get_num_den()
        try:
            return int(p) / int(q)
        except OverflowError:
            raise Unsupported("a value past the float64 range") from None
    sizes = _value_sizes.get(exact)
    _, bits, visits = sizes if sizes is not None else _number_sizes(exact)
    if visits > _MAX_VISITS:  # SymEngine evaluates shared parts as often as they occur
        raise Unsupported("a value too large to evaluate here")
    if bits > _DOUBLE_BITS:
        return _evaluate(exact)
    try:
        try:
            number = float(exact)
        except RuntimeError:  # sigmoid or softplus: their builtin forms, with MPFR
            return _evaluate(exact)  # (log(1 + exp(1296)) overflows in float64)
        # past float64 on the way (exp(800)/(exp(799) + exp(800)) is inf/inf, 0.731), or
        # a sum that cancels
        if not math.isfinite(number) or _cancels(exact):
            return _evaluate(exact)
    except (OverflowError, RuntimeError, TypeError, ValueError):
        raise Unsupported("not a real float64") from None
    if not math.isfinite(number):
        raise Unsupported("not a finite float64")
    return number


# A sum whose double value is below this share of the sizes of its terms has lost more than
# 4 of its bits to cancellation in double precision.
_CANCELLING = 1 / 16


def _cancels(value) -> bool:
    """Whether a sum in ``value`` (outside functions: a function of a sum is evaluated with
    MPFR anyway, see _NESTED) cancels in double precision: 40 - log(1 + exp(40)) is 0.0 in
    doubles, -4.2e-18; 1 - sigmoid(300) is 0.0, 5.1e-131."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is _Add:
            terms = [float(a) for a in v.args]
            if abs(math.fsum(terms)) < _CANCELLING * math.fsum(map(abs, terms)):
                return True
            stack.extend(v.args)
        elif t is _Mul or t is _Pow:
            stack.extend(v.args)
    return False


def clear_memo() -> None:
    """Forget every remembered node (bench/fast_exact.py measures a first sight); the
    sizes of numbers are kept, as small numbers recur in every expression."""
    for memo in (_canonical, _constants, _digit_totals, _value_sizes):
        memo.clear()
    _point[:] = [None, {}, False, set()]
