"""Co-design use cases: submit, browse and vote, review with a reward, productize."""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.designs_repo import DesignRepository, listing
from chalicelib.domain import designs as rules
from chalicelib.domain.catalog import Product, ProductInput
from chalicelib.domain.errors import (AlreadyVoted, BudgetExhausted, InvalidTransition, NotFound, OwnDesign,
                                      TooManyOpenDesigns)
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.campaigns import CampaignService
from chalicelib.services.catalog import CatalogService
from chalicelib.services.retry import LostRace
from chalicelib.settings import Settings

REWARDS_CAMPAIGN = "design-rewards"


class DesignService:
    def __init__(self, repo: DesignRepository, accounts: Accounts, campaigns: CampaignService,
                 catalog: CatalogService, audit: AuditRepository, cursors: CursorCodec, settings: Settings) -> None:
        self._repo = repo
        self._accounts = accounts
        self._campaigns = campaigns
        self._catalog = catalog
        self._audit = audit
        self._cursors = cursors
        self._settings = settings

    # -- shoppers ----------------------------------------------------------------------------
    def submit(self, designer_id: str, body: rules.DesignInput) -> rules.Design:
        now = iso(self._accounts.clock.now())
        design = {"design_id": new_id("d"), "designer_id": designer_id, **body.model_dump(), "status": "submitted",
                  "votes": 0, "units_sold": 0, "royalty_points": 0, "created_at": now, "updated_at": now}

        def too_many(label: str) -> Exception:
            return TooManyOpenDesigns(f"you already have {rules.MAX_OPEN_DESIGNS} designs waiting for review",
                                      {"max_open_designs": rules.MAX_OPEN_DESIGNS})

        self._repo.table.transact([self._repo.create_op(design), self._repo.open_count_op(designer_id, 1)],
                                  ["design", "open"], too_many)
        return rules.Design.model_validate(design)

    def page(self, limit: int, cursor: Optional[str], **where: Optional[str]) -> rules.DesignPage:
        index, partition = listing(**where)
        scope = f"designs|{partition}"
        items, last = self._repo.page(index, partition, limit, self._cursors.decode(cursor, scope))
        return rules.DesignPage(items=[rules.Design.model_validate(d) for d in items],
                                next_cursor=self._cursors.encode(last, scope))

    def vote(self, voter_id: str, design_id: str) -> rules.Vote:
        design = self._repo.get(design_id)
        if not design or design["status"] not in rules.PUBLIC_STATUSES:
            raise NotFound(f"design {design_id!r} not found", {"design_id": design_id})
        if design["designer_id"] == voter_id:
            raise OwnDesign("designers cannot vote for their own design", {"design_id": design_id})

        def refused(label: str) -> Exception:
            if label == "vote":
                return AlreadyVoted("you have already voted for this design", {"design_id": design_id})
            return NotFound(f"design {design_id!r} is no longer public", {"design_id": design_id})

        self._repo.table.transact(self._repo.vote_ops(design_id, voter_id, iso(self._accounts.clock.now())),
                                  ["vote", "design"], refused)
        return rules.Vote(design_id=design_id, votes=design.get("votes", 0) + 1)

    # -- merchandisers -----------------------------------------------------------------------
    def decide(self, actor: str, design_id: str, body: rules.Decision) -> rules.Design:
        designer_id = self._existing(design_id)["designer_id"]
        campaign = self._campaigns.ensure(REWARDS_CAMPAIGN, "Design rewards", self._settings.design_reward_budget_points)
        reward = self._settings.design_reward_points if body.decision == "approve" else 0

        def plan(profile: dict[str, Any], now: Any) -> Plan:
            design = self._existing(design_id)
            if design["status"] != "submitted":
                raise InvalidTransition(f"this design is already {design['status']}; only submitted designs are decided",
                                        {"from": design["status"], "to": body.decision})
            at = iso(now)
            changes = {"status": "approved" if body.decision == "approve" else "rejected",
                       "note": body.note, "reviewed_by": actor, "reviewed_at": at, "updated_at": at}
            ops = [self._repo.move_op(design, changes), self._repo.open_count_op(designer_id, -1),
                   self._audit.record_op(actor, f"design.{changes['status']}", design_id,
                                         {"status": "submitted"}, {"status": changes["status"], "note": body.note}, at)]
            labels = ["design", "open", "audit"]
            if not reward:
                return Plan(None, [], ops, labels, {**design, **changes})
            grant = {"grant_id": new_id("g"), "campaign_id": REWARDS_CAMPAIGN, "user_id": designer_id,
                     "points": reward, "reason": f"design {design_id} approved", "ref": f"design:{design_id}",
                     "created_at": at}
            issue_ops, issue_labels = self._campaigns.issuance_ops(campaign, grant)
            after = {**profile, "points_available": profile["points_available"] + reward}
            entry = {"delta": reward, "kind": "design_reward", "ref": f"design:{design_id}"}
            return Plan(after, [entry], ops + issue_ops, labels + issue_labels, {**design, **changes})

        def on_condition(label: str) -> Exception:
            if label == "budget":
                return BudgetExhausted(f"campaign {REWARDS_CAMPAIGN!r} cannot pay the design reward",
                                       {"campaign_id": REWARDS_CAMPAIGN})
            return LostRace()  # the design moved (a concurrent decision): re-read and say so

        return rules.Design.model_validate(self._accounts.change(designer_id, plan, on_condition))

    def productize(self, actor: str, design_id: str, body: ProductInput) -> Product:
        design = self._existing(design_id)
        if design["status"] != "approved":
            raise InvalidTransition(f"only an approved design can become a product (this one is {design['status']})",
                                    {"from": design["status"], "to": "productized"})
        product_id = body.product_id or new_id("p")
        now = iso(self._accounts.clock.now())
        move = self._repo.move_op(design, {"status": "productized", "product_id": product_id, "updated_at": now})
        return self._catalog.create(actor, body.model_copy(update={"product_id": product_id}),
                                    designer_id=design["designer_id"], design_id=design_id, extra=(move, "design"))

    def _existing(self, design_id: str) -> dict[str, Any]:
        design = self._repo.get(design_id)
        if not design:
            raise NotFound(f"design {design_id!r} not found", {"design_id": design_id})
        return design
