"""The signed-in shopper's own profile."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import USER, Ctx, route
from chalicelib.services.users import Me

bp = Blueprint(__name__)


@route(bp, "/me", auth=USER, response=Me, tag="me", summary="Your tier, points balance and today's earning",
       errors=("unauthorized",))
def me(ctx: Ctx) -> Me:
    return ctx.services.users.me(ctx.user_id)
