"""One route decorator: registers the Chalice route, records it for OpenAPI, and runs the request
through authentication, validation and error mapping so every handler stays a short sentence."""

from __future__ import annotations

import contextvars
import functools
import hashlib
import importlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from chalice import Blueprint, Chalice, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap, logs
from chalicelib.api import errors
from chalicelib.domain.auth import Principal
from chalicelib.domain.errors import DomainError, Forbidden, NotFound

PUBLIC = None
USER = "user"  # any valid token
OPTIONAL = "optional"  # public; a token, if given, must be valid and tells the handler who is asking
PUBLIC_MAX_AGE_S = 30  # public catalog reads: a CDN or the app may reuse them this long, then revalidate
_PATH_PARAM = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_CORRELATION = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request: contextvars.ContextVar[Any] = contextvars.ContextVar("request")
_SHOPPER, _MERCHANDISER = {"shopper": True}, {"shopper": False}  # the contexts a model's answer is written in
_warm = False  # has this container served a request yet
ANY_TYPE = "*/*"  # a route of `route` takes a body of any type from API Gateway (`_body` checks it)
SHORT_WAY = "_lifeshop_short_way"  # set on each view `route` makes: Shop takes a request to it the short way


# A route's model: the class, or "module:Name", imported the first time a request or the OpenAPI document needs it
# (a model module off the order path, such as the policy's, then costs a cold start nothing).
Model = Union[type[BaseModel], str]


def _resolve(ref: Optional[Model]) -> Optional[type[BaseModel]]:
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module), name)
    return model


@dataclass
class RouteSpec:
    path: str
    method: str
    auth: Optional[str]
    summary: str
    tag: str
    body_ref: Optional[Model] = None
    query_ref: Optional[Model] = None
    response_ref: Optional[Model] = None
    status: int = 200
    errors: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    cache_s: int = 0  # public reads: Cache-Control max-age, a strong ETag, and 304 for If-None-Match

    @functools.cached_property
    def body(self) -> Optional[type[BaseModel]]:
        return _resolve(self.body_ref)

    @functools.cached_property
    def query(self) -> Optional[type[BaseModel]]:
        return _resolve(self.query_ref)

    @functools.cached_property
    def response(self) -> Optional[type[BaseModel]]:
        return _resolve(self.response_ref)


ROUTES: list[RouteSpec] = []


@dataclass
class Ctx:
    """What a handler gets: who is calling, the parsed body and query, and the services."""

    principal: Optional[Principal]
    body: Any
    query: Any
    headers: Any
    services: bootstrap.Container
    raw_body: bytes = b""

    @property
    def user_id(self) -> str:
        assert self.principal is not None
        return self.principal.user_id

    @property
    def is_merchandiser(self) -> bool:
        return self.principal is not None and "merchandiser" in self.principal.groups


def bind_request(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: the request of this call, per thread (chalice local serves in threads), and its
    correlation id (the caller's X-Correlation-Id if sane, else API Gateway's request id), echoed back.
    A container's first request builds what the container keeps (lazy imports, clients, services, validators)."""
    global _warm
    if not _warm:
        _warm = True
        with bootstrap.long_lived():
            return _bound(event, get_response)
    return _bound(event, get_response)


class Shop(Chalice):
    """chalice's app, with a shorter way from the Lambda event to a view that `route` below made. chalice's own builds
    a handler object and a middleware chain for each request and matches content types three times, for what those
    routes never use: CORS, binary types (every answer is text), a route's content types (they take any, and `_body`
    refuses a body that is not JSON with the contract's 415). Here such a request goes to its view through the
    middleware registered by the first request (app.py registers it at import). As in chalice, a view that fails,
    or answers with a line break in a header, is a 500 that passes back through the middleware (in the contract's
    shape, with the correlation id). Anything else (an unknown path or method, a view of chalice's own decorator,
    CORS, binary types or debug switched on) goes chalice's way."""

    _middleware: Optional[list[Callable[..., Any]]] = None

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        at = event.get("requestContext") or {}
        entry = self.routes.get(at.get("resourcePath") or "", {}).get(at.get("httpMethod") or "")
        if (
            entry is None
            or not getattr(entry.view_function, SHORT_WAY, False)
            or entry.cors is not None
            or self.api.binary_types
            or self.debug
        ):
            return super().__call__(event, context)
        if self._middleware is None:
            self._middleware = list(self._get_middleware_handlers("http"))
        self.lambda_context = context
        request = self.current_request = Request(event, context)

        def respond(_: Any) -> Response:
            try:
                response: Response = entry.view_function(
                    **{name: event["pathParameters"][name] for name in entry.view_args}
                )
                for value in response.headers.values():
                    if "\n" in value if isinstance(value, str) else any("\n" in str(v) for v in value):
                        raise ValueError(f"a line break in a header: {response.headers!r}")
            except Exception as exc:  # a bug: chalice would answer 500 too; this one is in the contract's shape
                return errors.unexpected(exc)
            return response

        try:
            for middleware in reversed(self._middleware[1:]):  # the first is called directly (the app has one)
                respond = _through(middleware, respond)
            response = self._middleware[0](request, respond) if self._middleware else respond(request)
        except Exception as exc:  # a middleware that failed: no middleware shapes this answer
            response = errors.unexpected(exc)
        return response.to_dict()


def _through(middleware: Callable[..., Any], get_response: Callable[[Any], Response]) -> Callable[[Any], Response]:
    return lambda request: middleware(request, get_response)


def _bound(event: Any, get_response: Callable[[Any], Response]) -> Response:
    token = _request.set(event)
    given = event.headers.get("x-correlation-id") or ""  # anything but 8-64 safe characters is replaced, not cut
    request_id = (event.context or {}).get("requestId") or uuid.uuid4().hex
    cid = logs.correlation_id.set(given if given and _CORRELATION.fullmatch(given) else request_id)
    try:
        response = errors.contract_shaped(get_response(event))
        response.headers["X-Correlation-Id"] = logs.correlation_id.get()
        return response
    finally:
        logs.correlation_id.reset(cid)
        _request.reset(token)


def route(
    bp: Blueprint,
    path: str,
    method: str = "GET",
    *,
    auth: Optional[str],
    summary: str,
    tag: str,
    body: Optional[Model] = None,
    query: Optional[Model] = None,
    response: Optional[Model] = None,
    status: int = 200,
    errors: tuple[str, ...] = (),
    headers: Optional[dict[str, str]] = None,
    cache_s: int = 0,
) -> Callable[..., Any]:
    spec = RouteSpec(path, method, auth, summary, tag, body, query, response, status, errors, headers or {}, cache_s)
    ROUTES.append(spec)

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        @bp.route(path, methods=[method], content_types=["application/json", ANY_TYPE])
        @functools.wraps(handler)
        def view(**params: str) -> Response:
            return _run(spec, handler, params)

        setattr(view, SHORT_WAY, True)
        return handler

    return decorator


def _run(spec: RouteSpec, handler: Callable[..., Any], params: dict[str, str]) -> Response:
    try:
        request = _request.get()
        for name, value in params.items():
            if not _PATH_PARAM.fullmatch(value or ""):
                raise NotFound(f"no {name.replace('_', ' ')} {value[:40]!r}", {name: value[:128]})
        services = bootstrap.container()
        principal = _authenticate(spec, request, services)
        ctx = Ctx(
            principal,
            _body(spec, request, services),
            _query(spec, request),
            request.headers,
            services,
            request.raw_body or b"",
        )
        result = handler(ctx, **params)
    except DomainError as exc:
        return errors.from_domain(exc)
    except _Invalid as exc:
        return exc.response
    except Exception as exc:  # a bug: still answer in the contract's shape, and log it
        return errors.unexpected(exc)
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):  # written by pydantic-core straight to JSON text, as compact as json_response
        view = _MERCHANDISER if ctx.is_merchandiser else _SHOPPER  # what only merchandisers see (designers of lines)
        response = errors.json_text_response(_json_text(result, view), spec.status)
    else:
        response = errors.json_response(result, spec.status)
    if spec.auth == OPTIONAL:
        response.headers["Vary"] = "Authorization"
    if not spec.cache_s:
        if ctx.principal is not None:  # balances, codes, statements: for the caller only, never kept by a cache
            response.headers["Cache-Control"] = "no-store"
        return response
    return _cacheable(response, spec.cache_s, request.headers.get("if-none-match"), private=ctx.principal is not None)


