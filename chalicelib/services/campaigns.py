"""The points "central bank": campaigns with budgets, grants from them, and referral rewards."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.campaigns_repo import CampaignRepository
from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import OnFail, Replay, Transaction
from chalicelib.domain import points as rules
from chalicelib.domain.errors import AlreadyExists, AlreadyReferred, BudgetExhausted, NotFound, SelfReferral
from chalicelib.domain.points import Entry, Profile
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

REFERRAL_CAMPAIGN = "referral"


def _view(campaign: dict[str, Any]) -> rules.Campaign:
    issued = campaign.get("issued_points", 0)
    return rules.Campaign(
        campaign_id=campaign["campaign_id"],
        name=campaign["name"],
        budget_points=campaign["budget_points"],
        issued_points=issued,
        remaining_points=campaign["budget_points"] - issued,
        created_at=campaign["created_at"],
        created_by=campaign["created_by"],
    )


class CampaignService:
    def __init__(
        self,
        repo: CampaignRepository,
        accounts: Accounts,
        audit: AuditRepository,
        settings: Settings,
        cursors: CursorCodec,
        policy: PolicyBook,
    ) -> None:
        self._policy = policy
        self._repo = repo
        self._cursors = cursors
        self._accounts = accounts
        self._audit = audit
        self._settings = settings

    def create(self, actor: str, body: rules.CampaignInput) -> rules.Campaign:
        now = iso(self._accounts.clock.now())
        campaign = {**body.model_dump(), "issued_points": 0, "created_at": now, "created_by": actor}
        tx = self._repo.begin()
        self._repo.add(
            tx,
            campaign,
            on_fail=AlreadyExists(f"campaign {body.campaign_id!r} already exists", {"campaign_id": body.campaign_id}),
        )
        self._audit.record(tx, actor, "campaign.create", body.campaign_id, None, campaign, now)
        tx.commit()
        return _view(campaign)

    def page(self, limit: int, cursor: Optional[str]) -> rules.CampaignPage:
        items, last = self._repo.page(limit, self._cursors.decode(cursor, "campaigns"))
        return rules.CampaignPage(items=[_view(c) for c in items], next_cursor=self._cursors.encode(last, "campaigns"))

    def get(self, campaign_id: str) -> rules.Campaign:
        return _view(self._existing(campaign_id))

    def _existing(self, campaign_id: str) -> dict[str, Any]:
        found = self._repo.get(campaign_id)
        if not found:
            raise NotFound(f"campaign {campaign_id!r} not found", {"campaign_id": campaign_id})
        return found

    def grant(
        self,
        actor: str,
        campaign_id: str,
        body: rules.GrantInput,
        kind: str = "grant",
        audit: tuple[str, str] = ("", ""),
    ) -> rules.Grant:
        """Issue points to a user from a campaign's budget; the same ref returns the first grant.

        `audit` is (action, entity id) of the audit entry; by default the grant on its campaign."""
        action, entity_id = audit if audit[0] else ("campaign.grant", campaign_id)
        campaign = self._existing(campaign_id)

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            at = iso(now)
            grant = {"grant_id": new_id("g"), "campaign_id": campaign_id, **body.model_dump(), "created_at": at}
            self.issue(tx, campaign, grant, on_replay=Replay)
            self._audit.record(tx, actor, action, entity_id, None, grant, at)
            entry = Entry(delta=body.points, kind=kind, ref=f"{campaign_id}:{body.ref}")
            return Plan(profile.posted([entry]), [entry], rules.Grant.model_validate(grant))

        try:
            return self._accounts.change(body.user_id, plan)
        except Replay:
            return rules.Grant.model_validate(self._repo.grant(campaign_id, body.ref))

    def ensure(self, campaign_id: str, name: str, budget_points: int) -> dict[str, Any]:
        """A built-in campaign (referrals, design rewards), created on first use (and listed, if it is older than
        the list)."""
        self._repo.create_if_absent(
            {
                "campaign_id": campaign_id,
                "name": name,
                "budget_points": budget_points,
                "issued_points": 0,
                "created_at": iso(self._accounts.clock.now()),
                "created_by": "system",
            }
        )
        found = self._existing(campaign_id)
        if "gsi2pk" not in found:
            self.list_if_unlisted(found)
        return found

    def list_if_unlisted(self, campaign: dict[str, Any]) -> bool:
        return self._repo.list_if_unlisted(campaign)

    def issue(self, tx: Transaction, campaign: dict[str, Any], grant: dict[str, Any], *, on_replay: OnFail) -> None:
        """Issue `grant` from `campaign` in another use case's transaction: 409 `budget_exhausted` past the budget."""
        self._repo.issue(tx, campaign, grant, on_budget=self._exhausted(campaign, grant["points"]), on_replay=on_replay)

    def fund(
        self, tx: Transaction, campaign_id: str, points: int, record: dict[str, Any], *, on_replay: OnFail
    ) -> None:
        """Issue `points` from a campaign to something other than a user (an envelope: `record` says which), in
        its transaction: 404 for an unknown campaign, 409 `budget_exhausted` past the budget."""
        campaign = self._existing(campaign_id)
        self._repo.spend(tx, campaign, points, record, on_budget=self._exhausted(campaign, points), on_replay=on_replay)

    def give_back(self, tx: Transaction, campaign_id: str, points: int, record: dict[str, Any]) -> None:
        """Points a campaign issued that nobody received (an envelope's remainder) return to its budget."""
        self._repo.give_back(tx, campaign_id, points, record)

    def _exhausted(self, campaign: dict[str, Any], points: int) -> Callable[[], Exception]:
        campaign_id = campaign["campaign_id"]

        def exhausted() -> Exception:
            remaining = campaign["budget_points"] - self._existing(campaign_id).get("issued_points", 0)
            return BudgetExhausted(
                f"campaign {campaign_id!r} has {remaining} points left, not {points}",
                {"campaign_id": campaign_id, "remaining_points": remaining},
            )

        return exhausted

    def refer(self, actor: str, body: rules.ReferralInput) -> rules.Referral:
        if body.referrer_id == body.referee_id:
            raise SelfReferral("a user cannot refer themselves", {"referee_id": body.referee_id})
        self.ensure(REFERRAL_CAMPAIGN, "Referral rewards", self._settings.referral_budget_points)
        points = getattr(self._policy.current().referral_points, body.kind)
        grant = self.grant(
            actor,
            REFERRAL_CAMPAIGN,
            rules.GrantInput(
                user_id=body.referrer_id,
                points=points,
                reason=f"referral: {body.kind}",
                ref=f"{body.kind}:{body.referee_id}",
            ),
            kind="referral",
            audit=("referral.create", body.referee_id),
        )
        if grant.user_id != body.referrer_id:
            raise AlreadyReferred(
                f"{body.referee_id!r} was already referred for {body.kind} by someone else",
                {"referee_id": body.referee_id, "kind": body.kind},
            )
        return rules.Referral(
            referrer_id=grant.user_id,
            referee_id=body.referee_id,
            kind=body.kind,
            points=grant.points,
            created_at=grant.created_at,
        )
