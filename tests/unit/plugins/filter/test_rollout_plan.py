import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.filter.rollout_plan import (
    FilterModule,
    replica_split,
    rollout_week,
    rollout_weights,
)

WEEKS = {1: 10, 2: 30, 3: 60, 4: 100}


@pytest.mark.parametrize(
    ("total", "weight", "expected"),
    [
        # the week table for local (2), production (10) and HPA max (25)
        (2, 10, {"stable": 1, "canary": 1}),
        (2, 30, {"stable": 1, "canary": 1}),
        (2, 60, {"stable": 1, "canary": 1}),
        (2, 100, {"stable": 2, "canary": 0}),
        (10, 10, {"stable": 9, "canary": 1}),
        (10, 30, {"stable": 7, "canary": 3}),
        (10, 60, {"stable": 4, "canary": 6}),
        (10, 100, {"stable": 10, "canary": 0}),
        (25, 10, {"stable": 22, "canary": 3}),  # 2.5 rounds half up
        (25, 30, {"stable": 17, "canary": 8}),  # 7.5 rounds half up
        (25, 60, {"stable": 10, "canary": 15}),
        (25, 100, {"stable": 25, "canary": 0}),
        # edges
        (2, 0, {"stable": 2, "canary": 0}),
        (10, 0, {"stable": 10, "canary": 0}),
        (10, 1, {"stable": 9, "canary": 1}),  # 0.1 -> at least one canary pod
        (10, 99, {"stable": 1, "canary": 9}),  # 9.9 -> 10, capped so stable keeps one
        (2, 99, {"stable": 1, "canary": 1}),
        (25, 1, {"stable": 24, "canary": 1}),
        (25, 99, {"stable": 1, "canary": 24}),
        (1, 0, {"stable": 1, "canary": 0}),
        (1, 10, {"stable": 0, "canary": 1}),  # a single pod is the canary
        (1, 100, {"stable": 1, "canary": 0}),
        (3, 50, {"stable": 1, "canary": 2}),  # 1.5 rounds half up
        (4, 50, {"stable": 2, "canary": 2}),
        (5, 10, {"stable": 4, "canary": 1}),  # 0.5 rounds half up to 1
        (5, 30, {"stable": 3, "canary": 2}),  # 1.5 -> 2
        (5, 70, {"stable": 1, "canary": 4}),  # 3.5 -> 4
        ("10", "30", {"stable": 7, "canary": 3}),  # extra-vars arrive as strings
    ],
)
def test_replica_split_table(total, weight, expected):
    assert replica_split(total, weight) == expected


@pytest.mark.parametrize("total", range(1, 31))
@pytest.mark.parametrize("weight", [0, 1, 5, 10, 30, 33, 50, 60, 67, 99, 100])
def test_replica_split_invariants(total, weight):
    split = replica_split(total, weight)
    assert split["stable"] + split["canary"] == total
    assert split["stable"] >= 0 and split["canary"] >= 0
    if weight in (0, 100):
        assert split["canary"] == 0
    else:
        assert split["canary"] >= 1
        if total >= 2:
            assert split["stable"] >= 1