def _json_text(model: BaseModel, context: dict[str, bool]) -> str:
    """`model.model_dump_json(context=context)`, from its serializer: pydantic's wrapper only passes on the options'
    defaults; a frame less is 2-5 µs less for an answer in the bench (docs/decisions.md: "The quote after a wait")."""
    text: bytes = type(model).__pydantic_serializer__.to_json(model, context=context)
    return text.decode()


def _cacheable(response: Response, max_age_s: int, if_none_match: Optional[str], private: bool = False) -> Response:
    """A strong ETag of the exact body; a client (or a CDN) that has it gets 304 with no body. An answer that depends
    on the caller's token is `private` (a shared cache keeps it for no one else)."""
    text = response.body if isinstance(response.body, str) else ""
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    scope = "private" if private else "public"
    headers: dict[str, str | list[str]] = {"ETag": etag, "Cache-Control": f"{scope}, max-age={max_age_s}"}
    if "Vary" in response.headers:
        headers["Vary"] = response.headers["Vary"]
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(body="", status_code=304, headers=headers)
    response.headers.update(headers)
    return response


class _Invalid(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _authenticate(spec: RouteSpec, request: Any, services: bootstrap.Container) -> Optional[Principal]:
    if spec.auth is PUBLIC or (spec.auth == OPTIONAL and not request.headers.get("authorization")):
        return None
    principal = services.tokens.verify(request.headers.get("authorization"))
    if spec.auth == OPTIONAL:
        return principal  # a read: no profile is made for it
    if spec.auth != USER and spec.auth not in principal.groups:
        raise Forbidden(f"this needs the {spec.auth} role", {"required_group": spec.auth})
    services.users.ensure_profile(principal.user_id)
    return principal


def _body(spec: RouteSpec, request: Any, services: bootstrap.Container) -> Any:
    if spec.body is None:
        return None
    raw = request.raw_body or b""
    if len(raw) > services.settings.max_body_bytes:
        raise _Invalid(
            errors.error_response(
                "payload_too_large", f"the body is larger than {services.settings.max_body_bytes} bytes"
            )
        )
    content_type = (request.headers.get("content-type") or "application/json").lower()
    if "json" not in content_type:
        raise _Invalid(
            errors.error_response(
                "unsupported_media_type", "send the body as application/json", {"content_type": content_type[:100]}
            )
        )
    if not raw.strip():
        raise _Invalid(
            errors.error_response("invalid_request", "a JSON body is required", {"fields": {"body": "missing"}})
        )
    try:
        return spec.body.model_validate_json(raw)
    except ValidationError as exc:
        raise _Invalid(errors.from_validation(exc, "body")) from None


def _query(spec: RouteSpec, request: Any) -> Any:
    if spec.query is None:
        return None
    try:
        return spec.query.model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise _Invalid(errors.from_validation(exc, "query")) from None
