"""DynamoDB repository of user profiles."""
from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import Table, error_code, key, to_item


def profile_key(user_id: str) -> dict[str, Any]:
    return key(f"USER#{user_id}", "PROFILE")


class UserRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> Optional[dict[str, Any]]:
        item = self._table.get(profile_key(user_id))
        if item:
            item.pop("pk"), item.pop("sk")
        return item

    def create_if_absent(self, profile: dict[str, Any]) -> None:
        item = {"pk": f"USER#{profile['user_id']}", "sk": "PROFILE", **profile}
        try:
            self._table.client.put_item(TableName=self._table.name, Item=to_item(item),
                                        ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
