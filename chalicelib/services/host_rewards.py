"""Host rewards: once a user-hosted event has ended, its host's share of the net income, in points, once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from chalicelib import logs
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.community_repo import SETTLE, EventRepository
from chalicelib.adapters.orders_repo import OrderRepository
from chalicelib.domain import community as rules
from chalicelib.domain.community import EventRecord
from chalicelib.domain.contribution import EVENT_HOSTED
from chalicelib.domain.errors import BudgetExhausted
from chalicelib.domain.points import GrantInput
from chalicelib.services.campaigns import CampaignService
from chalicelib.services.contribution import ContributionService
from chalicelib.services.event_reads import read_event
from chalicelib.services.worklists import unseen

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

log = logs.get("community")
EVENT_REWARDS = "event-rewards"  # the built-in campaign whose budget pays hosts


class HostRewards:
    def __init__(
        self,
        repo: EventRepository,
        order_repo: OrderRepository,
        campaigns: CampaignService,
        contribution: ContributionService,
        policy: PolicyBook,
        clock: Clock,
        budget_points: int,
        min_attendees: int,
    ) -> None:
        self._repo = repo
        self._order_repo = order_repo
        self._campaigns = campaigns
        self._contribution = contribution
        self._policy = policy
        self._clock = clock
        self._budget_points = budget_points  # the event-rewards campaign's budget when it is first made
        self._min_attendees = min_attendees  # people other than the host checked in, for the host's contribution

    def settle_rewards(self) -> int:
        """Scheduled: once a user-hosted event has ended, credit its host `event_host_share` of the net income
        (fees of registrations paid and not refunded, cash and points) in points, once, from the `event-rewards`
        budget. A budget too small leaves the event listed (reward_status budget_exhausted) for the next run."""
        credited = 0
        for event_id in unseen(lambda: self._repo.due(SETTLE, iso(self._clock.now()))):
            try:
                credited += self._settle(read_event(self._repo, event_id)[0])
            except Exception:
                log.exception("settling one event failed; the next run retries", extra={"event_id": event_id})
        return credited

    def _settle(self, event: EventRecord) -> int:
        host = event.host_id
        assert host is not None  # only user-hosted events are settled
        registrations = self._repo.registrations_for(event.event_id)
        ids = [r.order_id for r in registrations if r.order_id]  # queue entries paid nothing
        orders = self._order_repo.many(ids) if ids else []
        confirmed = {o.order_id for o in orders if rules.ORDER_TO_REGISTRATION[o.status] == "confirmed"}
        net = sum(o.subtotal_fen for o in orders if o.order_id in confirmed)
        ended = dt.datetime.fromisoformat(event.ends_at.replace("Z", "+00:00"))
        points = rules.host_reward_points(net, self._policy.at(ended).event_host_share)
        if points:
            campaign = self._campaigns.ensure(EVENT_REWARDS, "Event host rewards", self._budget_points)
            try:
                self._campaigns.grant(
                    "system",
                    campaign["campaign_id"],
                    GrantInput(
                        user_id=host,
                        points=points,
                        reason=f"hosted event {event.event_id}",
                        ref=f"event:{event.event_id}",
                    ),
                    kind="event_reward",
                    audit=("event.reward", event.event_id),
                )
            except BudgetExhausted:
                if event.reward_status != "budget_exhausted":
                    waits = event.model_copy(update={"reward_status": "budget_exhausted", "reward_points": points})
                    self._repo.save(waits, expected=event)
                log.warning("event reward waits for budget", extra={"event_id": event.event_id, "points": points})
                return 0
        attended = rules.attendees_checked_in(registrations, confirmed, host)
        if attended >= self._min_attendees:  # an empty event earns no contribution
            self._contribution.earn(host, EVENT_HOSTED, f"event:{event.event_id}")  # once per event
        credited = {"reward_status": "credited", "reward_points": points, "net_income_fen": net}
        self._repo.save(event.model_copy(update=credited), expected=event)
        log.info(
            "event reward credited",
            extra={"event_id": event.event_id, "points": points, "net_fen": net, "attended": attended},
        )
        return 1
