// Coupon templates: what each takes off, how many were issued and are left; create one; grant one to a user.
import { api } from "./api.js";
import { field, fill, guard, h, num, table, toast } from "./dom.js";
import { fen, YUAN_PATTERN, yuan } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

// A field for an amount in yuan (the API takes fen).
const money = (value) => h("input", { inputmode: "decimal", pattern: YUAN_PATTERN, title: t("yuan_hint"), size: 10, value });

export async function couponsScreen(root, { refresh }) {
  const errors = h("div", {});
  const listErrors = h("div", {});
  const choice = h("select", {});  // the templates loaded so far, to grant from
  const list = pagedList("/admin/coupons?limit=100", (items) => {
    const chosen = choice.value;
    fill(choice, items.map((c) => h("option", { value: c.coupon_id }, c.coupon_id)));
    if (chosen) choice.value = chosen;
    return table([t("template_id"), t("title"), t("off"), num(t("min_subtotal")), t("category"), num(t("valid_days")), num(t("budget_count")), num(t("issued")), num(t("left")), num(t("per_user_limit"))],
      items.map((c) => [c.coupon_id, c.title, c.amount_off_fen ? yuan(c.amount_off_fen) : `${c.percent_off}%`, yuan(c.min_subtotal_fen),
        (c.categories || [t("any")]).join(", "), c.valid_days, c.budget_count, c.issued, c.left, c.per_user_limit]));
  }, listErrors);
  const v = {
    id: h("input", { required: true }), title: h("input", { required: true, maxlength: 120 }),
    title_zh: h("input", { maxlength: 120 }),
    amount: money(""), percent: h("input", { type: "number", min: 1, max: 100 }), min: money("0"), categories: h("input", {}),
    days: h("input", { type: "number", min: 1, value: 30 }), budget: h("input", { type: "number", min: 1, value: 1000 }),
    per: h("input", { type: "number", min: 1, value: 1 }),
  };
  const create = guard(errors, async () => {
    const cats = v.categories.value.split(",").map((s) => s.trim()).filter(Boolean);
    const body = { coupon_id: v.id.value.trim(), title: v.title.value, categories: cats.length ? cats : null };
    if (v.title_zh.value.trim()) body.title_zh = v.title_zh.value;
    // An empty field is left to the API's default.
    for (const [name, input] of [["amount_off_fen", v.amount], ["min_subtotal_fen", v.min]]) {
      if (input.value.trim() !== "") body[name] = fen(input.value);
    }
    for (const [name, input] of [["percent_off", v.percent], ["valid_days", v.days], ["budget_count", v.budget], ["per_user_limit", v.per]]) {
      if (input.value !== "") body[name] = Number(input.value);
    }
    await api("POST", "/admin/coupons", body);
    toast(t("created_ok"));
    refresh();
  });
  const grantErrors = h("div", {});
  const g = { coupon: choice, user: h("input", { required: true }), ref: h("input", { required: true }) };
  const grant = guard(grantErrors, async () => {
    const r = await api("POST", `/admin/coupons/${encodeURIComponent(g.coupon.value)}/grants`, { user_id: g.user.value.trim(), ref: g.ref.value.trim() });
    toast(`${t("granted")}: ${r.coupon}`);
    refresh();
  });
  fill(root, h("h1", {}, t("coupons")), listErrors, list.view,
    h("form", { class: "card", onsubmit: grant }, h("h2", {}, t("grant_to")), grantErrors,
      h("div", { class: "row" }, field(t("template_id"), g.coupon), field(t("user_id"), g.user), field(t("ref"), g.ref),
        h("div", {}, h("button", { type: "submit" }, t("grant"))))),
    h("form", { class: "card", onsubmit: create }, h("h2", {}, t("create")), errors,
      h("div", { class: "row" }, field(t("template_id"), v.id), field(t("title"), v.title), field(t("title_zh"), v.title_zh),
        field(t("amount_off"), v.amount), field(t("percent_off"), v.percent), field(t("min_subtotal_yuan"), v.min)),
      h("div", { class: "row" }, field(t("categories"), v.categories), field(t("valid_days"), v.days), field(t("budget_count"), v.budget),
        field(t("per_user_limit"), v.per), h("div", {}, h("button", { type: "submit" }, t("create"))))));
  await list.load();
}