@pytest.mark.parametrize(
    ("total", "weight", "message"),
    [
        (10, 101, "weight must be between 0 and 100 (percent), got 101"),
        (10, -1, "weight must be between 0 and 100 (percent), got -1"),
        (10, 10.5, "weight must be an integer, got float 10.5"),
        (10, "ten", "weight must be an integer, got str 'ten'"),
        (10, None, "weight must be an integer, got NoneType None"),
        (10, True, "weight must be an integer, got boolean True"),
        (0, 10, "total must be at least 1, got 0"),
        (-3, 10, "total must be at least 1, got -3"),
        (2.0, 10, "total must be an integer, got float 2.0"),
        ("", 10, "total must be an integer, got str ''"),
        (False, 10, "total must be an integer, got boolean False"),
    ],
)
def test_replica_split_rejects_bad_input(total, weight, message):
    with pytest.raises(AnsibleFilterError) as err:
        replica_split(total, weight)
    assert message in str(err.value)
    assert str(err.value).startswith("replica_split:")


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (WEEKS, WEEKS),
        ({"1": 10, "2": 30, "3": 60, "4": 100}, WEEKS),
        ({"4": 100, "2": 30, "1": 10, "3": 60}, WEEKS),  # order of keys does not matter
        ({1: "10", 2: "30", 3: "60", 4: "100"}, WEEKS),
        ([10, 30, 60, 100], WEEKS),
        ({1: 100}, {1: 100}),
        ({1: 0, 2: 100}, {1: 0, 2: 100}),
        ({1: 5, 2: 25, 3: 50, 4: 75, 5: 100}, {1: 5, 2: 25, 3: 50, 4: 75, 5: 100}),
    ],
)
def test_rollout_weights_normalizes(weights, expected):
    result = rollout_weights(weights)
    assert result == expected
    assert list(result) == sorted(result)
    assert all(isinstance(item, int) and not isinstance(item, bool) for item in (*result, *result.values()))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({1: 10, 2: 130, 3: 100}, "weight of week 2 must be between 0 and 100 (percent), got 130"),
        ({1: -10, 2: 100}, "weight of week 1 must be between 0 and 100 (percent), got -10"),
        ({1: 10.5, 2: 100}, "weight of week 1 must be an integer, got float 10.5; use a whole percent"),
        ({1: "ten", 2: 100}, "weight of week 1 must be an integer, got str 'ten'"),
        ({1: None, 2: 100}, "weight of week 1 must be an integer, got NoneType None"),
        ({1: 10, 2: 30, 3: 30, 4: 100}, "week 3 has 30 % after 30 % in week 2"),
        ({1: 60, 2: 30, 3: 100}, "week 2 has 30 % after 60 % in week 1"),
        ({1: 10, 2: 30, 3: 60}, "the last week (3) must reach 100 %, got 60 %"),
        ({1: 10, 2: 30, 4: 100}, "weeks must be numbered 1..3 without gaps, got [1, 2, 4]"),
        ({0: 10, 1: 100}, "weeks must be numbered 1..2 without gaps, got [0, 1]"),
        ({"week1": 10, "week2": 100}, "week keys must be integers 1..N, got 'week1'"),
        ({"1": 10, 1: 100}, "week 1 is defined twice"),
        ({}, "the week table is empty"),
        ([], "the week table is empty"),
        ("10,30,60,100", "expected a mapping of week to percent"),
        (None, "expected a mapping of week to percent"),
        (100, "expected a mapping of week to percent"),
    ],
)
def test_rollout_weights_rejects(weights, message):
    with pytest.raises(AnsibleFilterError) as err:
        rollout_weights(weights)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("week", "expected"),
    [(1, 1), (2, 2), (3, 3), (4, 4), ("2", 2), (" 3 ", 3)],
)
def test_rollout_week_accepts(week, expected):
    assert rollout_week(week, WEEKS) == expected
    assert rollout_week(week, {"1": 10, "2": 30, "3": 60, "4": 100}) == expected


@pytest.mark.parametrize(
    ("week", "message"),
    [
        (0, "rollout_week must be one of 1, 2, 3, 4, got 0"),
        (5, "rollout_week must be one of 1, 2, 3, 4, got 5"),
        (-1, "rollout_week must be one of 1, 2, 3, 4, got -1"),
        ("abc", "rollout_week must be one of 1, 2, 3, 4, got 'abc'"),
        ("", "rollout_week must be one of 1, 2, 3, 4, got ''"),
        (None, "rollout_week must be one of 1, 2, 3, 4, got None"),
        (2.5, "rollout_week must be one of 1, 2, 3, 4, got 2.5"),
        (True, "rollout_week must be one of 1, 2, 3, 4, got True"),
    ],
)
def test_rollout_week_rejects(week, message):
    with pytest.raises(AnsibleFilterError) as err:
        rollout_week(week, WEEKS)
    assert message in str(err.value)


def test_rollout_week_validates_the_table_first():
    with pytest.raises(AnsibleFilterError, match="the last week"):
        rollout_week(1, {1: 10, 2: 30})


def test_filter_module_exports_filters():
    filters = FilterModule().filters()
    assert filters == {
        "replica_split": replica_split,
        "rollout_weights": rollout_weights,
        "rollout_week": rollout_week,
    }
