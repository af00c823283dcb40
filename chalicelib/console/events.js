// Event review: submitted user-hosted events, each approved or rejected with a note.
import { decisionForm } from "./decision.js";
import { fill, h } from "./dom.js";
import { when, yuan } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

export async function eventsScreen(root, { refresh }) {
  const errors = h("div", {});
  const list = pagedList("/admin/events?status=submitted&limit=50", (items) => items.map((e) => h("article", { class: "card" },
    h("h2", {}, e.title), h("p", { class: "muted" }, `${e.city} · ${e.venue || ""} · ${t("starts_at")}: ${when(e.starts_at)} · ${t("capacity")}: ${e.capacity} · ${t("fee")}: ${yuan(e.fee_fen)} · ${t("host")}: ${e.host_id || "-"}`),
    h("p", {}, e.description || ""),
    decisionForm(`/admin/events/${encodeURIComponent(e.event_id)}/decision`, refresh))), errors);
  fill(root, h("h1", {}, t("events")), errors, list.view);
  await list.load();
}
