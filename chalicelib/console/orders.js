// Orders: the list by status, and one order with its lines, payment, shipments and vouchers, and a refund.
import { api } from "./api.js";
import { field, fill, guard, h, num, statusLabel, table, toast } from "./dom.js";
import { when, yuan } from "./format.js";
import { statusText, t } from "./i18n.js";
import { pagedList } from "./list.js";

const STATUSES = ["pending_payment", "paid", "partially_shipped", "shipped", "cancelled", "refunded", "expired", "payment_failed"];
const REFUNDABLE = ["paid", "partially_shipped", "shipped"];

export async function ordersScreen(root) {
  const status = h("select", {}, h("option", { value: "" }, t("any")), STATUSES.map((s) => h("option", { value: s }, statusText(s))));
  const errors = h("div", {});
  const list = pagedList(() => {
    const q = new URLSearchParams({ limit: "50" });
    if (status.value) q.set("status", status.value);
    return `/admin/orders?${q}`;
  }, (items) => table([t("order"), t("user"), t("status"), num(t("subtotal")), num(t("discount")), num(t("points")), num(t("cash")), t("created")],
    items.map((o) => [h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}` }, o.order_id), o.user_id, statusLabel(o.status),
      yuan(o.subtotal_fen), yuan(o.discount_fen || 0), o.points_applied, yuan(o.cash_due_fen), when(o.created_at)])), errors);
  status.addEventListener("change", list.load);
  fill(root, h("h1", {}, t("orders")), h("div", { class: "row" }, field(t("status"), status)), errors, list.view);
  await list.load();
}

export async function orderScreen(root, { id, refresh }) {
  const o = await api("GET", `/orders/${encodeURIComponent(id)}`);
  const errors = h("div", {});
  const reason = h("input", { required: true, maxlength: 200 });
  fill(root, h("p", {}, h("a", { href: "#/orders" }, `← ${t("back")}`)),
    h("h1", {}, `${t("order")} ${o.order_id} `, statusLabel(o.status)), errors,
    h("div", { class: "card" }, h("p", {}, `${t("user")}: ${o.user_id} · ${t("created")}: ${when(o.created_at)}`),
      h("p", { class: "totals" }, `${t("subtotal")}: ${yuan(o.subtotal_fen)} · ${t("discount")}: ${yuan(o.discount_fen || 0)} · `,
        `${t("points")}: ${o.points_applied} · ${t("cash")}: ${yuan(o.cash_due_fen)}`),
      o.payment ? h("p", {}, `${t("payment")}: ${o.payment.provider} ${o.payment.status}`) : null),
    h("h2", {}, t("lines")),
    table([t("sku"), t("title"), t("category"), num(t("qty")), num(t("unit_price")), num(t("discount"))],
      o.lines.map((l) => [l.sku, l.title, l.category, l.qty, yuan(l.unit_price_fen), yuan(l.discount_fen || 0)])),
    o.vouchers && o.vouchers.length ? [h("h2", {}, t("vouchers")), table([t("sku"), "code", t("status")], o.vouchers.map((v) => [v.sku, v.code, statusLabel(v.status)]))] : null,
    o.shipments.length ? [h("h2", {}, t("shipments")), table(["carrier", "tracking", "at"], o.shipments.map((s) => [s.carrier, s.tracking_number, when(s.shipped_at)]))] : null,
    REFUNDABLE.includes(o.status) ? h("form", { class: "card", onsubmit: guard(errors, async () => {
      await api("POST", `/admin/orders/${encodeURIComponent(o.order_id)}/refund`, { reason: reason.value });
      toast(t("refunded"));
      refresh();
    }) }, field(t("refund_reason"), reason), h("button", { type: "submit", class: "danger" }, t("refund"))) : null);
}
