// The store tab's front door: the home as a fan and as an owner see it now, its collections and banners (create,
// delete), the search synonyms, and what shoppers searched for (and did not find).
import { api } from "./api.js";
import { field, fill, guard, h, num, table, toast } from "./dom.js";
import { when } from "./format.js";
import { t } from "./i18n.js";

// "a, b; c" → ["a", "b", "c"]: ids or words typed in one field.
const split = (text) => text.split(/[,;，；\n]/).map((s) => s.trim()).filter(Boolean);
const window_ = (e) => [e.starts_at ? when(e.starts_at) : "…", e.ends_at ? when(e.ends_at) : "…"].join(" → ");
// An optional time typed as ISO with a zone: left out when empty.
const timed = (body, name, input) => { if (input.value.trim()) body[name] = input.value.trim(); };

function preview(home, who) {
  const names = (items) => items.map((p) => p.title_zh || p.title).join(" · ") || t("none");
  return h("section", { class: "card", "data-preview": who }, h("h2", {}, t(`as_${who}`)),
    h("h3", {}, t("banners")), h("p", {}, home.banners.map((b) => b.title).join(" · ") || t("none")),
    h("h3", {}, t("collections")),
    home.collections.length ? h("ul", {}, home.collections.map((c) => h("li", {}, h("strong", {}, c.title), ": ", names(c.items))))
      : h("p", { class: "muted" }, t("none")),
    h("h3", {}, t("new_arrivals")), h("p", {}, names(home.new_arrivals)),
    h("h3", {}, t("popular")), h("p", {}, names(home.popular)));
}

function curated(kind, items, refresh, errors, edit) {
  const remove = (id) => guard(errors, async () => {
    await api("DELETE", `/admin/${kind}s/${encodeURIComponent(id)}`);
    toast(t("deleted"));
    refresh();
  });
  const actions = (e) => h("div", { class: "row" },
    h("button", { type: "button", class: "secondary", onclick: () => edit(e) }, t("edit")),
    h("button", { type: "button", class: "secondary", onclick: remove(e[`${kind}_id`]) }, t("delete")));
  if (kind === "collection") {
    return table([t("id"), t("title"), num(t("product_count")), num(t("position")), t("audience"), t("window"), ""],
      items.map((c) => [c.collection_id, `${c.title} / ${c.title_zh}`, c.product_ids.length, c.position, t(`audience_${c.audience}`), window_(c), actions(c)]));
  }
  return table([t("id"), t("title"), t("link"), num(t("position")), t("window"), ""],
    items.map((b) => [b.banner_id, `${b.title} / ${b.title_zh}`, b.link, b.position, window_(b), actions(b)]));
}

// The form for a new entry, or (given `entry`) for changing one: the same fields, saved with PUT.
function curatedForm(kind, refresh, entry) {
  const errors = h("div", {});
  const v = {
    id: h("input", { required: true, pattern: "[a-z0-9][a-z0-9-]{2,63}" }), title: h("input", { required: true, maxlength: 120 }),
    title_zh: h("input", { required: true, maxlength: 120 }), position: h("input", { type: "number", min: 0, max: 999, value: 0 }),
    starts: h("input", { placeholder: "2026-12-24T00:00:00+08:00" }), ends: h("input", { placeholder: "2027-01-01T00:00:00+08:00" }),
    products: h("input", { size: 40 }), audience: h("select", {}, ["all", "owners"].map((a) => h("option", { value: a }, t(`audience_${a}`)))),
    image: h("input", { type: "url", placeholder: "https://" }), link: h("input", { placeholder: "/products/…" }),
  };
  if (entry) {
    Object.assign(v.id, { value: entry[`${kind}_id`], disabled: true });
    v.title.value = entry.title; v.title_zh.value = entry.title_zh; v.position.value = entry.position;
    v.starts.value = entry.starts_at || ""; v.ends.value = entry.ends_at || "";
    if (kind === "collection") { v.products.value = entry.product_ids.join(", "); v.audience.value = entry.audience; }
    else { v.image.value = entry.image_url; v.link.value = entry.link; }
  }
  const save = guard(errors, async () => {
    const body = { [`${kind}_id`]: v.id.value.trim(), title: v.title.value, title_zh: v.title_zh.value, position: Number(v.position.value || 0) };
    if (kind === "collection") Object.assign(body, { product_ids: split(v.products.value), audience: v.audience.value });
    else Object.assign(body, { image_url: v.image.value.trim(), link: v.link.value.trim() });
    timed(body, "starts_at", v.starts);
    timed(body, "ends_at", v.ends);
    if (entry) {
      delete body[`${kind}_id`];
      await api("PUT", `/admin/${kind}s/${encodeURIComponent(entry[`${kind}_id`])}`, body);
      toast(t("saved"));
    } else {
      await api("POST", `/admin/${kind}s`, body);
      toast(t("created_ok"));
    }
    refresh();
  });
  const own = kind === "collection"
    ? [field(t("product_ids"), v.products), field(t("audience"), v.audience)]
    : [field(t("image_url"), v.image), field(t("link"), v.link)];
  const heading = entry ? `${t(`edit_${kind}`)} ${entry[`${kind}_id`]}` : t(`new_${kind}`);
  return h("form", { class: "card", onsubmit: save, "data-form": kind }, h("h2", {}, heading), errors,
    h("div", { class: "row" }, field(t("id"), v.id), field(t("title"), v.title), field(t("title_zh"), v.title_zh), field(t("position"), v.position)),
    h("div", { class: "row" }, ...own, field(t("shown_from"), v.starts), field(t("shown_until"), v.ends),
      h("div", {}, h("button", { type: "submit" }, entry ? t("save") : t("create")))));
}

