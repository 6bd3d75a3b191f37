"""Large bodies: points read straight into an array answer as the general decoder would.

Bodies from ``jsonio.LARGE_BODY`` bytes on are decoded by simdjson, which hands rows of
numbers over as one float64 array. Every answer here is checked against the hand-derived
gradient of sin(x)*exp(y) + x^2*y, and every refusal against the message the general
decoder gives for the same mistake in a small body.
"""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from service.api import jsonio

EXPRESSION = "sin(x)*exp(y) + x^2*y"
ROWS = 20_000  # ~0.5 MB: well past LARGE_BODY


def hand_gradient(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = points[:, 0], points[:, 1]
    values = np.sin(x) * np.exp(y) + x**2 * y
    gradient = np.stack([np.cos(x) * np.exp(y) + 2 * x * y, np.sin(x) * np.exp(y) + x**2], axis=1)
    return values, gradient


def send(client, body: dict | bytes):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post("/v1/gradient", data=data, content_type="application/json")


@pytest.fixture
def points() -> np.ndarray:
    return np.random.default_rng(7).uniform(-2, 2, size=(ROWS, 2))


def test_a_large_batch_is_decoded_as_an_array_and_answers_right(client, points):
    body = orjson.dumps({"expression": EXPRESSION, "points": points.tolist()})
    assert len(body) >= jsonio.LARGE_BODY
    assert isinstance(jsonio._decode_large(body)["points"], np.ndarray)
    response = send(client, body)
    assert response.status_code == 200, response.json
    values, gradient = hand_gradient(points)
    np.testing.assert_allclose(response.json["batch"]["values"], values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(response.json["batch"]["gradient"], gradient, rtol=1e-12,
                               atol=1e-12)


def test_integers_and_floats_mix_in_a_large_batch(client, points):
    rows = points.tolist()
    rows[0] = [1, 2]
    response = send(client, {"expression": EXPRESSION, "points": rows})
    assert response.status_code == 200
    values, _ = hand_gradient(np.array([[1.0, 2.0]]))
    assert response.json["batch"]["values"][0] == pytest.approx(values[0], rel=1e-15)


@pytest.mark.parametrize("bad_row, words", [
    (["one", 2], "not allowed here"),  # a string among the numbers
    ([True, 2], "not a coordinate"),   # a boolean
    ([1], "1 coordinates"),            # a ragged row
])
def test_mistakes_in_a_large_batch_get_the_small_bodys_message(client, points, bad_row, words):
    rows = points.tolist()
    rows[1234] = bad_row
    large = send(client, {"expression": EXPRESSION, "points": rows})
    small = send(client, {"expression": EXPRESSION, "points": [[0.5, 0.5], bad_row]})
    assert large.status_code == small.status_code == 422
    assert orjson.loads(large.data.replace(b"points/1234", b"points/1")) == small.json
    assert words in large.json["detail"]


@pytest.mark.parametrize("bad_rows, words", [
    ([[1], [1, 2, 3]], "coordinates"),    # ragged rows, as many numbers as if they were not
    ([[1, [2]], [3, 4]], "not a coordinate"),  # a nested array counted as one number
])
def test_rows_that_only_add_up_get_the_small_bodys_message(client, points, bad_rows, words):
    rows = points.tolist()
    rows[1234:1236] = bad_rows
    large = send(client, {"expression": EXPRESSION, "points": rows})
    small = send(client, {"expression": EXPRESSION, "points": [[0.5, 0.5], *bad_rows]})
    assert large.status_code == small.status_code == 422
    assert orjson.loads(large.data.replace(b"points/1234", b"points/1")) == small.json
    assert words in small.json["detail"]


@pytest.mark.parametrize("expression, decoded_as", [
    ("sin(x)*exp(y) + x^2*y + 0*z", np.ndarray),
    # an escape (z written as \u007a): the body's bytes are not the string's, the rows'
    # lengths cannot be proven from them, and the rows are read as lists
    ("sin(x)*exp(y) + x^2*y + 0*\\u007a", list),
])
def test_strings_beside_the_points_do_not_change_the_answer(client, points, expression,
                                                            decoded_as):
    rows = orjson.dumps([[a, b, 0.5] for a, b in points.tolist()])
    body = (b'{"variables": ["x", "y", "z"], "expression": "' + expression.encode()
            + b'", "points": ' + rows + b"}")
    decoded = jsonio._decode_large(body)
    assert isinstance(decoded["points"], decoded_as) and len(decoded["points"]) == ROWS
    response = send(client, body)
    assert response.status_code == 200, response.json
    values, _ = hand_gradient(points)
    np.testing.assert_allclose(response.json["batch"]["values"], values, rtol=1e-12, atol=1e-12)


def test_nan_in_a_large_body_is_explained(client, points):
    body = orjson.dumps({"expression": EXPRESSION, "points": points.tolist()})
    assert body.endswith(b"]]}")
    body = body[:-2] + b",[NaN, 1]]}"
    response = send(client, body)
    assert response.status_code == 400
    assert "NaN and Infinity are not JSON numbers" in response.json["detail"]


def test_a_repeated_key_counts_once_as_in_small_bodies(client, points):
    rows = orjson.dumps(points.tolist())
    body = b'{"expression": "x", "points": ' + rows + b', "expression": "' + \
        EXPRESSION.encode() + b'"}'
    response = send(client, body)
    assert response.status_code == 200
    values, _ = hand_gradient(points)
    np.testing.assert_allclose(response.json["batch"]["values"], values, rtol=1e-12, atol=1e-12)


def test_points_given_as_objects_in_a_large_body_still_work(client, points):
    rows = [{"x": a, "y": b} for a, b in points.tolist()]
    response = send(client, {"expression": EXPRESSION, "points": rows})
    assert response.status_code == 200
    values, _ = hand_gradient(points)
    np.testing.assert_allclose(response.json["batch"]["values"], values, rtol=1e-12, atol=1e-12)
