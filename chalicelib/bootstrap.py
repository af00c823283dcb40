"""Builds the real adapters and services, lazily, once per Lambda container.

Every property has its real type; the imports behind them run on first use only (TYPE_CHECKING keeps a
cold start from paying for modules a request does not need)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator, Optional

if TYPE_CHECKING:
    from chalicelib.adapters.audit_repo import AuditRepository
    from chalicelib.adapters.bookings_repo import BookingRepository
    from chalicelib.adapters.clock import Clock
    from chalicelib.adapters.community_repo import EventRepository
    from chalicelib.adapters.coupons_repo import CouponRepository
    from chalicelib.adapters.cursor import CursorCodec
    from chalicelib.adapters.designs_repo import DesignRepository
    from chalicelib.adapters.dynamo import Table
    from chalicelib.adapters.merchant_payments_repo import MerchantPaymentRepository
    from chalicelib.adapters.orders_repo import OrderRepository
    from chalicelib.adapters.outbox import Outbox
    from chalicelib.adapters.payments import PaymentGateway
    from chalicelib.adapters.pseudonyms import Pseudonyms
    from chalicelib.adapters.reviews_repo import ReviewRepository
    from chalicelib.adapters.tokens import TokenVerifier
    from chalicelib.adapters.users_repo import UserRepository
    from chalicelib.adapters.vouchers_repo import VoucherRepository
    from chalicelib.services.accounts import Accounts
    from chalicelib.services.audit import AuditService
    from chalicelib.services.bookings import BookingService
    from chalicelib.services.campaigns import CampaignService
    from chalicelib.services.catalog import CatalogService
    from chalicelib.services.checkin import TicketCheckin
    from chalicelib.services.checkout import CheckoutService
    from chalicelib.services.contribution import ContributionService
    from chalicelib.services.coupons import CouponService
    from chalicelib.services.designs import DesignService
    from chalicelib.services.envelopes import EnvelopeService
    from chalicelib.services.event_reads import RegistrationViews
    from chalicelib.services.events import EventService
    from chalicelib.services.home import HomeService
    from chalicelib.services.host_rewards import HostRewards
    from chalicelib.services.lots import LotService
    from chalicelib.services.merchant_payments import MerchantPayments, MerchantStatements, PaymentCodes
    from chalicelib.services.merchants import MerchantService
    from chalicelib.services.occasions import OccasionService
    from chalicelib.services.orders import OrderService
    from chalicelib.services.payments import PaymentEvents
    from chalicelib.services.points import PointsService
    from chalicelib.services.policy import PolicyBook, PolicyService
    from chalicelib.services.polls import PollService
    from chalicelib.services.registrations import RegistrationService
    from chalicelib.services.report import PointsReportService
    from chalicelib.services.reviews import ReviewService
    from chalicelib.services.royalties import Royalties
    from chalicelib.services.search import SearchIndexer, SearchService
    from chalicelib.services.tips import TipService
    from chalicelib.services.users import UserService
    from chalicelib.services.waitlist import WaitlistService
    from chalicelib.settings import Settings


@contextmanager
def long_lived() -> Iterator[None]:
    """For what is made once and kept as long as the container (imports, AWS clients, services, validators): no
    garbage collection while it is made, and later collections skip it (gc.freeze; refcounting still frees whatever
    is dropped). A cold start otherwise pays for several full collections over objects that can never be garbage
    (docs/operations.md: cold starts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def no_collection() -> Iterator[None]:
    """No garbage collection while a request builds many short-lived objects without cycles (a listing decodes
    thousands of postings): reference counting frees them all the same, and a full collection in the middle would
    scan the container's whole heap for nothing (about 15-20 ms a listing of 5,000 products)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Container:
    def __init__(self, settings: "Settings", clock: Optional["Clock"] = None, boto_session: Any = None) -> None:
        self.settings = settings
        if boto_session is not None:  # shared by many containers (tests): each service model is loaded once
            self.boto_session = boto_session
        if clock is None:
            from chalicelib.adapters.clock import FileClock, SystemClock

            clock = FileClock(settings.local_clock_file) if settings.local_clock_file else SystemClock()
        self.clock: Clock = clock

    # -- AWS clients (boto3 types are Any: their stubs are not a runtime dependency) ---------------
    @cached_property
    def boto_session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=self.settings.region)

    @cached_property
    def dynamodb(self) -> Any:
        from botocore.config import Config

        s = self.settings
        config = Config(
            retries={"max_attempts": s.dynamodb_max_attempts, "mode": "standard"},
            max_pool_connections=32,
            connect_timeout=s.dynamodb_connect_timeout_s,
            read_timeout=s.dynamodb_read_timeout_s,
        )
        return self.boto_session.client("dynamodb", endpoint_url=s.dynamodb_endpoint, config=config)

    @cached_property
    def sqs(self) -> Any:
        from botocore.config import Config

        config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=5)
        return self.boto_session.client("sqs", endpoint_url=self.settings.sqs_endpoint, config=config)

    # -- adapters ----------------------------------------------------------------------------
    @cached_property
    def table(self) -> Table:
        from chalicelib.adapters.dynamo import Table

        return Table(self.dynamodb, self.settings.store_table)

    @cached_property
    def cursors(self) -> CursorCodec:
        from chalicelib.adapters.cursor import CursorCodec

        return CursorCodec(self.settings.cursor_key)

    @cached_property
    def tokens(self) -> TokenVerifier:
        from chalicelib.adapters import tokens
        from chalicelib.settings import LOCAL_STAGE

        s = self.settings
        if s.stage == LOCAL_STAGE:
            return tokens.hs256_verifier(s.local_jwt_secret)
        assert s.jwks_url and s.jwt_issuer and s.jwt_audience  # Settings refuses to load without them here
        return tokens.jwks_verifier(s.jwks_url, s.jwt_issuer, s.jwt_audience)

    @cached_property
    def pseudonyms(self) -> Pseudonyms:
        from chalicelib.adapters.pseudonyms import Pseudonyms

        return Pseudonyms(self.settings.cursor_key)

    @cached_property
    def audit_repo(self) -> AuditRepository:
        from chalicelib.adapters.audit_repo import AuditRepository

        return AuditRepository(self.table)

    @cached_property
    def user_repo(self) -> UserRepository:
        from chalicelib.adapters.users_repo import UserRepository

        return UserRepository(self.table)

    @cached_property
    def order_repo(self) -> OrderRepository:
        from chalicelib.adapters.orders_repo import OrderRepository

        return OrderRepository(self.table)

    @cached_property
    def voucher_repo(self) -> VoucherRepository:
        from chalicelib.adapters.vouchers_repo import VoucherRepository

        return VoucherRepository(self.table)

    @cached_property
    def coupon_repo(self) -> CouponRepository:
        from chalicelib.adapters.coupons_repo import CouponRepository

        return CouponRepository(self.table)

    @cached_property
    def coupons(self) -> CouponService:
        from chalicelib.services.coupons import CouponService

        return CouponService(self.coupon_repo, self.audit_repo, self.cursors, self.clock)

    @cached_property
    def points_report(self) -> PointsReportService:
        from chalicelib.adapters.report_repo import ReportRepository
        from chalicelib.services.report import PointsReportService

        return PointsReportService(ReportRepository(self.table), self.clock, self.policy_book)

    @cached_property
    def design_repo(self) -> DesignRepository:
        from chalicelib.adapters.designs_repo import DesignRepository

        return DesignRepository(self.table)

    @cached_property
    def outbox(self) -> Outbox:
        from chalicelib.adapters.outbox import Outbox

        s = self.settings
        return Outbox(lambda: self.sqs, s.partner_queue, s.outbox_failure_queue, s.notifications_queue)

    @cached_property
    def payment_gateway(self) -> PaymentGateway:
        from chalicelib.adapters import payments

        s = self.settings
        if s.uses_local_payments:
            return payments.LocalPayments()
        assert s.stripe_api_key  # not local payments: Settings made sure there is a key
        return payments.StripePayments(s.stripe_api_key, s.stripe_api_base)

    def _gateway(self) -> PaymentGateway:
        """Services get this, not the gateway: Stripe's SDK loads on the first payment, not the first order."""
        return self.payment_gateway

    # -- services ----------------------------------------------------------------------------
    @cached_property
    def catalog(self) -> CatalogService:
        from chalicelib.adapters.catalog_repo import CatalogRepository
        from chalicelib.services.catalog import CatalogService

        return CatalogService(
            CatalogRepository(self.table),
            self.audit_repo,
            self.cursors,
            self.clock,
            self.pseudonyms,
            self.voucher_repo,
            self.coupon_repo,
        )

    @cached_property
    def search(self) -> SearchService:
        from chalicelib.adapters.catalog_repo import CatalogRepository
        from chalicelib.adapters.search_repo import SearchRepository
        from chalicelib.services.search import SearchService

        def tier_of(user_id: str) -> str:
            profile = self.user_repo.get(user_id)
            return profile.tier if profile else "fan"

        return SearchService(
            SearchRepository(self.table),
            CatalogRepository(self.table),
            self.cursors,
            self.clock,
            self.pseudonyms,
            tier_of,
            self.audit_repo.record,
            self.settings.search_synonyms_ttl_s,
        )

    @cached_property
    def home(self) -> HomeService:
        from chalicelib.adapters.catalog_repo import CatalogRepository
        from chalicelib.adapters.home_repo import HomeRepository
        from chalicelib.adapters.search_repo import SearchRepository
        from chalicelib.services.home import HomeService

        return HomeService(
            HomeRepository(self.table),
            CatalogRepository(self.table),
            SearchRepository(self.table),
            self.search,
            self.search.tier_of,
            self.clock,
            self.audit_repo.record,
        )

    @cached_property
    def merchants(self) -> MerchantService:
        from chalicelib.adapters.merchants_repo import MerchantRepository
        from chalicelib.services.merchants import MerchantService

        return MerchantService(MerchantRepository(self.table), self.audit_repo, self.cursors, self.clock)

    @cached_property
    def merchant_payment_repo(self) -> MerchantPaymentRepository:
        from chalicelib.adapters.merchant_payments_repo import MerchantPaymentRepository

        return MerchantPaymentRepository(self.table)

    @cached_property
    def payment_codes(self) -> PaymentCodes:
        from chalicelib.services.merchant_payments import PaymentCodes

        return PaymentCodes(self.merchant_payment_repo, self.clock)

    @cached_property
    def merchant_payments(self) -> MerchantPayments:
        from chalicelib.services.merchant_payments import MerchantPayments

        return MerchantPayments(self.merchant_payment_repo, self.merchants, self.accounts, self.cursors, self.clock)

    @cached_property
    def merchant_statements(self) -> MerchantStatements:
        from chalicelib.services.merchant_payments import MerchantStatements

        return MerchantStatements(self.merchant_payment_repo, self.merchants, self.clock)

    @cached_property
    def tips(self) -> TipService:
        from chalicelib.adapters.tips_repo import TipRepository
        from chalicelib.services.tips import TipService

        return TipService(TipRepository(self.table), self.accounts, self.clock, self.policy_book, self.pseudonyms)

    @cached_property
    def search_indexer(self) -> SearchIndexer:
        from chalicelib.adapters.search_repo import SearchRepository
        from chalicelib.services.search import SearchIndexer

        return SearchIndexer(SearchRepository(self.table), self.clock)

    @cached_property
    def users(self) -> UserService:
        from chalicelib.services.users import UserService

        return UserService(self.user_repo, self.clock)

    @cached_property
    def accounts(self) -> Accounts:
        from chalicelib.services.accounts import Accounts

        return Accounts(self.user_repo, self.clock, lambda moment: self.policy_book.expiry_at(moment))

    @cached_property
    def review_repo(self) -> ReviewRepository:
        from chalicelib.adapters.reviews_repo import ReviewRepository

        return ReviewRepository(self.table)

    @cached_property
    def reviews(self) -> ReviewService:
        from chalicelib.services.reviews import ReviewService

        return ReviewService(
            self.review_repo,
            self.order_repo,
            self.accounts,
            self.points,
            self.contribution,
            self.audit_repo,
            self.cursors,
            self.pseudonyms,
            self.clock,
        )

    @cached_property
    def polls(self) -> PollService:
        from chalicelib.adapters.contribution_repo import ContributionRepository
        from chalicelib.adapters.polls_repo import PollRepository
        from chalicelib.services.polls import PollService

        scores = ContributionRepository(self.table)
        return PollService(PollRepository(self.table), scores, self.audit_repo, self.cursors, self.clock)

    @cached_property
    def lots(self) -> LotService:
        from chalicelib.services.lots import LotService

        return LotService(self.accounts, self.user_repo, self.clock)

    @cached_property
    def policy_book(self) -> PolicyBook:
        """The issuance policy at any instant (the schedule cached for this container, read at most once a minute)."""
        from chalicelib.adapters.policy_repo import PolicyRepository
        from chalicelib.services.policy import PolicyBook

        return PolicyBook(PolicyRepository(self.table), self.clock, self.settings.first_policy)

    @cached_property
    def policy(self) -> PolicyService:
        from chalicelib.adapters.policy_repo import PolicyRepository
        from chalicelib.services.policy import PolicyService

        return PolicyService(
            PolicyRepository(self.table), self.policy_book, self.audit_repo, self.cursors, self.clock, self.user_repo
        )

    @cached_property
    def occasions(self) -> OccasionService:
        from chalicelib.services.occasions import OccasionService

        return OccasionService(self.user_repo, self.campaigns, self.policy_book, self.clock)

    @cached_property
    def points(self) -> PointsService:
        from chalicelib.services.points import PointsService

        return PointsService(self.accounts, self.audit_repo, self.cursors, self.policy_book, self.contribution)

    @cached_property
    def contribution(self) -> ContributionService:
        from chalicelib.adapters.contribution_repo import ContributionRepository
        from chalicelib.services.contribution import ContributionService

        return ContributionService(ContributionRepository(self.table), self.clock, self.cursors, self.settings)

    @cached_property
    def campaigns(self) -> CampaignService:
        from chalicelib.adapters.campaigns_repo import CampaignRepository
        from chalicelib.services.campaigns import CampaignService

        return CampaignService(
            CampaignRepository(self.table),
            self.accounts,
            self.audit_repo,
            self.settings,
            self.cursors,
            self.policy_book,
        )

    @cached_property
    def audit(self) -> AuditService:
        from chalicelib.services.audit import AuditService

        return AuditService(self.audit_repo, self.cursors)

    @cached_property
    def checkout(self) -> CheckoutService:
        from chalicelib.services import checkout_parts as part
        from chalicelib.services.checkout import CheckoutService

        return CheckoutService(
            self.order_repo,
            self.accounts,
            self.outbox,
            self.royalties,
            self._gateway,
            self.clock,
            self.settings,
            self.coupons,
            parts=[  # each kind of thing an order sells; a new kind is one more line here
                part.SkuStock(self.order_repo),
                part.VoucherCodes(self.voucher_repo),
                part.CouponUse(self.coupons),
                part.CouponPurchase(self.coupons),
                part.PurchaseLimits(self.order_repo),
                part.Tickets(),
                part.BookingSlots(self.booking_repo),
            ],
        )

    @cached_property
    def orders(self) -> OrderService:
        from chalicelib.services.checkout_parts import BookingFollower, VoucherFollower
        from chalicelib.services.coupons import CouponFollower
        from chalicelib.services.orders import OrderService
        from chalicelib.services.registrations import RegistrationFollower

        return OrderService(
            self.order_repo,
            self.accounts,
            self.outbox,
            self.royalties,
            self._gateway,
            self.audit_repo,
            self.cursors,
            self.clock,
            self.settings.partner_routes,
            followers=[
                RegistrationFollower(self.event_repo).follow,
                VoucherFollower(self.voucher_repo).follow,
                CouponFollower(self.coupon_repo).follow,
                BookingFollower(self.booking_repo).follow,
            ],
        )

    @cached_property
    def booking_repo(self) -> BookingRepository:
        from chalicelib.adapters.bookings_repo import BookingRepository

        return BookingRepository(self.table)

    @cached_property
    def bookings(self) -> BookingService:
        from chalicelib.services.bookings import BookingService

        return BookingService(self.booking_repo, self.merchants, self.audit_repo, self.clock)

    @cached_property
    def event_repo(self) -> EventRepository:
        from chalicelib.adapters.community_repo import EventRepository

        return EventRepository(self.table)

    # -- community events: each job its own service, sharing the one repository -----------------------
    @cached_property
    def events(self) -> EventService:
        from chalicelib.services.events import EventService

        s = self.settings
        return EventService(
            self.event_repo,
            self.orders,
            self.user_repo,
            self.cursors,
            self.clock,
            s.ticket_shards,
            s.ticket_shard_min_capacity,
        )

    @cached_property
    def host_rewards(self) -> HostRewards:
        from chalicelib.services.host_rewards import HostRewards

        s = self.settings
        return HostRewards(
            self.event_repo,
            self.order_repo,
            self.campaigns,
            self.contribution,
            self.policy_book,
            self.clock,
            s.event_reward_budget_points,
            s.event_host_min_attendees,
        )

    @cached_property
    def registration_views(self) -> RegistrationViews:
        from chalicelib.services.event_reads import RegistrationViews

        return RegistrationViews(self.event_repo, self.orders, self.settings.ticket_key)

    @cached_property
    def registrations(self) -> RegistrationService:
        from chalicelib.services.registrations import RegistrationService

        return RegistrationService(
            self.event_repo,
            self.checkout,
            self.orders,
            self.order_repo,
            self.waitlist,
            self.registration_views,
            self.clock,
        )

    @cached_property
    def waitlist(self) -> WaitlistService:
        from chalicelib.services.waitlist import WaitlistService

        return WaitlistService(
            self.event_repo, self.checkout, self.registration_views, self.clock, self.settings.waitlist_offer_s
        )

    @cached_property
    def ticket_checkin(self) -> TicketCheckin:
        from chalicelib.services.checkin import TicketCheckin

        return TicketCheckin(
            self.event_repo, self.orders, self.order_repo, self.contribution, self.clock, self.settings.ticket_key
        )

    @cached_property
    def envelopes(self) -> EnvelopeService:
        from chalicelib.adapters.envelopes_repo import EnvelopeRepository
        from chalicelib.services.envelopes import EnvelopeService

        return EnvelopeService(
            EnvelopeRepository(self.table),
            self.accounts,
            self.campaigns,
            self.audit_repo,
            self.pseudonyms,
            self.cursors,
            self.clock,
            self.settings,
            self.policy_book,
        )

    @cached_property
    def royalties(self) -> Royalties:
        from chalicelib.adapters.royalties_repo import RoyaltyRepository
        from chalicelib.services.royalties import Royalties

        return Royalties(
            RoyaltyRepository(self.table),
            self.design_repo,
            self.accounts,
            lambda: self.policy_book.current().royalty_rate,
            self.settings.return_window_days,
        )

    @cached_property
    def designs(self) -> DesignService:
        from chalicelib.services.designs import DesignService

        return DesignService(
            self.design_repo,
            self.accounts,
            self.campaigns,
            self.catalog,
            self.contribution,
            self.audit_repo,
            self.cursors,
            self.settings,
            self.pseudonyms,
            self.policy_book,
        )

    @cached_property
    def payment_events(self) -> PaymentEvents:
        from chalicelib.services.payments import PaymentEvents

        return PaymentEvents(self.orders, self.order_repo, self.settings.webhook_secret)


_container: Optional[Container] = None


def container() -> Container:
    global _container
    if _container is None:
        from chalicelib.settings import Settings

        _container = Container(Settings())
    return _container


def use(replacement: Optional[Container]) -> None:
    """Tests and scripts swap in a container built from their own settings."""
    global _container
    _container = replacement


SERVICES = (
    "tokens",
    "users",
    "catalog",
    "checkout",
    "orders",
    "accounts",
    "points",
    "designs",
    "campaigns",
    "contribution",
    "audit",
    "payment_events",
    "outbox",
    "events",
    "host_rewards",
    "registrations",
    "waitlist",
    "ticket_checkin",
    "envelopes",
    "coupons",
    "points_report",
)


def prewarm() -> Container:
    """Do before a Lambda SnapStart snapshot what a first request would otherwise do on the clock: read the
    settings, create the AWS clients (no call is made: connections opened now would not survive the restore),
    build every service, and build the validators and serializers of every route's models. app.py calls it only
    while Lambda initialises a SnapStart version (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)."""
    from chalicelib.api.routing import ROUTES

    warm = container()
    for name in SERVICES:
        getattr(warm, name)
    for spec in ROUTES:
        for model in (spec.body, spec.query, spec.response):
            if model is not None:
                model.model_rebuild()
    "lifeshop.invalid".encode("idna")  # the codec the first connection loads to encode its host name
    return warm
