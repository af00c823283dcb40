"""Tips to creators (打赏): from the sender's available points to the designer of a public design or the host of a
published event, both accounts in one transaction; the burn rate's share leaves circulation. The flows between
users are summed off the request path for review (largest flows, reciprocal pairs)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Optional

from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.dynamo import Replay
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.adapters.tips_repo import Counted, TipRepository
from chalicelib.adapters.users_repo import new_profile, to_profile
from chalicelib.domain import tips as rules
from chalicelib.domain.errors import (
    AccountTooNew,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidRequest,
    NotFound,
    NotTheCreator,
    ReceiveLimitReached,
    SelfTip,
    TipLimitReached,
)
from chalicelib.domain.points import Entry, Profile, shanghai_day
from chalicelib.services.accounts import Accounts
from chalicelib.services.retry import on_lost_race, once_in_groups

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

GROUP = 25
PUBLIC_DESIGNS = ("approved", "productized")


def _digest(body: rules.TipInput) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class TipService:
    def __init__(
        self, repo: TipRepository, accounts: Accounts, clock: Clock, policy: PolicyBook, names: Pseudonyms
    ) -> None:
        self._names = names
        self._repo = repo
        self._accounts = accounts
        self._clock = clock
        self._policy = policy

    def send(self, user_id: str, idem_key: str, body: rules.TipInput) -> rules.Tip:
        """One tip, both balances and the tip in one transaction (each profile on condition it is unchanged); a
        retry with the same key and body answers the first tip."""
        if body.to_user_id == user_id:
            raise SelfTip("you cannot tip yourself", {"fields": {"to_user_id": "must be someone else"}})
        request = {"idempotency_key": idem_key, "request_hash": _digest(body)}

        def attempt() -> rules.Tip:
            reads = self._repo.reads(user_id, body.to_user_id, idem_key, body.ref.kind, body.ref.id)
            if reads["request"]:
                return self._replayed(reads["request"], request, user_id)
            now = self._clock.now()
            at = iso(now)
            sender = (
                self._accounts.settled(to_profile(reads["sender"]))
                if reads["sender"]
                else replace(new_profile(user_id, at), stored=False)
            )
            found = reads.get("recipient")
            if body.to_user_id and not found:
                raise NotFound(f"no user {body.to_user_id!r}", {"to_user_id": body.to_user_id})
            creator = self._creator(reads["ref"], body)
            if creator == user_id:
                raise SelfTip("you cannot tip yourself for your own design or event", {"ref": body.ref.model_dump()})
            if not found:
                raise NotFound("the creator has no account with the shop", {"ref": body.ref.model_dump()})
            recipient = self._accounts.settled(to_profile(found))
            tips = self._policy.at(now).tips
            self._check_sender(sender, now, tips.min_account_age_days)
            received, burned = rules.split_tip(body.points, tips.burn_rate)
            if received < 1:
                least = rules.smallest_tip(tips.burn_rate)
                raise InvalidRequest(
                    f"a tip of {body.points} would give the creator nothing after the burn; tip at least {least}",
                    {"fields": {"points": f"at least {least}"}},
                )
            if sender.points_available < body.points:
                raise InsufficientPoints(
                    f"you have {sender.points_available} points available, not {body.points}",
                    {"available": sender.points_available, "required": body.points},
                )
            # never a day earlier than the last tip's: two containers whose clocks straddle midnight share one day
            day = max(shanghai_day(now), sender.tipped_day)
            sent, cap = sender.tipped_on(day), tips.daily_send_cap[sender.tier]
            if sent + body.points > cap:
                raise TipLimitReached(
                    f"a {sender.tier} can tip {cap} points a day (Asia/Shanghai); {max(0, cap - sent)} are left today",
                    {"limit": cap, "tipped_today": sent, "day": day},
                )
            got_day = max(shanghai_day(now), recipient.tips_day)
            got, limit = recipient.tipped_to_on(got_day), tips.daily_receive_cap
            if got + body.points > limit:
                raise ReceiveLimitReached(
                    f"this creator can be tipped {limit} points a day; {max(0, limit - got)} are left today",
                    {"limit": limit, "left_today": max(0, limit - got), "day": got_day},
                )
            tip = {
                "tip_id": f"tip-{secrets.token_hex(12)}",
                "from_user_id": user_id,
                "to_user_id": creator,
                "named_recipient": body.to_user_id is not None,
                "to_name": self._names.designer(creator) if body.ref.kind == "design" else creator,
                "points": body.points,
                "received": received,
                "burned": burned,
                "ref": body.ref.model_dump(),
                "message": body.message,
                "created_at": at,
            }
            ref = f"tip:{tip['tip_id']}"
            give = Entry(delta=-body.points, kind="tip_sent", ref=ref)
            get = Entry(delta=received, kind="tip_received", ref=ref)
            sender_after = replace(sender.posted([give]), tipped_day=day, tipped_today=sent + body.points)
            recipient_after = replace(recipient.posted([get]), tips_day=got_day, tips_today=got + body.points)
            tx = self._repo.begin()
            self._repo.add(tx, tip, {**request, "tip_id": tip["tip_id"], "created_at": at})
            self._accounts.record(tx, sender, sender_after, [give], at)
            self._accounts.record(tx, recipient, recipient_after, [get], at)
            tx.commit()
            return _view(tip, sender_after.points_available)

        try:
            return on_lost_race(attempt, "your points")
        except Replay:
            first = self._repo.request(user_id, idem_key)
            if first is None:
                raise
            return self._replayed(first, request, user_id)

    @staticmethod
    def _creator(found: Optional[dict[str, Any]], body: rules.TipInput) -> str:
        """Who made the design or event tipped for (NotFound unless it is public), and the same user as the request
        names, if it names one."""
        kind, ref_id = body.ref.kind, body.ref.id
        if kind == "design":
            if not found or found.get("status") not in PUBLIC_DESIGNS:
                raise NotFound(f"no public design {ref_id!r}", {"fields": {"ref.id": "no such public design"}})
            creator = found.get("designer_id")
        else:
            if not found or found.get("status") != "published" or not found.get("host_id"):
                raise NotFound(
                    f"no published event {ref_id!r} hosted by a member", {"fields": {"ref.id": "no such hosted event"}}
                )
            creator = found.get("host_id")
        if body.to_user_id is not None and creator != body.to_user_id:
            raise NotTheCreator(
                f"{body.to_user_id} is not the {'designer' if kind == 'design' else 'host'} of {kind} {ref_id!r}: "
                "tips go to the one who made it",
                {"fields": {"to_user_id": f"must be the {kind}'s creator, or left out"}},
            )
        return str(creator)

    @staticmethod
    def _check_sender(sender: Profile, now: dt.datetime, min_days: int) -> None:
        ready = rules.old_enough_at(sender.created_at or iso(now), min_days)
        if now < ready:
            raise AccountTooNew(
                f"accounts can tip once they are {min_days} days old; yours can from {iso(ready)}",
                {"min_account_age_days": min_days, "can_tip_from": iso(ready)},
            )

    def _replayed(self, first: dict[str, Any], request: dict[str, Any], user_id: str) -> rules.Tip:
        if first["request_hash"] != request["request_hash"]:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another tip; use a new one", {"tip_id": first["tip_id"]}
            )
        tip = self._repo.tip(first["tip_id"])
        assert tip is not None  # written in the same transaction as the request record
        return _view(tip, self._accounts.load(user_id).points_available)

    # -- review --------------------------------------------------------------------------------------------
    def count(self, tips: list[dict[str, Any]], attempts: int = 8) -> int:
        """Add tips to their day's sender → recipient sums, each once (the stream consumer). How many now."""
        return once_in_groups([(t, day_of(t)) for t in tips], self._repo.count, Counted, GROUP, attempts)

    def flows(self, query: rules.FlowQuery) -> rules.TipFlows:
        last = dt.date.fromisoformat(shanghai_day(self._clock.now()))
        days = [(last - dt.timedelta(days=n)).isoformat() for n in range(query.days - 1, -1, -1)]
        return rules.flows(days[0], days[-1], self._repo.flows(days))


def _view(tip: dict[str, Any], available: int) -> rules.Tip:
    """A tip as its sender sees it: the creator's user id only if they named it themselves."""
    return rules.Tip.model_validate(
        {**tip, "to_user_id": tip["to_user_id"] if tip.get("named_recipient") else None, "available": available}
    )


def day_of(tip: dict[str, Any]) -> str:
    return shanghai_day(dt.datetime.fromisoformat(tip["created_at"].replace("Z", "+00:00")))
