"""Lifeshop's package: everything the Lambda functions run (app.py wires it)."""

import os

# Pydantic looks for plugins (a scan of every installed distribution's entry points) when it builds its first
# validator: about 10 ms of each cold start's first request. The shop uses none; a deployment that wants one sets
# PYDANTIC_DISABLE_PLUGINS itself.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
