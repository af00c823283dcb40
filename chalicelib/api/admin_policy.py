"""Merchandiser: the central bank's issuance policy in versions with effective dates, and the tasks in force."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import Ctx, route

if TYPE_CHECKING:  # imported by the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.policy import (
        DryRun,
        PolicyOverview,
        PolicyVersion,
        TaskList,
        VersionPage,
    )

POLICY = "chalicelib.domain.policy"

bp = Blueprint(__name__)
MERCH = "merchandiser"


@route(
    bp,
    "/admin/policy",
    auth=MERCH,
    response=f"{POLICY}:PolicyOverview",
    tag="policy",
    summary="The policy version in force now and the versions scheduled to take effect",
)
def overview(ctx: Ctx) -> PolicyOverview:
    return ctx.services.policy.overview()


@route(
    bp,
    "/admin/policy/versions",
    auth=MERCH,
    query=PageQuery,
    response=f"{POLICY}:VersionPage",
    tag="policy",
    summary="Every policy version, newest first (drafts too), with its status now",
)
def versions(ctx: Ctx) -> VersionPage:
    return ctx.services.policy.page(ctx.query.limit, ctx.query.cursor)


@route(
    bp,
    "/admin/policy/versions",
    "POST",
    auth=MERCH,
    body=f"{POLICY}:VersionInput",
    response=f"{POLICY}:PolicyVersion",
    status=201,
    tag="policy",
    summary="A draft of a whole new policy with its effective date, and its diff against the version that "
    "would be in force then",
    errors=("conflict",),
)
def create_version(ctx: Ctx) -> PolicyVersion:
    return ctx.services.policy.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/policy/versions/{version}/schedule",
    "POST",
    auth=MERCH,
    response=f"{POLICY}:PolicyVersion",
    tag="policy",
    summary="Schedule a draft: it takes effect at its effective_from (at least 60 s ahead); never changed after",
    errors=("not_found", "too_soon", "conflict"),
)
def schedule(ctx: Ctx, version: str) -> PolicyVersion:
    return ctx.services.policy.schedule(ctx.user_id, _number(version))


@route(
    bp,
    "/admin/policy/versions/{version}/dry-run",
    "POST",
    auth=MERCH,
    query=f"{POLICY}:DryRunQuery",
    response=f"{POLICY}:DryRun",
    tag="policy",
    summary="What the last N days would have issued under a version (by source, against what they issued) and "
    "the liability change in fen; changes nothing",
    errors=("not_found",),
)
def dry_run(ctx: Ctx, version: str) -> DryRun:
    return ctx.services.policy.dry_run(_number(version), ctx.query.days)


@route(
    bp,
    "/admin/tasks",
    auth=MERCH,
    response=f"{POLICY}:TaskList",
    tag="policy",
    summary="The earning tasks in force now",
)
def tasks(ctx: Ctx) -> TaskList:
    return ctx.services.policy.tasks()


def _number(version: str) -> int:
    from chalicelib.domain.errors import NotFound

    if not version.isdigit() or len(version) > 9:
        raise NotFound(f"no policy version {version[:20]!r}", {"version": version[:20]})
    return int(version)
