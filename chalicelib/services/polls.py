"""Community votes weighted by contribution: merchandisers create polls (audited), voters cast one ballot each
(a later one replaces it) with a weight frozen at the poll's opening, and after close everyone reads the results
counted equally, weighted and quadratically, side by side; a merchandiser publishes them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.contribution_repo import ContributionRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import Replay
from chalicelib.adapters.polls_repo import PollRepository
from chalicelib.domain import polls as rules
from chalicelib.domain.errors import (
    AlreadyExists,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    PollNotOpen,
    Unavailable,
)
from chalicelib.services.retry import on_lost_race

BACKDATE = dt.timedelta(minutes=1)  # opens_at may lie this far in the past (the merchandiser's clock, a slow form)
AHEAD = dt.timedelta(days=366)  # and at most this far ahead


class PollService:
    def __init__(
        self,
        repo: PollRepository,
        contribution: ContributionRepository,
        audit: AuditRepository,
        cursors: CursorCodec,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._contribution = contribution
        self._audit = audit
        self._cursors = cursors
        self._clock = clock

    # -- merchandisers -----------------------------------------------------------------------------------
    def create(self, actor: str, body: rules.PollInput) -> rules.Poll:
        now = self._clock.now()
        if body.opens_at < now - BACKDATE:  # weights freeze at opens_at: no picking a moment already past
            raise InvalidRequest(
                "opens_at is in the past", {"fields": {"opens_at": "must not be in the past (weights freeze then)"}}
            )
        if body.opens_at > now + AHEAD:
            raise InvalidRequest("opens_at is too far ahead", {"fields": {"opens_at": "at most a year ahead"}})
        poll = {
            **body.model_dump(mode="json", exclude={"opens_at", "closes_at", "weight_cap_share"}),
            "opens_at": rules.instant(body.opens_at),
            "closes_at": rules.instant(body.closes_at),
            "weight_cap_share": str(body.weight_cap_share),
            "created_by": actor,
            "created_at": iso(now),
        }
        tx = self._repo.begin()
        self._repo.add(tx, poll, on_repeat=AlreadyExists(f"poll {body.poll_id!r} exists", {"poll_id": body.poll_id}))
        self._audit.record(tx, actor, "poll.created", body.poll_id, None, poll, iso(now))
        tx.commit()
        return self._view(poll)

    def turnout(self, poll_id: str) -> rules.Turnout:
        poll = self._existing(poll_id)
        sums = rules.shard_sums(self._repo.tallies(poll_id))
        return rules.Turnout(
            poll_id=poll_id,
            status=rules.status_at(poll, iso(self._clock.now())),
            voters=sums.get("ballots", 0),
            weight=sums.get("weight", 0),
        )

    def publish(self, actor: str, poll_id: str) -> rules.PollResults:
        """Announce the results (audited, once): counted and sealed first if nobody has read them yet."""
        poll = self._existing(poll_id)
        now = iso(self._clock.now())
        rules.check_counted(poll, now)
        results = self._settled(poll)
        tx = self._repo.begin()
        already = InvalidTransition(f"poll {poll_id!r} is published already", {"from": "published", "to": "published"})
        self._repo.publish(tx, poll_id, now, on_fail=already)
        after = {"published_at": now, "turnout": results.turnout, "weight": results.weight, "cap": results.cap}
        self._audit.record(tx, actor, "poll.published", poll_id, None, after, now)
        tx.commit()
        return results.model_copy(update={"published_at": now})

    # -- everyone ----------------------------------------------------------------------------------------
    def page(self, limit: int, cursor: Optional[str]) -> rules.PollPage:
        items, last = self._repo.page(limit, self._cursors.decode(cursor, "polls"))
        return rules.PollPage(items=[self._view(i) for i in items], next_cursor=self._cursors.encode(last, "polls"))

    def get(self, poll_id: str) -> rules.Poll:
        return self._view(self._existing(poll_id))

    def results(self, poll_id: str) -> rules.PollResults:
        poll = self._existing(poll_id)
        rules.check_counted(poll, iso(self._clock.now()))
        return self._settled(poll).model_copy(update={"published_at": poll.get("published_at")})

    def _settled(self, poll: dict[str, Any]) -> rules.PollResults:
        """The final results: stored on the poll by the first count after close + SETTLE, which seals the tally
        shards in the same transaction (a ballot still in flight then is refused, or the count is redone)."""
        if poll.get("results"):
            return rules.PollResults.model_validate(poll["results"])
        poll_id = poll["poll_id"]

        def attempt() -> rules.PollResults:
            stored = self._repo.get(poll_id) or poll  # a retry: another request may have stored them meanwhile
            if stored.get("results"):
                return rules.PollResults.model_validate(stored["results"])
            shards = self._repo.tallies(poll_id)
            results = count_results(self._repo, poll, shards)
            tx = self._repo.begin()
            self._repo.seal(tx, poll_id, shards, results.model_dump_json(), iso(self._clock.now()))
            tx.commit()
            return results

        try:
            return on_lost_race(attempt, f"the results of poll {poll_id!r}")
        except Replay:  # another request stored them first
            return rules.PollResults.model_validate(self._existing(poll_id)["results"])

    # -- voters ------------------------------------------------------------------------------------------
    def cast(self, user_id: str, poll_id: str, body: rules.BallotInput) -> rules.Ballot:
        """The voter's ballot: the first fixes their weight (contribution at opens_at); a later one replaces it."""

        def attempt() -> rules.Ballot:
            poll, before, profile = self._repo.for_ballot(poll_id, user_id)
            if poll is None:
                raise NotFound(f"poll {poll_id!r} not found", {"poll_id": poll_id})
            now = iso(self._clock.now())
            rules.check_open(poll, now)
            rules.check_choices(poll, body.choices)
            if before is None:
                contribution = self._contribution.score_at(user_id, poll["opens_at"])
                joined = profile.get("created_at", "") if profile else now
                rules.check_eligible(poll, (profile or {}).get("tier", "fan"), contribution, joined)
                weight = rules.weight_of(poll["weighting"], contribution)
            else:
                contribution, weight = int(before["contribution"]), int(before["weight"])
                if set(before["choices"]) == set(body.choices):
                    return rules.Ballot.model_validate(before)
            ballot = {
                "poll_id": poll_id,
                "user_id": user_id,
                "choices": body.choices,
                "weight": weight,
                "contribution": contribution,
                "cast_at": before["cast_at"] if before else now,
                "updated_at": now,
                "version": int(before["version"]) + 1 if before else 1,
            }
            tx = self._repo.begin()
            closed = PollNotOpen(f"poll {poll_id!r} has closed and its results are counted", {"poll_id": poll_id})
            self._repo.cast(tx, before, ballot, rules.tally_moves(before, ballot), on_sealed=closed)
            tx.commit()
            return rules.Ballot.model_validate(ballot)

        return on_lost_race(attempt, "your ballot")

    def mine(self, user_id: str, poll_id: str) -> rules.Ballot:
        ballot = self._repo.ballot(poll_id, user_id)
        if ballot is None:
            raise NotFound(f"you have no ballot in poll {poll_id!r}", {"poll_id": poll_id})
        return rules.Ballot.model_validate(ballot)

    def _view(self, poll: dict[str, Any]) -> rules.Poll:
        return rules.Poll.model_validate(
            {
                **poll,
                "status": rules.status_at(poll, iso(self._clock.now())),
                "weight_cap_share": float(poll["weight_cap_share"]),
            }
        )

    def _existing(self, poll_id: str) -> dict[str, Any]:
        poll = self._repo.get(poll_id)
        if poll is None:
            raise NotFound(f"poll {poll_id!r} not found", {"poll_id": poll_id})
        return poll


def count_results(
    repo: PollRepository, poll: dict[str, Any], shards: Optional[list[dict[str, Any]]] = None
) -> rules.PollResults:
    """The results from the shard sums and the heaviest ballots (a few reads, however many voted). The weight index
    is eventually consistent: unless it holds every ballot each shard counts, Unavailable (retry); the heaviest
    ballots' choices are then read from the table (a replacement may not have reached the index yet)."""
    poll_id = poll["poll_id"]
    shards = repo.tallies(poll_id) if shards is None else shards
    for shard in shards:
        number = int(shard["sk"].removeprefix("TALLY#"))
        if repo.indexed(poll_id, number) != int(shard.get("ballots", 0)):
            raise Unavailable("the results are still being counted; try again in a few seconds", {"poll_id": poll_id})
    heaviest = repo.heaviest(poll_id, rules.top_needed(float(poll["weight_cap_share"])))
    return rules.results(poll, rules.shard_sums(shards), repo.ballots_of(poll_id, [b["user_id"] for b in heaviest]))
