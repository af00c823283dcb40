"""Lifeshop's Lambda entry point: wires blueprints, middleware and scheduled functions; nothing else."""

import os

from chalicelib.bootstrap import long_lived

with long_lived():  # all of it lives as long as the container (docs/operations.md: cold starts)
    from chalice import Rate

    from chalicelib import bootstrap, workers
    from chalicelib.api import (
        admin_catalog,
        admin_discovery,
        admin_home,
        admin_points,
        admin_policy,
        bookings,
        catalog,
        community,
        console,
        coupons,
        designs,
        envelopes,
        fulfillment,
        internal,
        me,
        merchants,
        openapi,
        orders,
        polls,
        reviews,
        tips,
    )
    from chalicelib.api.routing import Shop, bind_request

    app = Shop(app_name="lifeshop")
    app.api.binary_types = []  # every response is text (JSON, the console's pages): none for API Gateway to encode
    app.register_middleware(bind_request, "http")
    for blueprint in (
        catalog.bp,
        me.bp,
        orders.bp,
        designs.bp,
        community.bp,
        envelopes.bp,
        coupons.bp,
        internal.bp,
        admin_catalog.bp,
        admin_discovery.bp,
        admin_home.bp,
        admin_points.bp,
        admin_policy.bp,
        fulfillment.bp,
        merchants.bp,
        bookings.bp,
        tips.bp,
        reviews.bp,
        polls.bp,
        console.bp,
        openapi.bp,
    ):
        app.register_blueprint(blueprint)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        bootstrap.prewarm()


@app.on_dynamodb_record(stream_arn=workers.STORE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def publish_outbox(event):
    return workers.publish_outbox(event.to_dict()["Records"])


@app.on_dynamodb_record(stream_arn=workers.STORE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def count_ledger(event):
    return workers.count_ledger(event.to_dict()["Records"])


@app.on_dynamodb_record(stream_arn=workers.STORE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def index_catalog(event):
    return workers.index_catalog(event.to_dict()["Records"])


@app.on_dynamodb_record(stream_arn=workers.STORE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def count_sales(event):
    return workers.count_sales(event.to_dict()["Records"])


@app.on_dynamodb_record(stream_arn=workers.STORE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def keep_statements(event):
    return workers.keep_statements(event.to_dict()["Records"])


@app.schedule(Rate(1, unit=Rate.MINUTES))
def expire_orders(event):
    workers.expire_orders()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def settle_royalties(event):
    workers.settle_royalties()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def retry_refunds(event):
    workers.retry_refunds()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def settle_events(event):
    workers.settle_events()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_envelopes(event):
    workers.sweep_envelopes()


@app.schedule(Rate(15, unit=Rate.MINUTES))
def expire_lots(event):
    workers.expire_lots()


@app.schedule(Rate(1, unit=Rate.HOURS))
def notify_expiring(event):
    workers.notify_expiring()


@app.schedule(Rate(10, unit=Rate.MINUTES))
def rank_popular(event):
    workers.rank_popular()


@app.schedule(Rate(1, unit=Rate.HOURS))
def grant_birthdays(event):
    workers.grant_birthdays()
