// Design review: submitted designs with their images, each approved or rejected with a note.
import { decisionForm } from "./decision.js";
import { fill, h } from "./dom.js";
import { yuan } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

export async function designsScreen(root, { refresh }) {
  const errors = h("div", {});
  const list = pagedList("/admin/designs?status=submitted&limit=50", (items) => items.map((d) => h("article", { class: "card" },
    h("h2", {}, d.title), h("p", { class: "muted" }, `${d.category} · ${d.designer_id || ""} · ${t("votes")}: ${d.votes} · ${t("proposed_price")}: ${d.proposed_price_fen == null ? "-" : yuan(d.proposed_price_fen)}`),
    h("p", {}, d.description),
    h("div", { class: "thumbs" }, d.image_urls.map((u) => h("img", { src: u, alt: d.title, loading: "lazy" }))),
    decisionForm(`/admin/designs/${encodeURIComponent(d.design_id)}/decision`, refresh))), errors);
  fill(root, h("h1", {}, t("designs")), errors, list.view);
  await list.load();
}
