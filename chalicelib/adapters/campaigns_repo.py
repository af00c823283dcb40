"""DynamoDB repository of campaigns (the budgets points are issued from) and their grants."""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import OnFail, Table, Transaction, error_code, key, to_values

CAMPAIGN_PARTITION = "CAMPAIGN"  # every campaign, newest first on gsi2


def _item(campaign: dict[str, Any]) -> dict[str, Any]:
    return {
        "pk": f"CAMPAIGN#{campaign['campaign_id']}",
        "sk": "META",
        **campaign,
        "gsi2pk": CAMPAIGN_PARTITION,
        "gsi2sk": f"{campaign['created_at']}#{campaign['campaign_id']}",
    }


def campaign_key(campaign_id: str) -> dict[str, Any]:
    return key(f"CAMPAIGN#{campaign_id}", "META")


def _grant_key(campaign_id: str, ref: str) -> dict[str, Any]:
    return key(f"CAMPAIGN#{campaign_id}", f"GRANT#{ref}")


class CampaignRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def begin(self) -> Transaction:
        return self._table.transaction()

    def get(self, campaign_id: str) -> Optional[dict[str, Any]]:
        return self._table.get(campaign_key(campaign_id))

    def add(self, tx: Transaction, campaign: dict[str, Any], *, on_fail: OnFail) -> None:
        tx.create(_item(campaign), on_fail=on_fail)

    def create_if_absent(self, campaign: dict[str, Any]) -> None:
        self._table.put_if_absent(_item(campaign))

    def list_if_unlisted(self, campaign: dict[str, Any]) -> bool:
        """Give a campaign from before the list its list keys; False if it had them."""
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=campaign_key(campaign["campaign_id"]),
                UpdateExpression="SET gsi2pk = :p, gsi2sk = :s",
                ConditionExpression="attribute_not_exists(gsi2pk)",
                ExpressionAttributeValues=to_values(
                    {":p": CAMPAIGN_PARTITION, ":s": f"{campaign['created_at']}#{campaign['campaign_id']}"}
                ),
            )
            return True
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False

    def page(
        self, limit: int, start: Optional[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
        """Campaigns, newest first."""
        items, last = self._table.page("gsi2", CAMPAIGN_PARTITION, limit, start)
        return [{k: v for k, v in i.items() if k not in ("pk", "sk") and not k.startswith("gsi")} for i in items], last

    def issue(
        self, tx: Transaction, campaign: dict[str, Any], grant: dict[str, Any], *, on_budget: OnFail, on_replay: OnFail
    ) -> None:
        """Issue `grant` from `campaign`, recorded once per ref (`on_replay` otherwise)."""
        self.spend(
            tx,
            campaign,
            grant["points"],
            {"sk": f"GRANT#{grant['ref']}", **grant},
            on_budget=on_budget,
            on_replay=on_replay,
        )

    def spend(
        self,
        tx: Transaction,
        campaign: dict[str, Any],
        points: int,
        record: dict[str, Any],
        *,
        on_budget: OnFail,
        on_replay: OnFail,
    ) -> None:
        """Count `points` as issued only while issued + points stays within the budget (`on_budget` otherwise),
        with `record` (its `sk` names what they went to) written once (`on_replay` otherwise)."""
        # The record comes first: when both fail (a retried grant that used up the budget), it is a replay.
        tx.create({"pk": f"CAMPAIGN#{campaign['campaign_id']}", **record}, on_fail=on_replay)
        tx.update(
            campaign_key(campaign["campaign_id"]),
            "ADD issued_points :p",
            {":p": points, ":limit": campaign["budget_points"] - points, ":budget": campaign["budget_points"]},
            condition="attribute_exists(pk) AND budget_points = :budget AND issued_points <= :limit",
            on_fail=on_budget,
        )

    def give_back(self, tx: Transaction, campaign_id: str, points: int, record: dict[str, Any]) -> None:
        """Points issued but never paid out (an envelope's remainder) return to the budget, with `record`."""
        tx.create({"pk": f"CAMPAIGN#{campaign_id}", **record})
        tx.update(campaign_key(campaign_id), "ADD issued_points :p", {":p": -points}, condition="attribute_exists(pk)")

    def grant(self, campaign_id: str, ref: str) -> Optional[dict[str, Any]]:
        return self._table.get(_grant_key(campaign_id, ref))
