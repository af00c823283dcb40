"""Pure rules: money, product validation, cursors, settings and the error table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.adapters.cursor import CursorCodec
from chalicelib.api.errors import STATUS_BY_CODE
from chalicelib.domain import errors
from chalicelib.domain.catalog import ProductInput, SkuInput
from chalicelib.domain.money import points_price
from chalicelib.settings import Settings, SettingsError


def test_points_price_is_exact_and_refuses_odd_fen():
    assert points_price(168000) == 16800 and points_price(10) == 1
    with pytest.raises(ValueError):
        points_price(15)


def test_points_price_sent_back_must_agree_with_price():
    assert SkuInput.model_validate({"sku": "A", "price_fen": 100, "points_price": 10}).points_price == 10
    with pytest.raises(ValidationError):
        SkuInput.model_validate({"sku": "A", "price_fen": 100, "points_price": 1})


def test_hotel_products_need_real_dates():
    base = {"category": "hotel", "title": "Inn", "title_zh": "客栈"}
    ok = ProductInput.model_validate(
        {**base, "skus": [{"sku": "H", "price_fen": 10, "attributes": {"date": "2027-02-28"}}]}
    )
    assert ok.skus[0].attributes["date"] == "2027-02-28"
    for date in ("2027-02-29", "tomorrow", "20270228"):
        with pytest.raises(ValidationError):
            ProductInput.model_validate({**base, "skus": [{"sku": "H", "price_fen": 10, "attributes": {"date": date}}]})


def test_cursor_round_trips_only_in_its_scope_and_with_its_key():
    codec = CursorCodec(b"k1")
    key = {"pk": "PRODUCT#a", "sk": "META"}
    cursor = codec.encode(key, "scope-a")
    assert codec.decode(cursor, "scope-a") == key
    assert codec.encode(None, "scope-a") is None
    for bad in (
        lambda: codec.decode(cursor, "scope-b"),
        lambda: CursorCodec(b"k2").decode(cursor, "scope-a"),
        lambda: codec.decode("!!!", "scope-a"),
        lambda: codec.decode("", "scope-a"),
    ):
        with pytest.raises(errors.InvalidRequest):
            bad()


def test_stages_other_than_local_refuse_to_start_without_real_settings(monkeypatch):
    with pytest.raises((SettingsError, ValidationError), match="LIFESHOP_JWKS_URL"):
        Settings(stage="prod")
    prod = Settings(
        stage="prod",
        jwt_issuer="https://iss",
        jwt_audience="app",
        jwks_url="https://iss/jwks",
        cursor_secret="s" * 32,
        stripe_api_key="sk_test_x",
        stripe_webhook_secret="whsec_x",
    )
    assert (
        prod.store_table == "lifeshop-prod-store" and prod.partner_queue("fresh") == "lifeshop-prod-partner-fresh.fifo"
    )
    with pytest.raises(ValidationError, match="jwks_url"):  # the keys that admit merchandisers come over TLS
        Settings(
            stage="prod",
            jwt_issuer="https://iss",
            jwt_audience="app",
            jwks_url="http://iss/jwks",
            cursor_secret="s" * 32,
            stripe_api_key="sk_test_x",
            stripe_webhook_secret="whsec_x",
        )


def test_every_domain_error_has_an_http_status():
    codes = {cls.code for cls in errors.DomainError.__subclasses__()}
    assert codes <= set(STATUS_BY_CODE)


def test_stage_local_refuses_to_start_on_lambda(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lifeshop-prod-APIHandler")
    with pytest.raises((SettingsError, ValidationError), match="never runs on Lambda"):
        Settings(stage="local")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert Settings(stage="local").stage == "local"


def test_a_clock_from_a_file_is_for_stage_local_only_and_an_empty_file_is_the_real_time(tmp_path):
    from chalicelib.adapters.clock import FileClock
    from chalicelib.bootstrap import Container

    with pytest.raises((SettingsError, ValidationError), match="stage 'local' only"):
        Settings(stage="prod", local_clock_file=str(tmp_path / "now"), jwt_issuer="i", jwt_audience="a",
                 jwks_url="https://k", cursor_secret="c" * 32, stripe_api_key="k", stripe_webhook_secret="w")  # fmt: skip
    clock = Container(Settings(stage="local", local_clock_file=str(tmp_path / "now"))).clock
    assert isinstance(clock, FileClock)
    (tmp_path / "now").write_text("2027-02-01T01:00:00Z\n")
    assert clock.now().isoformat() == "2027-02-01T01:00:00+00:00"
    (tmp_path / "now").write_text("")
    assert clock.now().year >= 2026


@pytest.mark.parametrize(
    "routes",
    [
        '{"food": "fresh"}',  # the other seven categories would ship with nobody
        '{"food": "fresh", "hotel": "hotels", "apparel": "w", "travel": "w", "tech": "w", "home": "w", "car-life": "w", '
        '"models-toys": "Bad Partner"}',
        '{"food": "fresh\\n", "hotel": "hotels", "apparel": "w", "travel": "w", "tech": "w", "home": "w", "car-life": "w", '
        '"models-toys": "w"}',  # a trailing newline in a queue name
        '{"food": "warehouse-dlq", "hotel": "hotels", "apparel": "warehouse", "travel": "w", "tech": "w", "home": "w", '
        '"car-life": "w", "models-toys": "w"}',  # would deliver food events into the warehouse's dead-letter queue
        '{"food": "f", "hotel": "h", "apparel": "w", "travel": "w", "tech": "w", "home": "w", "car-life": "w", '
        '"models-toys": "w", "pets": "w"}',
    ],
)
def test_partner_routes_name_a_valid_partner_for_each_category_exactly(monkeypatch, routes):
    monkeypatch.setenv("LIFESHOP_PARTNER_ROUTES", routes)
    with pytest.raises((SettingsError, ValidationError), match="LIFESHOP_PARTNER_ROUTES"):
        Settings()


def test_partner_routes_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv(
        "LIFESHOP_PARTNER_ROUTES",
        '{"food": "f", "hotel": "f", "apparel": "w", "travel": "w", '
        '"tech": "w", "home": "w", "car-life": "w", "models-toys": "w"}',
    )
    settings = Settings()
    assert settings.partners == ["f", "w"] and settings.partner_routes["hotel"] == "f"


def test_a_hosts_attendees_are_other_people_checked_in_with_a_ticket_still_paid_for():
    from chalicelib.domain.community import RegistrationRecord, attendees_checked_in

    def reg(user, order, checked_in=True, attendees=1):
        return RegistrationRecord(
            registration_id=f"r-{user}",
            event_id="e-1",
            user_id=user,
            order_id=order,
            attendees=attendees,
            status="ordered" if order else "waiting",
            checked_in_at="t" if checked_in else None,
            created_at="t",
        )

    registrations = [
        reg("a", "o1", attendees=4),  # one person, whatever the group's size
        reg("b", "o2"),
        reg("host", "o3"),  # the host at their own event
        reg("c", "o4", checked_in=False),
        reg("d", "o5"),  # refunded after the door
        reg("e", None),  # a queue entry: no ticket
    ]
    assert attendees_checked_in(registrations, {"o1", "o2", "o3", "o4"}, "host") == 2
    assert attendees_checked_in([], set(), "host") == 0
