"""Community votes weighted by contribution: merchandisers create and publish polls, voters cast ballots, everyone
reads the polls and, after close, their results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.catalog import PageQuery
from chalicelib.api.routing import PUBLIC, USER, Ctx, route

if TYPE_CHECKING:  # with the first request that needs them (routing.Model), not with the app
    from chalicelib.domain.polls import Ballot, Poll, PollPage, PollResults, Turnout

bp = Blueprint(__name__)
MERCH = "merchandiser"
POLLS = "chalicelib.domain.polls"


@route(
    bp,
    "/admin/polls",
    "POST",
    auth=MERCH,
    body=f"{POLLS}:PollInput",
    response=f"{POLLS}:Poll",
    status=201,
    tag="polls",
    summary="Create a poll or election (audited): options, how many a ballot may choose, when it opens (weights "
    "freeze then) and closes, who may vote, the weighting and the cap on one voter's share",
    errors=("already_exists",),
)
def create(ctx: Ctx) -> Poll:
    return ctx.services.polls.create(ctx.user_id, ctx.body)


@route(
    bp,
    "/admin/polls/{poll_id}/turnout",
    auth=MERCH,
    response=f"{POLLS}:Turnout",
    tag="polls",
    summary="Voters so far and their weight (live, from the tally shards)",
    errors=("not_found",),
)
def turnout(ctx: Ctx, poll_id: str) -> Turnout:
    return ctx.services.polls.turnout(poll_id)


@route(
    bp,
    "/admin/polls/{poll_id}/publish",
    "POST",
    auth=MERCH,
    response=f"{POLLS}:PollResults",
    tag="polls",
    summary="Publish the results (audited, once), from a minute after close",
    errors=("not_found", "too_soon", "invalid_status_transition", "conflict"),
)
def publish(ctx: Ctx, poll_id: str) -> PollResults:
    return ctx.services.polls.publish(ctx.user_id, poll_id)


@route(
    bp,
    "/polls",
    auth=PUBLIC,
    query=PageQuery,
    response=f"{POLLS}:PollPage",
    tag="polls",
    summary="Polls and elections, latest opening first: upcoming, open, closed and published",
)
def polls(ctx: Ctx) -> PollPage:
    return ctx.services.polls.page(ctx.query.limit, ctx.query.cursor)


@route(bp, "/polls/{poll_id}", auth=PUBLIC, response=f"{POLLS}:Poll", tag="polls", summary="A poll",
       errors=("not_found",))  # fmt: skip
def poll(ctx: Ctx, poll_id: str) -> Poll:
    return ctx.services.polls.get(poll_id)


@route(
    bp,
    "/polls/{poll_id}/ballots",
    "POST",
    auth=USER,
    body=f"{POLLS}:BallotInput",
    response=f"{POLLS}:Ballot",
    tag="polls",
    summary="Cast your ballot while the poll is open; a later one replaces it. Your weight is your contribution "
    "score at opens_at (earning more later changes nothing)",
    errors=("not_found", "poll_not_open", "not_eligible", "conflict"),
)
def cast(ctx: Ctx, poll_id: str) -> Ballot:
    return ctx.services.polls.cast(ctx.user_id, poll_id, ctx.body)


@route(
    bp,
    "/polls/{poll_id}/ballot",
    auth=USER,
    response=f"{POLLS}:Ballot",
    tag="polls",
    summary="Your ballot in this poll and the weight it counts with",
    errors=("not_found",),
)
def mine(ctx: Ctx, poll_id: str) -> Ballot:
    return ctx.services.polls.mine(ctx.user_id, poll_id)


@route(
    bp,
    "/polls/{poll_id}/results",
    auth=PUBLIC,
    response=f"{POLLS}:PollResults",
    tag="polls",
    summary="From a minute after close (the first read counts and seals them): per option voters, equal, weighted "
    "(capped) and quadratic tallies, turnout and the heaviest voter's share",
    errors=("not_found", "too_soon", "conflict"),
)
def results(ctx: Ctx, poll_id: str) -> PollResults:
    return ctx.services.polls.results(poll_id)
