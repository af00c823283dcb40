"""DynamoDB repository of campaigns (the budgets points are issued from) and their grants."""
from __future__ import annotations

from typing import Any, Optional


from chalicelib.adapters.dynamo import Table, key


def campaign_key(campaign_id: str) -> dict[str, Any]:
    return key(f"CAMPAIGN#{campaign_id}", "META")


class CampaignRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, campaign_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(campaign_key(campaign_id))

    def create_op(self, campaign: dict[str, Any]) -> dict[str, Any]:
        return self._table.put({"pk": f"CAMPAIGN#{campaign['campaign_id']}", "sk": "META", **campaign},
                               "attribute_not_exists(pk)")

    def create_if_absent(self, campaign: dict[str, Any]) -> None:
        self._table.put_if_absent({"pk": f"CAMPAIGN#{campaign['campaign_id']}", "sk": "META", **campaign})

    def issue_op(self, campaign: dict[str, Any], points: int) -> dict[str, Any]:
        """Count `points` as issued, only while issued + points stays within the budget."""
        return self._table.update(
            campaign_key(campaign["campaign_id"]), "ADD issued_points :p",
            {":p": points, ":limit": campaign["budget_points"] - points, ":budget": campaign["budget_points"]},
            condition="attribute_exists(pk) AND budget_points = :budget AND issued_points <= :limit")

    def grant_op(self, grant: dict[str, Any]) -> dict[str, Any]:
        return self._table.put({"pk": f"CAMPAIGN#{grant['campaign_id']}", "sk": f"GRANT#{grant['ref']}", **grant},
                               "attribute_not_exists(pk)")

    def grant(self, campaign_id: str, ref: str) -> Optional[dict[str, Any]]:
        return self._table.get(key(f"CAMPAIGN#{campaign_id}", f"GRANT#{ref}"))

    def transact(self, ops: list[dict[str, Any]], labels: list[str], on_condition: Any) -> None:
        self._table.transact(ops, labels, on_condition)
