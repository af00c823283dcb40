"""The one place where domain and validation errors become HTTP statuses and error bodies."""

from __future__ import annotations

import json
from typing import Any, Optional

from chalice import Response
from pydantic import ValidationError

from chalicelib import logs
from chalicelib.domain.errors import DomainError

log = logs.get("api")

STATUS_BY_CODE = {
    "invalid_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "owner_only": 403,
    "tier_too_low": 403,
    "already_registered": 409,
    "event_full": 409,
    "not_found": 404,
    "method_not_allowed": 405,
    "already_exists": 409,
    "already_checked_in": 409,
    "already_referred": 409,
    "budget_exhausted": 409,
    "insufficient_points": 409,
    "self_referral": 422,
    "invalid_points_split": 422,
    "cash_below_minimum": 422,
    "idempotency_key_reused": 422,
    "not_available": 409,
    "not_yet_on_sale": 409,
    "purchase_limit": 409,
    "coupon_not_applicable": 422,
    "coupon_limit": 409,
    "not_cancellable": 409,
    "too_many_open_designs": 409,
    "too_many_pending_orders": 409,
    "price_changed": 409,
    "already_voted": 409,
    "not_a_buyer": 403,
    "already_reviewed": 409,
    "own_review": 403,
    "own_design": 403,
    "already_claimed": 409,
    "envelope_empty": 409,
    "envelope_expired": 410,
    "not_in_audience": 403,
    "own_envelope": 403,
    "send_limit_reached": 409,
    "code_invalid": 409,
    "refund_exceeds_payment": 409,
    "slot_full": 409,
    "not_eligible": 403,
    "poll_not_open": 409,
    "self_tip": 422,
    "account_too_new": 403,
    "tip_limit_reached": 409,
    "receive_limit_reached": 409,
    "not_the_creator": 422,
    "invalid_signature": 400,
    "payment_provider_error": 502,
    "conflict": 409,
    "too_soon": 409,
    "unknown_task": 422,
    "insufficient_stock": 409,
    "invalid_status_transition": 409,
    "already_shipped": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "internal_error": 500,
    "unavailable": 503,
}


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not on every response


def json_response(body: Any, status: int, headers: Optional[dict[str, Any]] = None) -> Response:
    """JSON as UTF-8 (Chinese titles stay readable), not ASCII escapes."""
    return json_text_response(_JSON.encode(body), status, headers)


def json_text_response(text: str, status: int, headers: Optional[dict[str, Any]] = None) -> Response:
    """A body already written as compact UTF-8 JSON (a model's `model_dump_json`)."""
    return Response(
        body=text, status_code=status, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


def error_response(
    code: str,
    message: str,
    details: Optional[dict[str, Any]] = None,
    status: Optional[int] = None,
    headers: Optional[dict[str, Any]] = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return json_response(body, status or STATUS_BY_CODE.get(code, 400), headers)


def from_domain(exc: DomainError) -> Response:
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if exc.code == "unauthorized"
        else ({"Retry-After": "1"} if exc.code == "unavailable" else None)
    )
    return error_response(exc.code, exc.message, exc.details, headers=headers)


def field_errors(exc: ValidationError, whole: str = "body") -> dict[str, str]:
    """{"skus.0.price_fen": "Input should be a multiple of 10", ...}; `whole` names a top-level error."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):  # a union's tag named "~..." is not a field: left out of the path
        path = ".".join(str(p) for p in err["loc"] if not str(p).startswith("~")) or whole
        fields.setdefault(path, err["msg"])
    return fields


def from_validation(exc: ValidationError, where: str) -> Response:
    return error_response("invalid_request", f"the request {where} is not valid", {"fields": field_errors(exc, where)})


_BUSY = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


def unexpected(exc: Exception) -> Response:
    """A bug (500, logged), or a store that is down or overloaded (503 with Retry-After, logged)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError  # only when something failed

    if isinstance(exc, (ConnectionError, HTTPClientError)) or (
        isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _BUSY
    ):
        log.warning("the store is unavailable", exc_info=True)
        return error_response(
            "unavailable", "the shop is briefly unavailable; retry in a moment", headers={"Retry-After": "1"}
        )
    log.exception("unhandled error")
    return error_response("internal_error", "something went wrong on our side; it has been logged")


def contract_shaped(response: Response) -> Response:
    """Rewrite Chalice's own error bodies ({"Code","Message"}) into the contract's shape."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    codes = {405: "method_not_allowed", 415: "unsupported_media_type", 400: "invalid_request"}
    code = codes.get(response.status_code, "internal_error")
    return error_response(
        code, str(body.get("Message", "")), status=response.status_code, headers=dict(response.headers)
    )
