"""The issuance policy: versions merchandisers draft and schedule, and the book every other service asks "what is
the policy at this instant?" (the schedule cached per container, read at most once a minute)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.clock import Clock, iso
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.adapters.dynamo import LostRace
from chalicelib.adapters.policy_repo import PolicyRepository
from chalicelib.adapters.users_repo import UserRepository
from chalicelib.domain import policy as rules
from chalicelib.domain.errors import Conflict, NotFound, TooSoon
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
        self._entries: list[tuple[rules.Scheduled, rules.Policy]] = []
        self._read_at: Optional[dt.datetime] = None
        self._parsed: dict[int, rules.Policy] = {}  # a version's policy never changes: parse it once

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

    def entries(self) -> list[tuple[rules.Scheduled, rules.Policy]]:
        now = self._clock.now()
        with self._lock:
            fresh = self._read_at is not None and abs(now - self._read_at) < dt.timedelta(
                seconds=rules.SCHEDULE_CACHE_S
            )
            if fresh:
                return self._entries
        entries = self._load()
        with self._lock:
            self._entries, self._read_at = entries, now
        return entries

    def forget(self) -> None:
        """This container changed the schedule: read it again on the next request."""
        with self._lock:
            self._read_at = None

    def _load(self) -> list[tuple[rules.Scheduled, rules.Policy]]:
        head = self._repo.head(consistent=False)
        if head is None:
            return [(rules.Scheduled(1, FOREVER), self._first())]
        loaded = []
        for entry in head["entries"]:
            version = int(entry["version"])
            if version not in self._parsed:
                self._parsed[version] = rules.Policy.model_validate(entry["policy"])
            loaded.append((rules.Scheduled(version, entry["effective_from"]), self._parsed[version]))
        return loaded


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
        schedule = _schedule(head)
        current = rules.in_force(schedule, now)
        waiting = [s for s in schedule if s.effective_from > now]
        versions = {v["version"]: v for v in self._versions([current.version, *(s.version for s in waiting)])}
        return rules.PolicyOverview(
            in_force=self._view(versions[current.version], schedule, now),
            scheduled=[self._view(versions[s.version], schedule, now) for s in waiting],
        )

    def page(self, limit: int, cursor: Optional[str]) -> rules.VersionPage:
        now, head = iso(self._clock.now()), self._head()
        if head.get("founded") is False:  # nothing changed yet: the history is version 1
            return rules.VersionPage(items=[self._view(self._first_version(), _schedule(head), now)], next_cursor=None)
        items, last = self._repo.page(limit, self._cursors.decode(cursor, SCOPE))
        schedule = _schedule(head)
        return rules.VersionPage(
            items=[self._view(i, schedule, now) for i in items], next_cursor=self._cursors.encode(last, SCOPE)
        )

    def tasks(self) -> rules.TaskList:
        scheduled, policy = self._book.version_at(self._clock.now())
        items = [rules.TaskView(task=name, **task.model_dump()) for name, task in sorted(policy.tasks.items())]
        return rules.TaskList(version=scheduled.version, items=items)

    def dry_run(self, number: int, days: int) -> rules.DryRun:
        """What the last `days` Shanghai days would have issued under version `number`, against what they issued:
        every task completion replayed (per user and day, in order, with the version's caps, per_day and tiers),
        every lever-priced ledger entry repriced against the version that priced it."""
        version = self._existing(number)
        new = rules.Policy.model_validate(version["policy"])
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
        head = self._head()
        versions: list[dict[str, Any]] = []
        start: Optional[dict[str, Any]] = None
        while head.get("founded") is not False:
            page, start = self._repo.page(100, start)
            versions += page
            if start is None:
                break
        if not versions:
            versions = [self._first_version()]
        kept = [v for v in versions if v["status"] != "draft"]
        schedule = [rules.Scheduled(int(v["version"]), v["effective_from"]) for v in kept]
        policies = {int(v["version"]): rules.Policy.model_validate(v["policy"]) for v in kept}
        return lambda at: policies[rules.in_force(schedule, at).version]

    # -- changing ----------------------------------------------------------------------------
    def create(self, actor: str, body: rules.VersionInput) -> rules.PolicyVersion:
        """A draft numbered after the last version, with its diff against the version that would be in force at
        its effective_from."""

        def attempt() -> rules.PolicyVersion:
            head = self._head()
            now = iso(self._clock.now())
            tx = self._repo.begin()
            number = int(head["next_version"])
            founding = head.get("founded") is False
            if founding:  # the first change writes version 1 and the head, already counting this draft
                self._repo.found(tx, self._first_version(), {**_head_item(head), "next_version": number + 1})
            version = {
                "version": number,
                "status": "draft",
                "effective_from": body.effective_from,
                "note": body.note,
                "created_by": actor,
                "created_at": now,
                "policy": body.policy.model_dump(mode="json"),
            }
            self._repo.add_draft(tx, version, None if founding else number)
            self._audit.record(tx, actor, "policy.draft", str(number), None, _audited(version), now)
            tx.commit()
            schedule = _schedule(head)
            before = self._policy_of(head, rules.in_force(schedule, body.effective_from).version)
            view = self._view(version, schedule, now)
            return view.model_copy(update={"diff": rules.diff(before, body.policy)})

        return on_lost_race(attempt, "the policy")

    def schedule(self, actor: str, number: int) -> rules.PolicyVersion:
        """The draft takes effect at its effective_from (at least a minute ahead). Two merchandisers scheduling at
        once: the first wins, the other gets 409 conflict and reads the new schedule."""
        version = self._existing(number)
        head = self._head()
        now = iso(self._clock.now())
        if version["status"] != "draft":
            raise Conflict(
                f"version {number} is {version['status']}: only a draft can be scheduled", {"version": number}
            )
        schedule = _schedule(head)
        problem = rules.schedule_problem(schedule, version["effective_from"], now)
        if problem:
            raise TooSoon(problem, {"effective_from": version["effective_from"], "now": now})
        current = rules.in_force(schedule, now)
        kept = [e for e in head["entries"] if e["effective_from"] > now or int(e["version"]) == current.version]
        entry = {"version": number, "effective_from": version["effective_from"], "policy": version["policy"]}
        entries = sorted([*kept, entry], key=lambda e: e["effective_from"])
        changed = Conflict("the schedule changed while you were scheduling; reload it", {"version": number})
        tx = self._repo.begin()
        self._repo.schedule(tx, number, entries, int(head["revision"]), on_conflict=changed, on_not_draft=changed)
        self._audit.record(
            tx,
            actor,
            "policy.schedule",
            str(number),
            {"status": "draft"},
            {"status": "scheduled", **_audited(version)},
            now,
        )
        try:
            tx.commit()
        except LostRace:
            raise changed from None
        self._book.forget()
        return self._view({**version, "status": "scheduled"}, _schedule({**head, "entries": entries}), now)

    # -- helpers -----------------------------------------------------------------------------
    def _head(self) -> dict[str, Any]:
        head = self._repo.head()
        if head is not None:
            return head
        return {
            "founded": False,
            "revision": 0,
            "next_version": 2,
            "entries": [{"version": 1, "effective_from": FOREVER, "policy": self._first_policy_json()}],
        }

    def _first_policy_json(self) -> dict[str, Any]:
        return self._book.first().model_dump(mode="json")

    def _first_version(self) -> dict[str, Any]:
        return {
            "version": 1,
            "status": "scheduled",
            "effective_from": FOREVER,
            "note": "the deploy-time defaults",
            "created_by": "settings",
            "created_at": FOREVER,
            "policy": self._first_policy_json(),
        }

    def _existing(self, number: int) -> dict[str, Any]:
        found = self._repo.get(number) if number > 0 else None
        if found is None and number == 1:
            return self._first_version()
        if found is None:
            raise NotFound(f"no policy version {number}", {"version": number})
        return found

    def _versions(self, numbers: list[int]) -> list[dict[str, Any]]:
        return [self._existing(n) for n in dict.fromkeys(numbers)]

    def _policy_of(self, head: dict[str, Any], number: int) -> rules.Policy:
        entry = next(e for e in head["entries"] if int(e["version"]) == number)
        return rules.Policy.model_validate(entry["policy"])

    @staticmethod
    def _view(version: dict[str, Any], schedule: list[rules.Scheduled], now: str) -> rules.PolicyVersion:
        status = version["status"]
        if status != "draft":
            entry = rules.Scheduled(int(version["version"]), version["effective_from"])
            status = rules.status_at(entry, schedule, now) if entry in schedule else "superseded"
        fields = {k: version[k] for k in ("version", "effective_from", "note", "created_by", "created_at", "policy")}
        return rules.PolicyVersion.model_validate({**fields, "status": status})


def _schedule(head: dict[str, Any]) -> list[rules.Scheduled]:
    return [rules.Scheduled(int(e["version"]), e["effective_from"]) for e in head["entries"]]


def _head_item(head: dict[str, Any]) -> dict[str, Any]:
    return {k: head[k] for k in ("revision", "next_version", "entries")}


def _audited(version: dict[str, Any]) -> dict[str, Any]:
    return {k: version[k] for k in ("version", "effective_from", "note")}
