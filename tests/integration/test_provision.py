"""Tables and queues come from infra/template.json, exactly as the app's settings name them."""

from __future__ import annotations

import json

from infra import provision
from tests.conftest import make_settings
from tests.helpers import uid


def test_store_table_has_the_keys_and_indexes_the_repositories_use(services):
    table = services.dynamodb.describe_table(TableName=services.settings.store_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["gsi1", "gsi2", "gsi3", "gsi4"]


def test_creating_tables_twice_is_harmless(services):
    again = provision.create_tables(services.dynamodb, services.settings.prefix)
    assert again == [services.settings.store_table]


def test_each_partner_queue_is_fifo_with_a_dead_letter_queue_after_five_receives(sqs, ddb_endpoint):
    settings = make_settings(ddb_endpoint, uid("q"))  # queues of their own, apart from any test's
    urls = provision.create_queues(sqs, settings.prefix)
    assert {settings.partner_queue(p) for p in settings.partners} <= set(urls)
    queue = urls[settings.partner_queue("hotels")]
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5 and redrive["deadLetterTargetArn"].endswith("partner-hotels-dlq.fifo")
