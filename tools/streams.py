"""A poller of DynamoDB Local's stream API that feeds records to the same handler Lambda runs on AWS.

It honours the handler's partial batch response as Lambda does: the next poll of a shard starts again at the
first failed record, so nothing is skipped and events of one order keep their order."""

from __future__ import annotations

from typing import Any, Callable, Optional

Handler = Callable[[list[dict[str, Any]]], dict[str, list[dict[str, str]]]]


class StreamPoller:
    def __init__(self, dynamodb: Any, streams: Any, table_name: str, handler: Handler, batch_size: int = 100) -> None:
        self._streams = streams
        self._arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._handler = handler
        self._batch_size = batch_size
        self._resume: dict[str, tuple[str, str]] = {}  # shard -> (iterator type, sequence number)
        self._closed: set[str] = set()

    def poll(self) -> int:
        """Hand every record not yet handled to the handler, shard by shard; returns how many were handled."""
        handled = 0
        for shard in self._shards():
            if shard not in self._closed:
                handled += self._poll_shard(shard)
        return handled

    def _shards(self) -> list[str]:
        shards: list[str] = []
        start: Optional[str] = None
        while True:
            kwargs = {"StreamArn": self._arn, **({"ExclusiveStartShardId": start} if start else {})}
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards += [s["ShardId"] for s in description.get("Shards", [])]
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def _poll_shard(self, shard: str) -> int:
        handled = 0
        iterator = self._iterator(shard)
        while iterator:
            out = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)
            records = out.get("Records", [])
            if not records:
                if "NextShardIterator" not in out:
                    self._closed.add(shard)
                return handled
            failures = self._handler(records).get("batchItemFailures", [])
            if failures:
                self._resume[shard] = ("AT_SEQUENCE_NUMBER", failures[0]["itemIdentifier"])
                failed = int(failures[0]["itemIdentifier"])
                return handled + sum(int(r["dynamodb"]["SequenceNumber"]) < failed for r in records)
            handled += len(records)
            self._resume[shard] = ("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
            iterator = out.get("NextShardIterator")
        return handled

    def _iterator(self, shard: str) -> Optional[str]:
        kind, sequence = self._resume.get(shard, ("TRIM_HORIZON", ""))
        kwargs = {"StreamArn": self._arn, "ShardId": shard, "ShardIteratorType": kind}
        if sequence:
            kwargs["SequenceNumber"] = sequence
        iterator: Optional[str] = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator


def outbox_poller(container: Any) -> StreamPoller:
    """The poller of a container's store table, feeding every stream consumer (outbox, ledger, search index, sales)
    with that container's services."""
    from chalicelib import workers

    streams = container.boto_session.client("dynamodbstreams", endpoint_url=container.settings.dynamodb_endpoint)
    return StreamPoller(
        container.dynamodb,
        streams,
        container.settings.store_table,
        lambda records: both(
            workers.publish_outbox(records, container.outbox),
            workers.count_ledger(records, container.points_report, container.outbox),
            workers.index_catalog(records, container.search_indexer, container.reviews),
            workers.count_sales(records, container.search_indexer, container.reviews),
            workers.keep_statements(records, container.merchant_statements, container.tips),
        ),
    )


def both(*answers: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """One poller feeds both consumers (on AWS each has its own position on the stream): it resumes at the first
    record either failed, and both handle records again idempotently."""
    failed = [f for answer in answers for f in answer.get("batchItemFailures", [])]
    return {"batchItemFailures": sorted(failed, key=lambda f: int(f["itemIdentifier"]))[:1]}
