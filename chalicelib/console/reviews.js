// Review moderation: pending reviews from verified buyers, each approved (it counts in the rating and pays the
// reviewer) or rejected with a note the reviewer reads.
import { decisionForm } from "./decision.js";
import { fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

export async function reviewsScreen(root, { refresh }) {
  const errors = h("div", {});
  const list = pagedList("/admin/reviews?status=pending&limit=50", (items) => items.map((r) => h("article", { class: "card" },
    h("h2", {}, `${"★".repeat(r.rating)}${"☆".repeat(5 - r.rating)} · ${r.product_id}`),
    h("p", { class: "muted" }, `${r.reviewer_name} · ${r.user_id || ""} · ${t("order")}: ${r.order_id || ""} · ${r.sku} · ${r.created_at}`),
    h("p", {}, r.text),
    h("div", { class: "thumbs" }, r.image_urls.map((u) => h("img", { src: u, alt: t("review_image"), loading: "lazy" }))),
    decisionForm(`/admin/reviews/${encodeURIComponent(r.review_id)}/decision`, refresh))), errors);
  fill(root, h("h1", {}, t("reviews")), errors, list.view);
  await list.load();
}
