"""Reviews from verified buyers: write one for a line that reached you, moderation that pays the reviewer, the
product's rating exact under concurrent approvals (shard items), helpful votes once per user, and refunds that
take a review out of the rating."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso, new_id
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace, Transaction
from chalicelib.adapters.orders_repo import OrderRepository, order_key
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.adapters.reviews_repo import ReviewRepository, listing
from chalicelib.domain import reviews as rules
from chalicelib.domain.errors import AlreadyReviewed, AlreadyVoted, InvalidTransition, NotFound, OwnReview
from chalicelib.domain.points import Profile
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.contribution import ContributionService
from chalicelib.services.points import PointsService, TaskDayFull
from chalicelib.services.retry import on_lost_race

REVIEW_TASK = "review"
REVIEW_APPROVED = "review_approved"  # the contribution source of an approved review (REVIEW_CONTRIBUTION)


class ReviewService:
    def __init__(
        self,
        repo: ReviewRepository,
        orders: OrderRepository,
        accounts: Accounts,
        points: PointsService,
        contribution: ContributionService,
        audit: AuditRepository,
        cursors: CursorCodec,
        names: Pseudonyms,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._orders = orders
        self._accounts = accounts
        self._points = points
        self._contribution = contribution
        self._audit = audit
        self._cursors = cursors
        self._names = names
        self._clock = clock

    # -- buyers ------------------------------------------------------------------------------------------
    def submit(self, user_id: str, product_id: str, body: rules.ReviewInput) -> rules.Review:
        rules.reviewable_line(self._orders.get(body.order_id), user_id, product_id, body.sku)
        now = iso(self._clock.now())
        review = {
            "review_id": new_id("r"),
            "product_id": product_id,
            "user_id": user_id,
            **body.model_dump(),
            "status": "pending",
            "helpful": 0,
            "created_at": now,
        }
        tx = self._repo.begin()
        already = AlreadyReviewed("this order line has a review already", {"order_id": body.order_id, "sku": body.sku})
        self._repo.add(tx, review, on_repeat=already)
        self._still_bought(tx, review)  # a refund committed meanwhile: its exclusion pass may be over already
        tx.commit()
        return self._view(review, private=True)

    def mine(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.ReviewPage:
        return self._page(listing(user_id=user_id), limit, cursor, private=True)

    def helpful(self, user_id: str, review_id: str) -> rules.Helpful:
        def attempt() -> rules.Helpful:
            review = self._repo.get(review_id)
            if not review or review["status"] != "approved" or review.get("excluded"):
                raise NotFound(f"review {review_id!r} not found", {"review_id": review_id})
            if review["user_id"] == user_id:
                raise OwnReview("you cannot find your own review helpful", {"review_id": review_id})
            tx = self._repo.begin()
            again = AlreadyVoted("you have found this review helpful already", {"review_id": review_id})
            self._repo.helpful(tx, review, user_id, iso(self._clock.now()), on_repeat=again)
            tx.commit()
            return rules.Helpful(review_id=review_id, helpful=int(review.get("helpful", 0)) + 1)

        return on_lost_race(attempt, f"the helpful votes of review {review_id!r}")

    # -- everyone ----------------------------------------------------------------------------------------
    def of_product(self, product_id: str, sort: str, limit: int, cursor: Optional[str]) -> rules.ProductReviews:
        page = self._page(listing(product_id=product_id, sort=sort), limit, cursor, private=False)
        rating = rules.rating(self._repo.rating_shards(product_id))
        return rules.ProductReviews(rating=rating, items=page.items, next_cursor=page.next_cursor)

    # -- merchandisers -----------------------------------------------------------------------------------
    def queue(self, status: str, limit: int, cursor: Optional[str]) -> rules.ReviewPage:
        return self._page(listing(status=status), limit, cursor, private=True)

    def decide(self, actor: str, review_id: str, body: rules.Decision) -> rules.Review:
        """Approve (the rating counts it; the reviewer is paid the `review` task and contribution, once, in the
        same transaction) or reject with a note the reviewer reads."""
        author = self._existing(review_id)["user_id"]
        try:
            return rules.Review.model_validate(self._accounts.change(author, self._decision(actor, review_id, body)))
        except TaskDayFull:  # the task paid its per_day today: the review is approved, paying no points
            plan = self._decision(actor, review_id, body, counted=False)
            return rules.Review.model_validate(self._accounts.change(author, plan))

    def _decision(self, actor: str, review_id: str, body: rules.Decision, counted: bool = True) -> Any:
        approve = body.decision == "approve"

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            review = self._existing(review_id)
            if review["status"] != "pending":
                raise InvalidTransition(
                    f"this review is already {review['status']}; only pending reviews are decided",
                    {"from": review["status"], "to": "approved" if approve else "rejected"},
                )
            at = iso(now)
            status = "approved" if approve else "rejected"
            changes = {"status": status, "note": body.note, "decided_by": actor, "decided_at": at}
            self._repo.move(tx, review, changes, on_fail=LostRace)
            self._audit.record(tx, actor, f"review.{status}", review_id, {"status": "pending"},
                               {"status": status, "note": body.note}, at)  # fmt: skip
            after = {**review, **changes}
            if not approve:
                return Plan(None, result=self._view(after, private=True))
            self._still_bought(tx, review)
            self._repo.count_rating(tx, review["product_id"], review_id, int(review["rating"]), 1)
            # +2 contribution once per product a user reviews (buying, reviewing and returning it again earns
            # nothing more), with the task's own contribution if the policy sets one: one award, one source
            source = (REVIEW_APPROVED, f"product:{review['product_id']}", rules.REVIEW_CONTRIBUTION)
            paid = self._points.pay_task(tx, profile, now, REVIEW_TASK, review_id, counted, source)
            return Plan(paid.after, paid.entries, self._view(after, private=True))

        return plan

    def _still_bought(self, tx: Transaction, review: dict[str, Any]) -> None:
        """The order has not been refunded or cancelled since the review was written."""
        tx.check(
            order_key(review["order_id"]),
            "#st IN (:a, :b, :c)",
            {":a": "paid", ":b": "partially_shipped", ":c": "shipped"},
            names={"#st": "status"},
            on_fail=InvalidTransition(
                "the order of this review was refunded or cancelled: reject it", {"order_id": review["order_id"]}
            ),
        )

    def fold_rating(self, product_id: str) -> bool:
        """Set the product's rating (rating_sum, rating_count: what search results and product pages show) from its
        shards, as they are now; its version moves, so a merchandiser's edit read before it is refused, not lost.
        False if the product already shows it (or does not exist)."""
        return self._repo.show_rating(product_id, *rules.shard_sums(self._repo.rating_shards(product_id)))

    def exclude_order(self, order_id: str) -> int:
        """An order refunded or cancelled: its reviews leave their products' ratings (kept, marked `excluded`),
        each once however often the stream delivers the order. How many left the rating now."""
        left = 0
        for review_id in self._repo.reviews_of_order(order_id):

            def attempt(review_id: str = review_id) -> int:
                review = self._repo.get(review_id)
                if review is None or review.get("excluded"):
                    return 0
                tx = self._repo.begin()
                self._repo.exclude(tx, review, iso(self._clock.now()))
                counted = review["status"] == "approved"
                if counted:
                    self._repo.count_rating(tx, review["product_id"], review_id, int(review["rating"]), -1)
                tx.commit()
                return int(counted)

            left += on_lost_race(attempt, f"review {review_id!r}")
        return left

    # -- views -------------------------------------------------------------------------------------------
    def _page(self, where: tuple[str, str], limit: int, cursor: Optional[str], private: bool) -> rules.ReviewPage:
        index, partition = where
        scope = f"reviews|{partition}"
        items, last = self._repo.page(index, partition, limit, self._cursors.decode(cursor, scope))
        return rules.ReviewPage(
            items=[self._view(i, private) for i in items], next_cursor=self._cursors.encode(last, scope)
        )

    def _view(self, review: dict[str, Any], private: bool) -> rules.Review:
        shown = {**review, "reviewer_name": self._names.reviewer(review["user_id"])}
        if not private:
            shown.update(user_id=None, order_id=None, note=None)
        return rules.Review.model_validate(shown)

    def _existing(self, review_id: str) -> dict[str, Any]:
        review = self._repo.get(review_id)
        if not review:
            raise NotFound(f"review {review_id!r} not found", {"review_id": review_id})
        return review
