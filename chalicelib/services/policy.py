"""The issuance policy: versions merchandisers draft and schedule, and the book every other service asks "what is
the policy at this instant?" (the schedule cached per container, read at most once a minute)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.policy_repo import PolicyRepository
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import policy as rules
from chalicelib.domain.errors import Conflict, NotFound, TooSoon
from chalicelib.domain.lots import Terms, terms_at
from chalicelib.domain.points import shanghai_day
from chalicelib.services.retry import on_lost_race

FOREVER = "2000-01-01T00:00:00.000Z"  # version 1 is in force from before anything the shop recorded
SCOPE = "policy-versions"


class PolicyBook:
    """The schedule (every version in force or waiting, with its policy), as a container last read it. A request
    at instant t takes the version in force at t from it, so the switch at an effective_from is exact while the
    store is read at most once a minute (a version is scheduled at least that far ahead)."""

    def __init__(self, repo: PolicyRepository, clock: Clock, first: Callable[[], rules.Policy]) -> None:
        self._repo = repo
        self._clock = clock
        self._first = first  # version 1: the deploy-time defaults
        self._lock = threading.Lock()
        self._entries: tuple[tuple[rules.Scheduled, rules.Policy], ...] = ()
        self._read_at: Optional[dt.datetime] = None

    def first(self) -> rules.Policy:
        return self._first()

    def current(self) -> rules.Policy:
        """The policy in force now (this request's instant)."""
        return self.at(self._clock.now())

    def at(self, moment: dt.datetime) -> rules.Policy:
        return self.version_at(moment)[1]

    def version_at(self, moment: dt.datetime) -> tuple[rules.Scheduled, rules.Policy]:
        entries = self.entries()
        found = rules.in_force([s for s, _ in entries], iso(moment))
        return next(e for e in entries if e[0] == found)

    def expiry_at(self, moment: dt.datetime) -> Optional[Terms]:
        """Points' expiry in force at `moment`, with the opening lot of its run (chalicelib/domain/lots.py)."""
        runs = [(s.effective_from, p.expiry.months if p.expiry else None) for s, p in self.entries()]
        return terms_at(runs, iso(moment))

    def entries(self) -> tuple[tuple[rules.Scheduled, rules.Policy], ...]:
        now = self._clock.now()
        with self._lock:
            age = abs(now - self._read_at) if self._read_at is not None else None
            if age is not None and age < dt.timedelta(seconds=rules.SCHEDULE_CACHE_S):
                return self._entries
        head = self._repo.head(consistent=False)
        entries = head.entries if head else ((rules.Scheduled(1, FOREVER), self._first()),)
        with self._lock:
            self._entries, self._read_at = entries, now
        return entries

    def forget(self) -> None:
        """This container changed the schedule: read it again on the next request."""
        with self._lock:
            self._read_at = None


class PolicyService:
    def __init__(
        self,
        repo: PolicyRepository,
        book: PolicyBook,
        audit: AuditRepository,
        cursors: CursorCodec,
        clock: Clock,
        users: UserRepository,
    ) -> None:
        self._users = users
        self._repo = repo
        self._book = book
        self._audit = audit
        self._cursors = cursors
        self._clock = clock

    # -- reading -----------------------------------------------------------------------------
    def overview(self) -> rules.PolicyOverview:
        now = iso(self._clock.now())
        head = self._head()
        current = rules.in_force(head.schedule, now)
        waiting = [s for s in head.schedule if s.effective_from > now]
        return rules.PolicyOverview(
            in_force=_view(self._existing(current.version), head, now),
            scheduled=[_view(self._existing(s.version), head, now) for s in waiting],
        )

    def page(self, limit: int, cursor: Optional[str]) -> rules.VersionPage:
        now, head = iso(self._clock.now()), self._head()
        if not head.founded:  # nothing changed yet: the history is version 1
            return rules.VersionPage(items=[_view(self._first_version(), head, now)], next_cursor=None)
        records, last = self._repo.page(limit, self._cursors.decode(cursor, SCOPE))
        return rules.VersionPage(
            items=[_view(r, head, now) for r in records], next_cursor=self._cursors.encode(last, SCOPE)
        )

    def tasks(self) -> rules.TaskList:
        scheduled, policy = self._book.version_at(self._clock.now())
        items = [rules.TaskView(task=name, **task.model_dump()) for name, task in sorted(policy.tasks.items())]
        return rules.TaskList(version=scheduled.version, items=items)

    def dry_run(self, number: int, days: int) -> rules.DryRun:
        """What the last `days` Shanghai days would have issued under version `number`, against what they issued:
        every task completion replayed (per user and day, in order, with the version's caps, per_day and tiers),
        every lever-priced ledger entry repriced against the version that priced it."""
        new = self._existing(number).policy
        last = dt.datetime.fromisoformat(shanghai_day(self._clock.now()))
        dates = [(last - dt.timedelta(days=n)).date().isoformat() for n in range(days - 1, -1, -1)]
        with ThreadPoolExecutor(max_workers=8) as pool:  # 2 × 4 Queries a day, each waiting on DynamoDB
            done = [c for found in pool.map(self._users.completions, dates) for c in found]
            priced = [e for found in pool.map(self._users.issued_entries, dates) for e in found]
        completions = [
            rules.Completion(c["user_id"], c["task"], c["tier"], c["day"], c["at"], int(c.get("points_awarded", 0)))
            for c in done
        ]
        entries = [rules.LeverEntry(e["kind"], e["ref"], int(e["delta"]), e["created_at"]) for e in priced]
        return rules.dry_run(number, dates[0], dates[-1], completions, entries, self._history(), new)

    def _history(self) -> Callable[[str], rules.Policy]:
        """The policy that was in force at any instant, from every version ever scheduled."""
        records: list[rules.VersionRecord] = []
        start: Optional[dict[str, object]] = None
        founded = self._repo.head() is not None  # nothing written yet: version 1 alone
        while founded:
            found, start = self._repo.page(100, start)
            records += found
            founded = start is not None
        kept = [r for r in records or [self._first_version()] if r.status != "draft"]
        schedule, policies = [r.entry for r in kept], {r.version: r.policy for r in kept}
        return lambda at: policies[rules.in_force(schedule, at).version]

    # -- changing ----------------------------------------------------------------------------
    def create(self, actor: str, body: rules.VersionInput) -> rules.PolicyVersion:
        """A draft numbered after the last version, with its diff against the version that would be in force at
        its effective_from."""

        def attempt() -> rules.PolicyVersion:
            head = self._head()
            now = iso(self._clock.now())
            draft = rules.VersionRecord(
                head.next_version, "draft", body.effective_from, body.note, actor, now, body.policy
            )
            tx = self._repo.begin()
            if not head.founded:  # the first change writes version 1 and the head, already counting this draft
                self._repo.found(tx, self._first_version(), replace(head, next_version=draft.version + 1))
            self._repo.add_draft(tx, draft, head.next_version if head.founded else None)
            self._audit.record(tx, actor, "policy.draft", str(draft.version), None, _audited(draft), now)
            tx.commit()
            before = head.policy_of(rules.in_force(head.schedule, body.effective_from).version)
            return _view(draft, head, now).model_copy(update={"diff": rules.diff(before, body.policy)})

        return on_lost_race(attempt, "the policy")

    def schedule(self, actor: str, number: int) -> rules.PolicyVersion:
        """The draft takes effect at its effective_from (at least a minute ahead). Two merchandisers scheduling at
        once: the first wins, the other gets 409 conflict and reads the new schedule."""
        draft = self._existing(number)
        head = self._head()
        now = iso(self._clock.now())
        if draft.status != "draft":
            raise Conflict(f"version {number} is {draft.status}: only a draft can be scheduled", {"version": number})
        problem = rules.schedule_problem(head.schedule, draft.effective_from, now)
        if problem:
            raise TooSoon(problem, {"effective_from": draft.effective_from, "now": now})
        current = rules.in_force(head.schedule, now)
        kept = [(s, p) for s, p in head.entries if s.effective_from > now or s == current]
        entries = tuple(sorted([*kept, (draft.entry, draft.policy)], key=lambda e: e[0].effective_from))
        changed = Conflict("the schedule changed while you were scheduling; reload it", {"version": number})
        tx = self._repo.begin()
        self._repo.schedule(tx, number, entries, head.revision, on_conflict=changed, on_not_draft=changed)
        after = {"status": "scheduled", **_audited(draft)}
        self._audit.record(tx, actor, "policy.schedule", str(number), {"status": "draft"}, after, now)
        try:
            tx.commit()
        except LostRace:
            raise changed from None
        self._book.forget()
        return _view(replace(draft, status="scheduled"), replace(head, entries=entries), now)

    # -- helpers -----------------------------------------------------------------------------
    def _head(self) -> rules.Head:
        head = self._repo.head()
        if head is not None:
            return head
        return rules.Head(0, 2, ((rules.Scheduled(1, FOREVER), self._book.first()),), founded=False)

    def _first_version(self) -> rules.VersionRecord:
        return rules.VersionRecord(
            1, "scheduled", FOREVER, "the deploy-time defaults", "settings", FOREVER, self._book.first()
        )

    def _existing(self, number: int) -> rules.VersionRecord:
        found = self._repo.get(number) if number > 0 else None
        if found is None and number == 1:
            return self._first_version()
        if found is None:
            raise NotFound(f"no policy version {number}", {"version": number})
        return found


def _view(record: rules.VersionRecord, head: rules.Head, now: str) -> rules.PolicyVersion:
    """A version as merchandisers see it: its status now (a scheduled one is waiting, in force or superseded)."""
    status: rules.VersionStatus = record.status
    if record.status == "scheduled":
        status = rules.status_at(record.entry, head.schedule, now) if record.entry in head.schedule else "superseded"
    return rules.PolicyVersion(
        version=record.version,
        status=status,
        effective_from=record.effective_from,
        note=record.note,
        created_by=record.created_by,
        created_at=record.created_at,
        policy=record.policy,
    )


def _audited(record: rules.VersionRecord) -> dict[str, object]:
    return {"version": record.version, "effective_from": record.effective_from, "note": record.note}
