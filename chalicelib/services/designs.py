"""Co-design use cases: submit, browse and vote (weighted by contribution), review with a reward, productize."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import iso, new_id
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.designs_repo import DesignRepository, listing
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.domain import contribution
from chalicelib.domain import designs as rules
from chalicelib.domain.catalog import Product, ProductInput
from chalicelib.domain.errors import (
    AlreadyVoted,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    OwnDesign,
    TooManyOpenDesigns,
)
from chalicelib.domain.points import Entry, Profile
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.campaigns import CampaignService
from chalicelib.services.catalog import CatalogService
from chalicelib.services.contribution import ContributionService
from chalicelib.services.retry import on_lost_race
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

REWARDS_CAMPAIGN = "design-rewards"


class DesignService:
    def __init__(
        self,
        repo: DesignRepository,
        accounts: Accounts,
        campaigns: CampaignService,
        catalog: CatalogService,
        contribution: ContributionService,
        audit: AuditRepository,
        cursors: CursorCodec,
        settings: Settings,
        names: Pseudonyms,
        policy: PolicyBook,
    ) -> None:
        self._policy = policy
        self._names = names
        self._contribution = contribution
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
        design = {
            "design_id": new_id("d"),
            "designer_id": designer_id,
            **body.model_dump(),
            "status": "submitted",
            "votes": 0,
            "score": 0,
            "units_sold": 0,
            "royalty_points": 0,
            "created_at": now,
            "updated_at": now,
        }

        tx = self._repo.begin()
        self._repo.add(
            tx,
            design,
            on_too_many=TooManyOpenDesigns(
                f"you already have {rules.MAX_OPEN_DESIGNS} designs waiting for review",
                {"max_open_designs": rules.MAX_OPEN_DESIGNS},
            ),
        )
        tx.commit()
        return rules.Design.model_validate(design)

    def page(
        self, limit: int, cursor: Optional[str], public: bool = False, by_score: bool = False, **where: Optional[str]
    ) -> rules.DesignPage:
        """A listing; `public` (the gallery) names designers by display name, never by user id; `by_score`: the
        gallery highest score first."""
        index, partition = listing(by_score=by_score, **where)
        scope = f"designs|{partition}"
        items, last = self._repo.page(index, partition, limit, self._cursors.decode(cursor, scope))
        if public:
            items = [{**d, "designer_id": None, "designer_name": self._names.designer(d["designer_id"])} for d in items]
        return rules.DesignPage(
            items=[rules.Design.model_validate(d) for d in items], next_cursor=self._cursors.encode(last, scope)
        )

    def vote(self, voter_id: str, design_id: str) -> rules.Vote:
        """A vote weighs what the voter's contribution was when it committed; the weight is kept on the vote."""

        def attempt() -> rules.Vote:
            design = self._repo.get(design_id)
            if not design or design["status"] not in rules.PUBLIC_STATUSES:
                raise NotFound(f"design {design_id!r} not found", {"design_id": design_id})
            if design["designer_id"] == voter_id:
                raise OwnDesign("designers cannot vote for their own design", {"design_id": design_id})
            given = self._contribution.balance(voter_id)
            weight = self._contribution.vote_weight(given)
            tx = self._repo.begin()
            self._repo.vote(
                tx,
                design,
                voter_id,
                weight,
                given,
                iso(self._accounts.clock.now()),
                on_repeat=AlreadyVoted("you have already voted for this design", {"design_id": design_id}),
                on_changed=LostRace,
            )  # another vote, or the voter's weight moved: re-read
            self._contribution.pin_weight(tx, voter_id, given)
            tx.commit()
            return rules.Vote(
                design_id=design_id, votes=design["votes"] + 1, score=design["score"] + weight, weight=weight
            )

        return on_lost_race(attempt, f"the votes of design {design_id!r}")

    # -- merchandisers -----------------------------------------------------------------------
    def decide(self, actor: str, design_id: str, body: rules.Decision) -> rules.Design:
        designer_id = self._existing(design_id)["designer_id"]
        approve = body.decision == "approve"
        reward = self._policy.current().design_reward_points if approve else 0
        campaign = (
            self._campaigns.ensure(REWARDS_CAMPAIGN, "Design rewards", self._settings.design_reward_budget_points)
            if reward
            else None
        )

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            design = self._existing(design_id)
            if design["status"] != "submitted":
                raise InvalidTransition(
                    f"this design is already {design['status']}; only submitted designs are decided",
                    {"from": design["status"], "to": body.decision},
                )
            at = iso(now)
            status = "approved" if approve else "rejected"
            changes = {"status": status, "note": body.note, "reviewed_by": actor, "reviewed_at": at, "updated_at": at}
            self._repo.move(tx, design, changes, on_fail=LostRace)  # a concurrent decision: re-read and say so
            self._repo.count_open(tx, designer_id, -1)
            if approve:
                self._contribution.add(tx, designer_id, contribution.DESIGN_APPROVED, f"design:{design_id}", at)
            self._audit.record(
                tx,
                actor,
                f"design.{status}",
                design_id,
                {"status": "submitted"},
                {"status": status, "note": body.note},
                at,
            )
            if not campaign:
                return Plan(None, result={**design, **changes})
            self._campaigns.issue(
                tx,
                campaign,
                {
                    "grant_id": new_id("g"),
                    "campaign_id": REWARDS_CAMPAIGN,
                    "user_id": designer_id,
                    "points": reward,
                    "reason": f"design {design_id} approved",
                    "ref": f"design:{design_id}",
                    "created_at": at,
                },
                on_replay=LostRace,
            )
            entry = Entry(delta=reward, kind="design_reward", ref=f"design:{design_id}")
            return Plan(profile.posted([entry]), [entry], {**design, **changes})

        return rules.Design.model_validate(self._accounts.change(designer_id, plan))

    def productize(self, actor: str, design_id: str, body: ProductInput) -> Product:
        if body.kind != "physical":  # its designer's royalties fall due once the goods have shipped
            raise InvalidRequest(
                "a designed product is made and shipped: kind physical", {"fields": {"kind": "must be physical"}}
            )
        product_id = body.product_id or new_id("p")

        def attempt() -> Product:
            design = self._existing(design_id)
            if design["status"] != "approved":
                raise InvalidTransition(
                    f"only an approved design can become a product (this one is {design['status']})",
                    {"from": design["status"], "to": "productized"},
                )
            now = iso(self._accounts.clock.now())

            def link(tx: Transaction) -> None:
                self._repo.move(
                    tx,
                    design,
                    {"status": "productized", "product_id": product_id, "updated_at": now},
                    on_fail=InvalidTransition("the design is no longer approved", {"to": "productized"}),
                )
                self._contribution.add(
                    tx, design["designer_id"], contribution.DESIGN_PRODUCTIZED, f"design:{design_id}", now
                )

            return self._catalog.create(
                actor,
                body.model_copy(update={"product_id": product_id}),
                designer_id=design["designer_id"],
                design_id=design_id,
                also=link,
            )

        return on_lost_race(attempt, f"design {design_id!r}")

    def _existing(self, design_id: str) -> dict[str, Any]:
        design = self._repo.get(design_id)
        if not design:
            raise NotFound(f"design {design_id!r} not found", {"design_id": design_id})
        return design
