"""Runs last: after every other test's data, every user's balance equals the sum of their ledger.

This collects nothing else; it walks every store table the session's DynamoDB Local holds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.adapters.dynamo import Table
from tools.reconcile import reconcile


def test_every_table_of_the_session_reconciles_with_zero_differences(ddb_endpoint, services):
    client = services.dynamodb
    names = [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    tables = [n for n in names if n.endswith("-store")]
    assert len(tables) > 10  # the whole suite ran before this, each test on its own tables
    with ThreadPoolExecutor(max_workers=4) as pool:  # tables are independent; the scans wait on DynamoDB Local
        results = list(pool.map(lambda name: reconcile(client, Table(client, name)), tables))
    users = sum(checked for checked, _ in results)
    differences = [d for _, found in results for d in found]
    assert users > 50 and differences == [], [d.describe() for d in differences]
