"""Creates the tables and queues of infra/template.json on DynamoDB Local / a local SQS (or any endpoint).

Every resource name in the template starts with `lifeshop-${Stage}`; that prefix is replaced by the
settings' prefix, so tests can make a fresh, isolated set of tables at will.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("template.json")
NAME_PREFIX = "lifeshop-${Stage}"
_TABLE_KEYS = ("TableName", "BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")


def resources(prefix: str) -> dict[str, Any]:
    text = TEMPLATE.read_text()
    template = json.loads(text)
    out: dict[str, Any] = {}
    for logical, res in template["Resources"].items():
        props = json.loads(json.dumps(res["Properties"]))
        for name_key in ("TableName", "QueueName"):
            if name_key in props:
                sub = props[name_key]["Fn::Sub"]
                if not sub.startswith(NAME_PREFIX):
                    raise ValueError(f"{logical}: {name_key} must start with {NAME_PREFIX}")
                props[name_key] = prefix + sub[len(NAME_PREFIX) :]
        out[logical] = {"Type": res["Type"], "Properties": props}
    return out


def create_tables(dynamodb: Any, prefix: str, streams: bool = True) -> list[str]:
    """Creates each table unless it exists (idempotent). `streams=False` leaves out the table's stream, for a table
    nothing reads the stream of (most tests, the bench's bursts): DynamoDB Local keeps every stream record of every
    table, even a deleted one, and each call it serves slows as they pile up (a put 2 ms on a fresh server, 30 ms
    after 200 streamed tables of 100 items; without streams it stays at 2-3 ms)."""
    names = []
    for res in resources(prefix).values():
        if res["Type"] != "AWS::DynamoDB::Table":
            continue
        props = res["Properties"]
        names.append(props["TableName"])
        table = {k: props[k] for k in _TABLE_KEYS if k in props}
        if "StreamSpecification" in props and streams:  # CloudFormation's shape -> the API's
            table["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        try:
            dynamodb.create_table(**table)
        except dynamodb.exceptions.ResourceInUseException:
            continue
        dynamodb.get_waiter("table_exists").wait(TableName=props["TableName"], WaiterConfig={"Delay": 1})
    return names


def create_queues(sqs: Any, prefix: str) -> dict[str, str]:
    """Queues in dependency order (a dead-letter queue before the queue that uses it)."""
    res = resources(prefix)
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    pending = [k for k, v in res.items() if v["Type"] == "AWS::SQS::Queue"]
    while pending:
        logical = next(k for k in pending if _deps_met(res[k]["Properties"], arns))
        props = dict(res[logical]["Properties"])
        name = props.pop("QueueName")
        attributes = {k: _attr(v, arns) for k, v in props.items()}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        urls[name] = url
        arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pending.remove(logical)
    return urls


def _deps_met(props: dict[str, Any], arns: dict[str, str]) -> bool:
    target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn", {})
    return not target or target["Fn::GetAtt"][0] in arns


def _attr(value: Any, arns: dict[str, str]) -> str:
    if isinstance(value, dict):
        policy = dict(value)
        policy["deadLetterTargetArn"] = arns[policy["deadLetterTargetArn"]["Fn::GetAtt"][0]]
        return json.dumps(policy)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
