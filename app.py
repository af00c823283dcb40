"""Lifeshop's Lambda entry point: wires blueprints and middleware, nothing else."""
from chalice import Chalice

from chalicelib.api import admin_catalog, admin_points, catalog, internal, me, openapi
from chalicelib.api.routing import bind_request

app = Chalice(app_name="lifeshop")
app.register_middleware(bind_request, "http")
for blueprint in (catalog.bp, me.bp, internal.bp, admin_catalog.bp, admin_points.bp, openapi.bp):
    app.register_blueprint(blueprint)
