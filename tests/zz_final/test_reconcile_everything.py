"""Runs last: after every other test's data, every user's balance equals the sum of their ledger.

This collects nothing else; it walks every store table the session's DynamoDB Local holds.
"""

from __future__ import annotations

from chalicelib.adapters.dynamo import Table
from tools.reconcile import reconcile


def test_every_table_of_the_session_reconciles_with_zero_differences(ddb_endpoint, services):
    client = services.dynamodb
    names = [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    tables = [n for n in names if n.endswith("-store")]
    assert len(tables) > 10  # the whole suite ran before this, each test on its own tables
    users, differences = 0, []
    for name in tables:
        checked, found = reconcile(client, Table(client, name))
        users += checked
        differences += found
    assert users > 50 and differences == [], [d.describe() for d in differences]
