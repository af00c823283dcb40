"""Pure rules of the contribution score: vote weights, their thresholds, the settings and the award body."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.contribution import (
    BUILT_IN_KINDS,
    ContributionRequest,
    next_threshold,
    threshold_problem,
    vote_weight,
)
from chalicelib.settings import Settings, SettingsError

DEFAULT = (100, 1_000, 10_000)


@pytest.mark.parametrize(
    "contribution, weight, next_at",
    [
        (0, 1, 100),
        (99, 1, 100),
        (100, 2, 1_000),
        (999, 2, 1_000),
        (1_000, 3, 10_000),
        (9_999, 3, 10_000),
        (10_000, 4, None),
        (5_000_000, 4, None),
    ],
)
def test_a_vote_weighs_1_below_100_then_2_3_4_from_each_threshold(contribution, weight, next_at):
    assert vote_weight(contribution, DEFAULT) == weight
    assert next_threshold(contribution, DEFAULT) == next_at


def test_without_thresholds_every_vote_weighs_1():
    assert vote_weight(10**9, []) == 1 and next_threshold(0, []) is None


@pytest.mark.parametrize("thresholds", [[100, 100], [1000, 100], [0, 100], [-5], list(range(1, 11))])
def test_thresholds_must_be_positive_and_strictly_increasing(thresholds):
    assert threshold_problem(thresholds) is not None


def test_the_defaults_are_the_contracts():
    settings = Settings()
    assert settings.vote_weight_thresholds == [100, 1_000, 10_000]
    assert settings.contribution_points == {
        "design_approved": 50,
        "design_productized": 200,
        "event_hosted": 100,
        "event_attended": 5,
    }


def test_weights_and_amounts_are_configurable_from_the_environment(monkeypatch):
    monkeypatch.setenv("LIFESHOP_VOTE_WEIGHT_THRESHOLDS", "[10, 20]")
    monkeypatch.setenv(
        "LIFESHOP_CONTRIBUTION_POINTS",
        '{"design_approved": 60, "design_productized": 250, "event_hosted": 120, "event_attended": 6}',
    )
    settings = Settings()
    assert settings.vote_weight_thresholds == [10, 20] and settings.contribution_points["event_attended"] == 6


@pytest.mark.parametrize(
    "variable, value",
    [
        ("LIFESHOP_VOTE_WEIGHT_THRESHOLDS", "[1000, 100]"),
        ("LIFESHOP_VOTE_WEIGHT_THRESHOLDS", "100"),
        ("LIFESHOP_VOTE_WEIGHT_THRESHOLDS", '[100, "x"]'),
        ("LIFESHOP_VOTE_WEIGHT_THRESHOLDS", "not json"),
        ("LIFESHOP_CONTRIBUTION_POINTS", '{"design_approved": 50}'),
        (
            "LIFESHOP_CONTRIBUTION_POINTS",
            '{"design_approved": 0, "design_productized": 200, "event_hosted": 100, "event_attended": 5}',
        ),
        (
            "LIFESHOP_CONTRIBUTION_POINTS",
            '{"design_approved": 50, "design_productized": 200, "event_hosted": 100, "event_attended": 5, "typo": 1}',
        ),
    ],
)
def test_a_bad_setting_stops_the_start_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(
        (SettingsError, ValidationError), match=variable.removeprefix("LIFESHOP_").lower() + "|" + variable
    ):
        Settings()


def test_an_award_body_is_1_to_10000_for_a_kind_the_shop_does_not_pay_itself():
    ok = {"user_id": "fan-1", "kind": "forum_answer", "ref": "post:42", "amount": 10}
    assert ContributionRequest.model_validate(ok).amount == 10
    for change, field in [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10_001}, "amount"),
        ({"amount": "10"}, "amount"),
        ({"kind": "Forum Answer"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"ref": "a b"}, "ref"),
        ({"user_id": "x" * 65}, "user_id"),
        ({"extra": 1}, "extra"),
    ]:
        with pytest.raises(ValidationError) as caught:
            ContributionRequest.model_validate({**ok, **change})
        assert caught.value.errors()[0]["loc"][0] == field, change
    for kind in BUILT_IN_KINDS:
        with pytest.raises(ValidationError, match="earned by the shop itself"):
            ContributionRequest.model_validate({**ok, "kind": kind})
