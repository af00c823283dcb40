// NIO House bookings: a house's day (each room's or book's slots, what is left, the bookings holding them) and the
// books out on loan, with the ones past due and a button to take one back.
import { api } from "./api.js";
import { field, fill, guard, h, num, table, toast } from "./dom.js";
import { shanghaiDay, when } from "./format.js";
import { t } from "./i18n.js";

function resourceDay(r, date) {
  const by = {};
  for (const b of r.bookings) {
    for (const slot of b.slot_starts) {
      const [day, start] = slot.split(" ");
      if (day === date) (by[start] ||= []).push(`${b.user_id} (${b.order_id})`);
    }
  }
  return h("section", { "aria-label": r.resource.title },
    h("h2", {}, `${r.resource.title} · ${r.resource.title_zh} · ${t(r.resource.kind)} · ${t("capacity")} ${r.resource.capacity}`),
    table([t("start"), num(t("left")), t("booked_by")], r.slots.map((s) => [s.start, s.left, (by[s.start] || []).join(", ")])));
}

async function loans(errors, reload) {
  const out = await api("GET", "/admin/loans");
  const box = h("section", { "aria-labelledby": "loans" }, h("h2", { id: "loans" }, t("loans_out")));
  box.append(table([t("title"), t("user_id"), t("due"), t("status"), ""], out.items.map((l) => [l.title, l.user_id, when(l.due_at),
    l.overdue ? h("span", { class: "badge warn" }, t("overdue")) : t("on_loan"),
    h("button", { type: "button", onclick: guard(errors, async () => {
      await api("POST", `/admin/loans/${encodeURIComponent(l.loan_id)}/return`);
      toast(t("returned_ok"));
      await reload();
    }) }, t("mark_returned"))])));
  return box;
}

export async function housesScreen(root, { params }) {
  const house = h("input", { value: params.get("house") || "nio-house-sh", required: true });
  const date = h("input", { type: "date", value: params.get("date") || shanghaiDay(0), required: true });
  const errors = h("div", {});
  const out = h("div", {});
  const load = guard(errors, async () => {
    const day = await api("GET", `/admin/houses/${encodeURIComponent(house.value)}/day?date=${date.value}`);
    fill(out, day.resources.length ? day.resources.map((r) => resourceDay(r, day.date)) : h("p", { class: "muted" }, t("none")), await loans(errors, load));
  });
  fill(root, h("h1", {}, t("houses")),
    h("form", { onsubmit: load }, h("div", { class: "row" }, field(t("house"), house), field(t("day"), date), h("div", {}, h("button", { type: "submit" }, t("show"))))),
    errors, out);
  await load();
}
