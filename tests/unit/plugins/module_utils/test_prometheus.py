"""prometheus: the answers of /api/v1/query as samples, and which failures are whose."""

from __future__ import annotations

import math

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.prometheus import (
    PrometheusClient,
    PrometheusUnavailable,
    QueryRefused,
    Sample,
    parse_answer,
)

SECRET = "Bearer s3cr3t-prometheus-token"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, []),
        (
            {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"track": "canary"}, "value": [1.0, "0.995"]},
                {"metric": {"track": "stable"}, "value": [1.0, "1"]}]}},
            [Sample({"track": "canary"}, 0.995), Sample({"track": "stable"}, 1.0)],
        ),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "42"]}}, [Sample({}, 42.0)]),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1.0, "+Inf"]}]}}, [Sample({}, math.inf)]),
    ],
)
def test_answers_become_samples(answer, expected):
    assert parse_answer(answer) == expected


def test_nan_is_kept_as_nan():
    (sample,) = parse_answer({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]}})
    assert math.isnan(sample.value)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": "error", "error": "boom"}, "not 'success'"),
        ({"status": "success"}, "no data"),
        ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "resultType 'matrix'"),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}, r"no \[time, value\] pair"),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "many"]}]}}, "not a number"),
    ],
)
def test_answers_that_are_not_prometheus_ones(answer, message):
    with pytest.raises(PrometheusUnavailable, match=message):
        parse_answer(answer)


def test_a_query_is_posted_with_the_headers(fake_prometheus):
    fake_prometheus.answer = lambda query: (200, fake_prometheus.vector(0.5, track="canary"))
    client = PrometheusClient(fake_prometheus.url + "/", headers={"Authorization": SECRET})
    assert client.query('sum(rate(x{track="canary"}[1m]))') == [Sample({"track": "canary"}, 0.5)]
    (seen,) = fake_prometheus.seen
    assert seen["path"] == "/api/v1/query"
    assert seen["query"] == 'sum(rate(x{track="canary"}[1m]))'
    assert seen["headers"]["Authorization"] == SECRET


@pytest.mark.parametrize(
    ("status", "body", "raised", "message"),
    [
        (400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}, QueryRefused, "bad_data.*parse error"),
        (422, {"status": "error", "errorType": "execution", "error": "many-to-many"}, QueryRefused, "many-to-many"),
        (503, {"status": "error", "errorType": "unavailable", "error": "starting"}, PrometheusUnavailable, "HTTP 503: unavailable starting"),
        (502, b"<html>bad gateway</html>", PrometheusUnavailable, "HTTP 502"),
        (200, b"<html>a login page</html>", PrometheusUnavailable, "not JSON"),
        (200, [1, 2], PrometheusUnavailable, "not an object"),
    ],
)
def test_whose_fault_a_failed_query_is(fake_prometheus, status, body, raised, message):
    fake_prometheus.answer = lambda query: (status, body)
    client = PrometheusClient(fake_prometheus.url, headers={"Authorization": SECRET})
    with pytest.raises(raised, match=message) as caught:
        client.query("up")
    assert SECRET not in str(caught.value)


def test_no_prometheus_listening():
    with pytest.raises(PrometheusUnavailable, match="did not answer.*refused"):
        PrometheusClient("http://127.0.0.1:9", timeout=1).query("up")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:9090", "http:// or https://"),
        ("ftp://prometheus", "http:// or https://"),
        ("https://admin:pw@prometheus.example", "must not carry credentials"),
    ],
)
def test_urls_that_cannot_be_used(url, message):
    with pytest.raises(ValueError, match=message):
        PrometheusClient(url)
