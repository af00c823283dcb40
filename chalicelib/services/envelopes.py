"""Points red envelopes (积分红包): sending one (from the sender's points, or a merchandiser's campaign), claiming a
share, showing it, and returning what is left at expiry, once."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
import secrets
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Optional

from chalicelib import logs
from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace, Replay, Transaction
from chalicelib.adapters.envelopes_repo import EnvelopeRepository, to_terms
from chalicelib.adapters.pseudonyms import Pseudonyms
from chalicelib.adapters.users_repo import new_profile, to_profile
from chalicelib.domain import envelopes as rules
from chalicelib.domain.errors import (
    Forbidden,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidRequest,
    NotFound,
    OwnerOnly,
    SendLimitReached,
)
from chalicelib.domain.points import Entry, Profile, shanghai_day
from chalicelib.services.accounts import Accounts, Plan
from chalicelib.services.campaigns import CampaignService
from chalicelib.services.retry import on_lost_race
from chalicelib.services.worklists import unseen
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.services.policy import PolicyBook

log = logs.get("envelopes")
_RNG = random.SystemRandom()  # how shares are split and which free share a claim takes: not predictable
_KNOWN_MAX = 1024  # envelopes whose (unchanging) terms a container keeps, so a crowd's claims do not re-read them


def _ref(envelope_id: str) -> str:
    return f"envelope:{envelope_id}"


def _digest(body: rules.EnvelopeInput) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class EnvelopeService:
    def __init__(
        self,
        repo: EnvelopeRepository,
        accounts: Accounts,
        campaigns: CampaignService,
        audit: AuditRepository,
        pseudonyms: Pseudonyms,
        cursors: CursorCodec,
        clock: Clock,
        settings: Settings,
        policy: PolicyBook,
    ) -> None:
        self._policy = policy
        self._repo = repo
        self._accounts = accounts
        self._campaigns = campaigns
        self._audit = audit
        self._pseudonyms = pseudonyms
        self._cursors = cursors
        self._clock = clock
        self._settings = settings
        self._known: dict[str, rules.Terms] = {}  # envelope id -> its terms
        self._emptied: dict[str, bool] = {}  # envelopes seen with every share claimed (for good)
        self._lock = threading.Lock()

    # -- sending -----------------------------------------------------------------------------
    def create(self, user_id: str, is_merchandiser: bool, idem_key: str, body: rules.EnvelopeInput) -> rules.Envelope:
        """A new envelope, its points taken in the same transaction as its Idempotency-Key record: a retry with the
        same key and body answers with the first envelope."""
        request = {"idempotency_key": idem_key, "request_hash": _digest(body)}
        first = self._repo.idempotency(user_id, idem_key)
        if first:
            return self._replayed(first, user_id, request)
        if body.campaign_id and not is_merchandiser:
            raise Forbidden("only merchandisers fund envelopes from a campaign", {"campaign_id": body.campaign_id})
        users = body.audience.user_ids if isinstance(body.audience, rules.UsersAudience) else None
        if users and user_id in users:
            raise InvalidRequest(
                "you cannot claim your own envelope: leave yourself out of the audience",
                {"fields": {"audience.user_ids": "must not include the sender"}},
            )
        now = self._clock.now()
        count = rules.shard_count(
            body.shares, self._settings.envelope_shares_per_shard, self._settings.envelope_max_shards
        )
        dealt = rules.deal(rules.split_points(body.total_points, body.shares, body.split, _RNG), count)
        envelope: dict[str, Any] = {
            "envelope_id": f"rp-{secrets.token_hex(12)}",
            "sender_id": user_id,
            "funded_by": "campaign" if body.campaign_id else "points",
            "campaign_id": body.campaign_id,
            "total_points": body.total_points,
            "shares": body.shares,
            "split": body.split,
            "audience_kind": body.audience.kind,
            "audience_size": len(users) if users else None,
            "greeting": body.greeting,
            "shard_count": count,
            "luckiest_at": list(rules.largest(dealt)),
            "created_at": iso(now),
            "expires_at": iso(now + dt.timedelta(seconds=body.expires_in_s)),
        }
        request["created_at"] = iso(now)
        try:
            if body.campaign_id:
                self._fund_from_campaign(envelope, users, dealt, request)
            else:
                self._fund_from_points(envelope, users, dealt, request, is_merchandiser)
        except (Replay, InsufficientPoints, SendLimitReached):
            first = self._repo.idempotency(user_id, idem_key)  # a twin request with this key got there first
            if first is None:
                raise
            return self._replayed(first, user_id, request)
        return self._view(
            {**envelope, "user_ids": users},
            [rules.Shard(k, tuple(a)) for k, a in enumerate(dealt)],
            [],
            None,
            user_id,
            True,
        )

    def _fund_from_points(
        self,
        envelope: dict[str, Any],
        users: Optional[list[str]],
        dealt: list[list[int]],
        request: dict[str, Any],
        is_merchandiser: bool,
    ) -> None:
        total, limit = envelope["total_points"], self._policy.current().envelopes.daily_send_points

        def plan(profile: Profile, now: dt.datetime, tx: Transaction) -> Plan:
            if profile.tier != "owner" and not is_merchandiser:
                raise OwnerOnly("only verified vehicle owners send points red envelopes", {"tier": profile.tier})
            if profile.points_available < total:
                raise InsufficientPoints(
                    f"you have {profile.points_available} points available, not {total}",
                    {"available": profile.points_available, "required": total},
                )
            day = shanghai_day(now)
            sent = profile.sent_on(day)
            if sent + total > limit:
                raise SendLimitReached(
                    f"you can send {limit} points in envelopes a day (Asia/Shanghai); "
                    f"{max(0, limit - sent)} are left today",
                    {"limit": limit, "sent_today": sent, "day": day},
                )
            self._repo.add(tx, envelope, users, dealt, request, on_replay=Replay)
            entry = Entry(delta=-total, kind="envelope_sent", ref=_ref(envelope["envelope_id"]))
            return Plan(replace(profile.posted([entry]), sent_day=day, sent_today=sent + total), [entry])

        self._accounts.change(envelope["sender_id"], plan)

    def _fund_from_campaign(
        self, envelope: dict[str, Any], users: Optional[list[str]], dealt: list[list[int]], request: dict[str, Any]
    ) -> None:
        eid, at = envelope["envelope_id"], envelope["created_at"]
        record = {
            "sk": f"ENVELOPE#{eid}",
            "envelope_id": eid,
            "points": envelope["total_points"],
            "sender_id": envelope["sender_id"],
            "created_at": at,
        }

        def attempt() -> None:
            tx = self._repo.begin()
            self._repo.add(tx, envelope, users, dealt, request, on_replay=Replay)
            self._campaigns.fund(tx, envelope["campaign_id"], envelope["total_points"], record, on_replay=Replay)
            self._audit.record(tx, envelope["sender_id"], "envelope.create", eid, None, envelope, at)
            tx.commit()

        on_lost_race(attempt, f"campaign {envelope['campaign_id']!r}")

    def _replayed(self, first: dict[str, Any], user_id: str, request: dict[str, Any]) -> rules.Envelope:
        if first["request_hash"] != request["request_hash"]:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another envelope; use a new one",
                {"envelope_id": first["envelope_id"]},
            )
        return self.get(user_id, False, first["envelope_id"])

    # -- claiming ----------------------------------------------------------------------------
    def claim(self, user_id: str, envelope_id: str) -> rules.EnvelopeClaim:
        """One share for one user, once. Reads the claimant's profile, their claim and every shard in one
        BatchGetItem (eventually consistent the first time: the write's conditions catch a stale read, and a retry
        reads consistently); picks a free share and takes it in one transaction with their account."""
        terms = self._terms(envelope_id)
        rules.admit(terms, user_id)
        attempts = itertools.count()

        def attempt() -> rules.EnvelopeClaim:
            retry = next(attempts) > 0
            at = iso(self._clock.now())
            self._check_open(terms, user_id, at)
            profile_item, mine, shards = self._repo.claim_reads(envelope_id, user_id, terms.shard_count, retry)
            before = (
                self._accounts.settled(to_profile(profile_item))
                if profile_item
                else replace(new_profile(user_id, at), stored=False)
            )
            if mine:
                raise rules.already(envelope_id, mine["points"])
            if any(s.swept for s in shards):
                raise rules.expired(terms)
            rules.admit(terms, user_id, before.tier)
            pick = rules.pick_share(shards, user_id, retry, _RNG)
            if pick is None and not retry:
                raise LostRace()  # read again, consistently, before saying so
            if pick is None:
                self._remember(self._emptied, envelope_id)
                raise rules.empty(envelope_id)
            after = self._take(terms, user_id, pick, before, at)
            left = sum(len(s.free) for s in shards) - 1
            return rules.EnvelopeClaim(
                envelope_id=envelope_id,
                points=pick.points,
                available=after.points_available,
                shares_left=left,
                claimed_at=at,
            )

        return on_lost_race(attempt, f"envelope {envelope_id!r}")

    def _check_open(self, terms: rules.Terms, user_id: str, at: str) -> None:
        if at >= terms.expires_at:
            raise rules.expired(terms)
        if self._emptied.get(terms.envelope_id):  # final: a crowd arriving late costs one read each, on their own item
            mine = self._repo.claim_of(terms.envelope_id, user_id)
            raise rules.already(terms.envelope_id, mine["points"]) if mine else rules.empty(terms.envelope_id)

    def _take(self, terms: rules.Terms, user_id: str, pick: rules.Pick, before: Profile, at: str) -> Profile:
        """The share off its shard, the claim item, the crown for the largest share and the points: one transaction."""
        eid = terms.envelope_id
        claim = {"envelope_id": eid, "user_id": user_id, "points": pick.points}
        claim.update(shard=pick.shard, index=pick.index, claimed_at=at)
        entry = Entry(delta=pick.points, kind="envelope_claim", ref=_ref(eid))
        after = before.posted([entry])
        tx = self._repo.begin()
        self._repo.take(tx, claim, on_claimed=lambda: rules.already(eid, None))
        if (pick.shard, pick.index) == terms.luckiest_at:
            self._repo.crown(tx, claim)
        self._accounts.record(tx, before, after, [entry], at)
        tx.commit()
        return after

    def _remember(self, kept: dict[str, Any], envelope_id: str, value: Any = True) -> None:
        with self._lock:  # chalice local serves requests in threads; Lambda one at a time
            if len(kept) >= _KNOWN_MAX:
                kept.pop(next(iter(kept)))
            kept[envelope_id] = value

    def _terms(self, envelope_id: str) -> rules.Terms:
        """The envelope's terms (who sent it, to whom, until when, its shards): they never change, so a container
        reads them once. Whether shares are left or the envelope was closed is read from the shards every time."""
        with self._lock:
            terms = self._known.get(envelope_id)
        if terms is None:
            terms = to_terms(self._existing(envelope_id))
            self._remember(self._known, envelope_id, terms)
        return terms

    def _existing(self, envelope_id: str) -> dict[str, Any]:
        envelope = self._repo.get(envelope_id)
        if envelope is None:
            raise NotFound(f"envelope {envelope_id!r} not found", {"envelope_id": envelope_id})
        return envelope

    # -- reading -----------------------------------------------------------------------------
    def get(self, viewer: str, is_merchandiser: bool, envelope_id: str) -> rules.Envelope:
        """For the sender, merchandisers and the audience (others: 403 not_in_audience)."""
        envelope = self._existing(envelope_id)
        privileged = is_merchandiser or viewer == envelope["sender_id"]
        if not privileged:
            terms = to_terms(envelope)
            rules.admit(terms, viewer)
            if terms.audience_kind == "owners":
                rules.admit(terms, viewer, self._accounts.load(viewer).tier)
        shards, mine = self._repo.shards(envelope_id, envelope["shard_count"], viewer)  # consistent: you see your claim
        claims = self._repo.recent_claims(envelope_id, envelope["shard_count"], rules.RECENT_CLAIMS)
        return self._view(envelope, shards, claims, mine, viewer, privileged)

    def sent(self, user_id: str, limit: int, cursor: Optional[str]) -> rules.EnvelopePage:
        scope = f"envelopes|{user_id}"
        items, last = self._repo.sent_page(user_id, limit, self._cursors.decode(cursor, scope))
        return rules.EnvelopePage(
            items=[rules.EnvelopeSummary.model_validate(i) for i in items],
            next_cursor=self._cursors.encode(last, scope),
        )

    def _view(
        self,
        envelope: dict[str, Any],
        shards: list[rules.Shard],
        claims: list[dict[str, Any]],
        mine: Optional[dict[str, Any]],
        viewer: str,
        privileged: bool,
    ) -> rules.Envelope:
        def shown(claim: Optional[dict[str, Any]]) -> Optional[rules.EnvelopeClaimView]:
            if claim is None:
                return None
            user = claim["user_id"]
            return rules.EnvelopeClaimView(
                claimant=self._pseudonyms.member(envelope["envelope_id"], user),
                user_id=user if privileged or user == viewer else None,
                points=claim["points"],
                claimed_at=claim["claimed_at"],
            )

        closed = any(s.swept for s in shards)
        free = [s.amounts[i] for s in shards for i in s.free] if not closed else []
        status = rules.status(envelope["shares"], shards, iso(self._clock.now()), envelope["expires_at"])
        official = envelope["funded_by"] == "campaign"
        audience = rules.AudienceView(
            kind=envelope["audience_kind"],
            user_ids=envelope.get("user_ids") if privileged else None,
            size=envelope.get("audience_size"),
        )
        return rules.Envelope(
            envelope_id=envelope["envelope_id"],
            official=official,
            sender_id=envelope["sender_id"] if privileged or not official else None,
            funded_by=envelope["funded_by"],
            campaign_id=envelope.get("campaign_id") if privileged else None,
            total_points=envelope["total_points"],
            shares=envelope["shares"],
            split=envelope["split"],
            audience=audience,
            greeting=envelope.get("greeting"),
            status=status,
            shares_left=len(free),
            points_left=sum(free),
            claims=[v for v in map(shown, claims) if v],
            luckiest=shown(envelope.get("luckiest")),
            my_claim=shown(mine),
            refunded_points=envelope.get("refunded_points"),
            expires_at=envelope["expires_at"],
            created_at=envelope["created_at"],
        )

    # -- expiry ------------------------------------------------------------------------------
    def sweep(self) -> int:
        """Scheduled: every envelope past its expiry returns what is left, once: to its sender's points (ledger
        `envelope_refund`) or to its campaign's budget. Returns how many envelopes it closed."""
        closed = 0
        for envelope_id in unseen(lambda: self._repo.due(iso(self._clock.now()))):
            try:
                closed += self._close(envelope_id)
            except Exception:
                log.exception("closing one envelope failed; the next run retries", extra={"envelope_id": envelope_id})
        return closed

    def _close(self, envelope_id: str) -> int:
        def attempt() -> int:
            envelope = self._existing(envelope_id)
            if envelope.get("swept_at"):
                return 0  # another sweep got there first
            shards, _ = self._repo.shards(envelope_id, envelope["shard_count"])
            left = sum(s.points_left for s in shards)
            at = iso(self._clock.now())
            tx = self._repo.begin()
            self._repo.close(tx, envelope, shards, left, at)
            if left and envelope["funded_by"] == "campaign":
                self._campaigns.give_back(
                    tx,
                    envelope["campaign_id"],
                    left,
                    {
                        "sk": f"ENVELOPE#{envelope_id}#RETURN",
                        "envelope_id": envelope_id,
                        "points": left,
                        "created_at": at,
                    },
                )
            elif left:
                self._accounts.post(
                    tx, envelope["sender_id"], [Entry(delta=left, kind="envelope_refund", ref=_ref(envelope_id))], at
                )
            tx.commit()
            log.info("envelope closed", extra={"envelope_id": envelope_id, "returned_points": left})
            return 1

        return on_lost_race(attempt, f"envelope {envelope_id!r}")
