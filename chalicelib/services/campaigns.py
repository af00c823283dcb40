"""The points "central bank": campaigns with budgets, grants from them, and referral rewards."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.campaigns_repo import CampaignRepository
from chalicelib.adapters.clock import iso, new_id
from chalicelib.domain import points as rules
from chalicelib.domain.errors import AlreadyExists, AlreadyReferred, BudgetExhausted, NotFound, SelfReferral
from chalicelib.services.accounts import Accounts, Plan, Replay
from chalicelib.settings import Settings

REFERRAL_CAMPAIGN = "referral"


def _view(campaign: dict[str, Any]) -> rules.Campaign:
    issued = campaign.get("issued_points", 0)
    return rules.Campaign(campaign_id=campaign["campaign_id"], name=campaign["name"],
                          budget_points=campaign["budget_points"], issued_points=issued,
                          remaining_points=campaign["budget_points"] - issued,
                          created_at=campaign["created_at"], created_by=campaign["created_by"])


class CampaignService:
    def __init__(self, repo: CampaignRepository, accounts: Accounts, audit: AuditRepository,
                 settings: Settings) -> None:
        self._repo = repo
        self._accounts = accounts
        self._audit = audit
        self._settings = settings

    def create(self, actor: str, body: rules.CampaignInput) -> rules.Campaign:
        now = iso(self._accounts.clock.now())
        campaign = {**body.model_dump(), "issued_points": 0, "created_at": now, "created_by": actor}
        ops = [self._repo.create_op(campaign), self._audit.record_op(actor, "campaign.create", body.campaign_id,
                                                                      None, campaign, now)]

        def exists(label: str) -> Exception:
            return AlreadyExists(f"campaign {body.campaign_id!r} already exists", {"campaign_id": body.campaign_id})

        self._repo.transact(ops, ["campaign", "audit"], exists)
        return _view(campaign)

    def get(self, campaign_id: str) -> rules.Campaign:
        return _view(self._existing(campaign_id))

    def _existing(self, campaign_id: str) -> dict[str, Any]:
        found = self._repo.get(campaign_id)
        if not found:
            raise NotFound(f"campaign {campaign_id!r} not found", {"campaign_id": campaign_id})
        return found

    def grant(self, actor: str, campaign_id: str, body: rules.GrantInput, kind: str = "grant",
              audit: tuple[str, str] = ("", "")) -> rules.Grant:
        """Issue points to a user from a campaign's budget; the same ref returns the first grant.

        `audit` is (action, entity id) of the audit entry; by default the grant on its campaign."""
        action, entity_id = audit if audit[0] else ("campaign.grant", campaign_id)
        campaign = self._existing(campaign_id)

        def plan(profile: dict[str, Any], now: Any) -> Plan:
            at = iso(now)
            grant = {"grant_id": new_id("g"), "campaign_id": campaign_id, **body.model_dump(), "created_at": at}
            ops, labels = self.issuance_ops(campaign, grant)
            ops.append(self._audit.record_op(actor, action, entity_id, None, grant, at))
            labels.append("audit")
            after = {**profile, "points_available": profile["points_available"] + body.points}
            entry = {"delta": body.points, "kind": kind, "ref": f"{campaign_id}:{body.ref}"}
            return Plan(after, [entry], ops, labels, rules.Grant.model_validate(grant))

        def on_condition(label: str) -> Exception:
            if label == "budget":
                remaining = campaign["budget_points"] - self._existing(campaign_id).get("issued_points", 0)
                return BudgetExhausted(f"campaign {campaign_id!r} has {remaining} points left, not {body.points}",
                                       {"campaign_id": campaign_id, "remaining_points": remaining})
            return Replay(label)

        try:
            return self._accounts.change(body.user_id, plan, on_condition)
        except Replay:
            return rules.Grant.model_validate(self._repo.grant(campaign_id, body.ref))

    def ensure(self, campaign_id: str, name: str, budget_points: int) -> dict[str, Any]:
        """A built-in campaign (referrals, design rewards), created on first use."""
        self._repo.create_if_absent({"campaign_id": campaign_id, "name": name, "budget_points": budget_points,
                                     "issued_points": 0, "created_at": iso(self._accounts.clock.now()),
                                     "created_by": "system"})
        return self._existing(campaign_id)

    def issuance_ops(self, campaign: dict[str, Any], grant: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        """The writes that issue `grant` from `campaign` (budget condition, once-only ref), for another
        use case's transaction; a failed "budget" label means the budget is exhausted, "grant" a replay."""
        return [self._repo.issue_op(campaign, grant["points"]), self._repo.grant_op(grant)], ["budget", "grant"]

    def refer(self, actor: str, body: rules.ReferralInput) -> rules.Referral:
        if body.referrer_id == body.referee_id:
            raise SelfReferral("a user cannot refer themselves", {"referee_id": body.referee_id})
        self.ensure(REFERRAL_CAMPAIGN, "Referral rewards", self._settings.referral_budget_points)
        points = self._settings.referral_points[body.kind]
        grant = self.grant(actor, REFERRAL_CAMPAIGN, rules.GrantInput(
            user_id=body.referrer_id, points=points, reason=f"referral: {body.kind}",
            ref=f"{body.kind}:{body.referee_id}"), kind="referral", audit=("referral.create", body.referee_id))
        if grant.user_id != body.referrer_id:
            raise AlreadyReferred(f"{body.referee_id!r} was already referred for {body.kind} by someone else",
                                  {"referee_id": body.referee_id, "kind": body.kind})
        return rules.Referral(referrer_id=grant.user_id, referee_id=body.referee_id, kind=body.kind,
                              points=grant.points, created_at=grant.created_at)
