"""CampaignRepository against DynamoDB Local: a budget is never overspent and a grant ref pays once."""

from __future__ import annotations

import pytest

from chalicelib.adapters.campaigns_repo import CampaignRepository
from chalicelib.adapters.dynamo import Replay
from chalicelib.domain.errors import AlreadyExists, BudgetExhausted
from tests.helpers import uid
from tests.integration.builders import T0


@pytest.fixture
def campaigns(services) -> CampaignRepository:
    return CampaignRepository(services.table)


def _campaign(budget: int = 100) -> dict:
    return {
        "campaign_id": uid("spring"),
        "name": "Spring",
        "budget_points": budget,
        "issued_points": 0,
        "created_at": T0,
        "created_by": "merch-t",
    }


def _add(campaigns, campaign) -> None:
    tx = campaigns.begin()
    campaigns.add(tx, campaign, on_fail=AlreadyExists("campaign exists"))
    tx.commit()


def _issue(campaigns, campaign, points: int, ref: str) -> None:
    grant = {
        "grant_id": uid("g"),
        "campaign_id": campaign["campaign_id"],
        "user_id": "u-1",
        "points": points,
        "reason": "thanks",
        "ref": ref,
        "created_at": T0,
    }
    tx = campaigns.begin()
    campaigns.issue(tx, campaign, grant, on_budget=BudgetExhausted("budget spent"), on_replay=Replay)
    tx.commit()


def test_a_campaign_id_is_created_once(campaigns):
    first = _campaign()
    _add(campaigns, first)
    with pytest.raises(AlreadyExists):
        _add(campaigns, {**first, "name": "Copy", "budget_points": 999})
    assert campaigns.get(first["campaign_id"])["name"] == "Spring"
    assert campaigns.get(first["campaign_id"])["budget_points"] == 100


def test_a_campaign_issues_up_to_its_budget_and_no_further(campaigns):
    campaign = _campaign(budget=100)
    _add(campaigns, campaign)
    _issue(campaigns, campaign, 60, "r-1")
    _issue(campaigns, campaign, 40, "r-2")
    with pytest.raises(BudgetExhausted):
        _issue(campaigns, campaign, 1, "r-3")
    assert campaigns.get(campaign["campaign_id"])["issued_points"] == 100
    assert campaigns.grant(campaign["campaign_id"], "r-3") is None


def test_a_grant_bigger_than_the_whole_budget_is_refused(campaigns):
    campaign = _campaign(budget=100)
    _add(campaigns, campaign)
    with pytest.raises(BudgetExhausted):
        _issue(campaigns, campaign, 101, "r-1")
    assert campaigns.get(campaign["campaign_id"])["issued_points"] == 0
    assert campaigns.grant(campaign["campaign_id"], "r-1") is None


def test_the_same_ref_pays_once_and_counts_once(campaigns):
    campaign = _campaign(budget=100)
    _add(campaigns, campaign)
    _issue(campaigns, campaign, 30, "r-1")
    first = campaigns.grant(campaign["campaign_id"], "r-1")
    with pytest.raises(Replay):
        _issue(campaigns, campaign, 30, "r-1")
    assert campaigns.get(campaign["campaign_id"])["issued_points"] == 30
    assert campaigns.grant(campaign["campaign_id"], "r-1") == first


def test_issuing_from_an_unknown_campaign_is_refused_and_records_no_grant(campaigns):
    campaign = _campaign()
    with pytest.raises(BudgetExhausted):
        _issue(campaigns, campaign, 1, "r-1")
    assert campaigns.get(campaign["campaign_id"]) is None
    assert campaigns.grant(campaign["campaign_id"], "r-1") is None


def test_create_if_absent_keeps_what_was_issued(campaigns):
    campaign = _campaign(budget=100)
    campaigns.create_if_absent(campaign)
    _issue(campaigns, campaign, 70, "r-1")
    campaigns.create_if_absent(campaign)
    assert campaigns.get(campaign["campaign_id"])["issued_points"] == 70
