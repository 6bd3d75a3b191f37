"""Code injection in every string field: nothing is ever evaluated, nothing reaches a shell.

The payloads are Python (and SymPy) that ``eval``, ``sympify`` or ``parse_expr`` would run:
attribute and dunder access, ``__import__``, lambdas, comprehensions, f-strings, string
escapes, Unicode look-alikes that Python's own parser folds to ASCII (NFKC), null bytes and
right-to-left marks. Each goes into every string-valued slot of every endpoint; each answer
is a 4xx problem or a 200 in which the text was read as the grammar reads it, and a canary
file that a successful injection would create never appears.
"""

from __future__ import annotations

import pytest

from hardening_support import VALID

CANARY = "/tmp/gradient-service-hardening-canary"

PAYLOADS = [
    f"__import__('os').system('touch {CANARY}')",
    f"__import__(\"os\").system(\"touch {CANARY}\")",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__",
    "__builtins__",
    "__import__",
    "lambda: 1",
    "(lambda x: x)(1)",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "{k: v for k, v in globals().items()}",
    "(x for x in y)",
    "f'{x}'",
    "f\"{__import__('os').getcwd()}\"",
    "'\\x41'",
    "\"\\u0041\"",
    "b'x'",
    f"exec('open(\"{CANARY}\", \"w\")')",
    "eval('1+1')",
    "compile('1', 'f', 'eval')",
    "open('/etc/passwd').read()",
    "getattr(x, 'real')",
    "x; import os",
    "x\nimport os",
    "x # comment",
    "x if y else z",
    "x and y or not z",
    "x == y",
    "x < y",
    "x % 2",
    "x // 2",
    "x @ y",
    "~x",
    "x | y & z",
    "x >> 1",
    "x[0]",
    "x{0}",
    "x.real",
    "`x`",
    "$x",
    "Symbol('x')",
    "sympify('x')",
    "S('x')",
    "Integer(10)**10**10",
    "N(pi, 100000)",
    "Function('f')(x)",
    "𝐱 + 1",  # MATHEMATICAL BOLD SMALL X: Python's parser reads it as x (NFKC)
    "ｘ",  # FULLWIDTH LATIN SMALL LETTER X
    "х",  # CYRILLIC SMALL LETTER HA
    "x\u200b",  # ZERO WIDTH SPACE
    "x\u200f + 1",  # RIGHT-TO-LEFT MARK
    "\u202ex + 1",  # RIGHT-TO-LEFT OVERRIDE
    "x\x00",  # NULL
    "\x00",
    "x\ufeff",  # BYTE ORDER MARK
    "x\u0301",  # COMBINING ACUTE ACCENT
    "\ud7ff",
    "x²",
    "1_000",
    "0x1F",
    "1e999999999999",
    "9" * 200,
]

NAME_PAYLOADS = ["__import__", "__class__", "lambda", "exec", "eval", "None", "True",
                 "I", "E", "S", "N", "oo", "zoo", "nan", "pi", "e", "print", "_"]


def _slots(path: str):
    """(label, function payload -> request body) for every string slot of ``path``."""
    base = VALID[path]

    def replace(**changes):
        return lambda payload: {**base, **{k: v and v(payload) for k, v in changes.items()}}

    expression_field = "expressions" if path == "/v1/jacobian" else "expression"
    slots = {
        "constants/value": replace(constants=lambda p: {"c": p}),
        "constants/name": replace(constants=lambda p: {p: 1}),
        "variables/0": replace(variables=lambda p: [p]),
    }
    if expression_field == "expressions":
        slots["expressions/1"] = replace(expressions=lambda p: ["x*y", p])
    else:
        slots["expression"] = replace(expression=lambda p: p)
    if path == "/v1/derivative":
        del slots["variables/0"]
        slots["variable"] = replace(variable=lambda p: p)
    if path == "/v1/gradient-descent":
        slots.update({
            "start/x": replace(start=lambda p: {"x": p, "y": 0}),
            "start/name": replace(start=lambda p: {p: 0, "y": 0}),
            "optimizer": replace(optimizer=lambda p: p),
            "reduction": replace(reduction=lambda p: p),
            "data/name": replace(data=lambda p: {p: [1, 2]}),
            "hyperparameters/name": replace(hyperparameters=lambda p: {p: 0.5}),
        })
    else:
        slots.update({
            "point/x": replace(point=lambda p: {"x": p, "y": 2}),
            "point/name": replace(point=lambda p: {p: 1, "y": 2}),
            "point/0": replace(point=lambda p: [p, 2]),
            "points/0/1": replace(point=None, points=lambda p: [[1, 2], [1, p]]),
        })
    return [(f"{path}:{label}", build) for label, build in sorted(slots.items())]


SLOTS = [slot for path in VALID for slot in _slots(path)]


@pytest.fixture(autouse=True, scope="module")
def no_canary():
    import os

    if os.path.exists(CANARY):
        os.remove(CANARY)
    yield
    assert not os.path.exists(CANARY), "an injected command ran"


@pytest.mark.parametrize("label, build", SLOTS, ids=[label for label, _ in SLOTS])
def test_no_payload_in_any_string_field_is_evaluated(survive, label, build):
    import os

    path = label.split(":")[0]
    for i, payload in enumerate(PAYLOADS):
        body = {k: v for k, v in build(payload).items() if v is not None}
        status, answer = survive(path, body, compute=i == len(PAYLOADS) - 1)
        assert not os.path.exists(CANARY), (label, payload)
        if status == 200 and "variables" in answer:
            # A payload that is valid text (1_000 is 1*_000) was read by the grammar: its
            # names are plain variables, never Python objects.
            assert all(name.isidentifier() and name.isascii() for name in answer["variables"])


@pytest.mark.parametrize("payload", ["𝐱", "ｘ", "х", "x\u200b", "x\u200f", "x\x00", "x\ufeff"])
def test_lookalikes_and_invisible_characters_are_refused_with_their_position(survive, payload):
    status, problem = survive("/v1/gradient", {"expression": f"y + {payload}"})
    assert status == 422
    position = problem["errors"][0]["position"]
    assert position == 4 + (len(payload) > 1 and payload[0] == "x")
    assert "unexpected character" in problem["detail"]


@pytest.mark.parametrize("name", NAME_PAYLOADS)
def test_python_and_sympy_names_are_plain_variables(survive, name):
    """``I`` is not the imaginary unit, ``E`` not Euler's number, ``oo`` not infinity: a
    name of the grammar is a real variable, whatever it means in Python or SymPy."""
    status, answer = survive("/v1/gradient", {"expression": f"{name}^2 + y", "variables": [name, "y"],
                                             "point": [3, 1]})
    assert status == 200, answer
    assert answer["gradient"][0]["expression"] == f"2*{name}"
    assert answer["at"]["gradient"]["exact"] == ["6", "1"]


def test_function_names_cannot_be_variables(survive):
    for field, body in [("variables/0", {"expression": "x", "variables": ["sin"]}),
                        ("constants/exp", {"expression": "x", "constants": {"exp": 1}})]:
        status, problem = survive("/v1/gradient", body)
        assert status == 422 and problem["errors"][0]["field"] == field
