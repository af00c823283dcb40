"""Lifeshop's Lambda entry point: wires blueprints and middleware, nothing else."""
from chalice import Chalice

from chalicelib.api import admin_catalog, catalog, me, openapi
from chalicelib.api.routing import bind_request

app = Chalice(app_name="lifeshop")
app.register_middleware(bind_request, "http")
for blueprint in (catalog.bp, admin_catalog.bp, me.bp, openapi.bp):
    app.register_blueprint(blueprint)
