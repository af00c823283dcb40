"""The merchandiser console: three static files served by the app (they deploy with it), and its configuration.

The page calls the same public API with the merchandiser's token; nothing here reads data. Every response carries a
Content-Security-Policy that allows only the console's own script and style and calls to this origin."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import PUBLIC, Ctx, route
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
DEMO_TOKEN_S = 8 * 3600


@lru_cache(maxsize=None)
def _read(name: str) -> str:
    return (Path(__file__).resolve().parent.parent / "console" / name).read_text(encoding="utf-8")


def _file(name: str) -> Response:
    return Response(body=_read(name), status_code=200, headers={"Content-Type": FILES[name], **HEADERS})


@route(bp, "/console", auth=PUBLIC, tag="console", summary="The merchandiser console (an HTML page over this API)")
def page(ctx: Ctx) -> Response:
    return _file("index.html")


@route(
    bp,
    "/console/{name}",
    auth=PUBLIC,
    tag="console",
    errors=("not_found",),
    summary="The console's script, style sheet (app.js, app.css) and configuration (config.json: how to sign in)",
)
def asset(ctx: Ctx, name: str) -> Response:
    if name == "config.json":
        return Response(body=_config(ctx), status_code=200, headers={"Content-Type": "application/json", **HEADERS})
    if name not in FILES or name == "index.html":
        raise NotFound(f"no console file {name!r}", {"name": name})
    return _file(name)


def _config(ctx: Ctx) -> dict[str, object]:
    """Stage local offers a demo merchandiser token on the sign-in page (its secret is in the README anyway);
    other stages send the merchandiser to the Cognito hosted UI."""
    from chalicelib.settings import LOCAL_STAGE

    settings = ctx.services.settings
    config: dict[str, object] = {"stage": settings.stage, "signin_url": settings.console_signin_url}
    if settings.stage == LOCAL_STAGE:
        from chalicelib.adapters.tokens import mint_local_token

        config["demo_token"] = mint_local_token(
            settings.local_jwt_secret, "merch-1", ["merchandiser"], DEMO_TOKEN_S, int(time.time())
        )
    return config
