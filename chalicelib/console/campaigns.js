// Points campaigns: each budget, what it issued and what remains; create one.
import { api } from "./api.js";
import { field, fill, guard, h, num, table, toast } from "./dom.js";
import { when } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

export async function campaignsScreen(root, { refresh }) {
  const errors = h("div", {});
  const listErrors = h("div", {});
  const list = pagedList("/admin/campaigns?limit=100", (items) => table(
    [t("campaign_id"), t("name"), num(t("budget")), num(t("issued")), num(t("remaining")), t("created")],
    items.map((c) => [c.campaign_id, c.name, c.budget_points, c.issued_points, c.remaining_points, when(c.created_at)])), listErrors);
  const id = h("input", { required: true, pattern: "[a-z0-9][a-z0-9-]{2,63}" });
  const name = h("input", { required: true, maxlength: 120 });
  const budget = h("input", { type: "number", min: 1, required: true });
  fill(root, h("h1", {}, t("campaigns")), listErrors, list.view,
    h("form", { class: "card", onsubmit: guard(errors, async () => {
      await api("POST", "/admin/campaigns", { campaign_id: id.value.trim(), name: name.value, budget_points: Number(budget.value) });
      toast(t("created_ok"));
      refresh();
    }) }, h("h2", {}, t("create")), errors, h("div", { class: "row" }, field(t("campaign_id"), id), field(t("name"), name),
      field(t("budget_points"), budget), h("div", {}, h("button", { type: "submit" }, t("create"))))));
  await list.load();
}