function synonymsForm(groups) {
  const errors = h("div", {});
  const text = h("textarea", { rows: 5, cols: 60 }, groups.map((g) => g.join(", ")).join("\n"));
  const save = guard(errors, async () => {
    const body = { groups: text.value.split("\n").map(split).filter((g) => g.length) };
    const saved = await api("PUT", "/admin/search/synonyms", body);
    text.value = saved.groups.map((g) => g.join(", ")).join("\n");
    toast(t("saved"));
  });
  return h("form", { class: "card", onsubmit: save }, h("h2", {}, t("synonyms")), h("p", { class: "muted" }, t("synonyms_hint")), errors,
    field(t("synonym_groups"), text), h("p", {}, h("button", { type: "submit" }, t("save"))));
}

function stats(box, errors) {
  const days = h("select", {}, [1, 7, 30, 90].map((d) => h("option", { value: d }, `${d} ${t("days")}`)));
  days.value = "7";
  const show = guard(errors, async () => {
    const s = await api("GET", `/admin/search/stats?days=${days.value}`);
    const rows = (list) => table([t("query"), num(t("searches"))], list.map((q) => [q.q, q.count]));
    fill(box, h("p", {}, `${t("searches")}: ${s.searches}`),
      h("div", { class: "row" }, h("div", {}, h("h3", {}, t("top_queries")), rows(s.top)),
        h("div", {}, h("h3", {}, t("zero_results")), rows(s.zero_results))));
  });
  days.addEventListener("change", show);
  return { view: h("section", { class: "card" }, h("h2", {}, t("search_stats")), field(t("period"), days), box), show };
}

export async function discoveryScreen(root, { refresh }) {
  const errors = h("div", {});
  const [fan, owner, collections, banners, synonyms] = await Promise.all([
    api("GET", "/admin/home/preview?as=fan"), api("GET", "/admin/home/preview?as=owner"),
    api("GET", "/admin/collections"), api("GET", "/admin/banners"), api("GET", "/admin/search/synonyms"),
  ]);
  const searched = stats(h("div", {}), errors);
  const forms = { collection: h("div", {}, curatedForm("collection", refresh)), banner: h("div", {}, curatedForm("banner", refresh)) };
  const edit = (kind) => (entry) => {
    fill(forms[kind], curatedForm(kind, refresh, entry));
    forms[kind].scrollIntoView();
  };
  fill(root, h("h1", {}, t("home")), errors,
    h("div", { class: "row previews" }, preview(fan, "fan"), preview(owner, "owner")),
    h("h2", {}, t("collections")), curated("collection", collections.items, refresh, errors, edit("collection")), forms.collection,
    h("h2", {}, t("banners")), curated("banner", banners.items, refresh, errors, edit("banner")), forms.banner,
    synonymsForm(synonyms.groups), searched.view);
  await searched.show();
}
