"""The merchandiser console: its static files served by the app (they deploy with it), and its configuration.

The page calls the same public API with the merchandiser's token; nothing here reads data. Every response carries a
Content-Security-Policy that allows only the console's own script and style and calls to this origin."""

from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import PUBLIC, Ctx, route
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
# What /console/{name} may serve: a script module or a style sheet of chalicelib/console/, by a plain name (no
# slash, no dot segment); the page itself is only /console.
ASSET_NAME = re.compile(r"[a-z0-9_-]+\.(js|css)")
TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
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


@lru_cache(maxsize=1)
def assets() -> frozenset[str]:
    """The names /console/{name} serves, listed once from the directory: a request's name is looked up here and never
    joined to a path unless it is one of them."""
    return frozenset(p.name for p in CONSOLE_DIR.iterdir() if p.is_file() and ASSET_NAME.fullmatch(p.name))


@lru_cache(maxsize=None)
def _read(name: str) -> str:
    return (CONSOLE_DIR / name).read_text(encoding="utf-8")


def _file(name: str, content_type: str) -> Response:
    return Response(body=_read(name), status_code=200, headers={"Content-Type": content_type, **HEADERS})


@route(bp, "/console", auth=PUBLIC, tag="console", summary="The merchandiser console (an HTML page over this API)")
def page(ctx: Ctx) -> Response:
    return _file("index.html", "text/html; charset=utf-8")


@route(
    bp,
    "/console/{name}",
    auth=PUBLIC,
    tag="console",
    errors=("not_found",),
    summary="The console's script modules and style sheet (app.js, app.css, ...) and configuration (config.json)",
)
def asset(ctx: Ctx, name: str) -> Response:
    if name == "config.json":
        return Response(body=_config(ctx), status_code=200, headers={"Content-Type": "application/json", **HEADERS})
    if name not in assets():
        raise NotFound(f"no console file {name!r}", {"name": name})
    return _file(name, TYPES[name.rsplit(".", 1)[1]])


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
