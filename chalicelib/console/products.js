// The catalog: the product list, and the product editor with each SKU's stock or voucher codes.
import { api } from "./api.js";
import { check, field, fill, guard, h, num, scrollBox, statusLabel, table, toast } from "./dom.js";
import { fen, when, YUAN_PATTERN, yuanField } from "./format.js";
import { statusText, t } from "./i18n.js";
import { pagedList } from "./list.js";

const CATEGORIES = ["food", "apparel", "travel", "tech", "home", "car-life", "models-toys", "hotel"];

export async function productsScreen(root) {
  const status = h("select", { id: "f-status" }, h("option", { value: "" }, t("any")),
    ["draft", "active", "archived"].map((s) => h("option", { value: s }, statusText(s))));
  const category = h("select", { id: "f-category" }, h("option", { value: "" }, t("any")),
    CATEGORIES.map((c) => h("option", { value: c }, c)));
  const search = h("input", { id: "f-search", type: "search" });  // among the products loaded so far
  const errors = h("div", {});
  const list = pagedList(() => {
    const q = new URLSearchParams({ limit: "50" });
    if (status.value) q.set("status", status.value);
    if (category.value) q.set("category", category.value);
    return `/admin/products?${q}`;
  }, (items) => {
    const q = search.value.trim().toLowerCase();
    const shown = items.filter((p) => !q || p.title.toLowerCase().includes(q) || p.title_zh.toLowerCase().includes(q));
    return table([t("title"), t("category"), t("status"), t("kind"), num(t("skus")), num(t("stock")), t("updated")],
      shown.map((p) => [h("a", { href: `#/products/${encodeURIComponent(p.product_id)}` }, p.title, " · ", p.title_zh),
        p.category, statusLabel(p.status), t(p.kind), p.skus.length, p.skus.reduce((n, s) => n + s.stock, 0),
        when(p.updated_at)]));
  }, errors);
  status.addEventListener("change", list.load);
  category.addEventListener("change", list.load);
  search.addEventListener("input", list.redraw);
  fill(root, h("h1", {}, t("products")),
    h("div", { class: "row" }, field(t("status"), status), field(t("category"), category), field(t("search_title"), search),
      h("div", {}, h("a", { class: "button", href: "#/products/new" }, t("new_product")))),
    errors, list.view);
  await list.load();
}

function skuRow(sku, existing) {
  const price = h("input", { inputmode: "decimal", pattern: YUAN_PATTERN, title: t("yuan_hint"), size: 10,
    value: yuanField(sku.price_fen), "aria-label": t("price"), class: "price" });
  const points = h("output", { "aria-live": "polite" });
  const showPoints = () => {  // 1 point = 10 fen
    const f = fen(price.value);
    points.textContent = f === null ? "" : `= ${Math.floor(f / 10)} ${t("points")}`;
  };
  price.addEventListener("input", showPoints);
  showPoints();
  const attrs = Object.entries(sku.attributes || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  const row = h("tr", {},
    h("td", {}, h("input", { value: sku.sku || "", "aria-label": t("sku"), class: "sku", readonly: existing ? true : null })),
    h("td", {}, h("input", { value: attrs, "aria-label": t("attributes"), class: "attrs" })),
    h("td", {}, price, " ", points),
    h("td", {}, existing ? String(sku.stock) : h("input", { type: "number", min: 0, value: sku.stock ?? 0, "aria-label": t("stock"), class: "stock" })),
    h("td", {}, h("input", { type: "number", min: 1, max: 32, value: sku.stock_shards ?? 1, "aria-label": t("stock_shards"), class: "shards" })),
    h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, t("remove"))));
  return row;
}

function readSkus(body) {
  return [...body.querySelectorAll("tr")].map((row) => {
    const attributes = {};
    for (const pair of row.querySelector(".attrs").value.split(",")) {
      const [k, ...v] = pair.split("=");
      if (k.trim()) attributes[k.trim()] = v.join("=").trim();
    }
    const sku = { sku: row.querySelector(".sku").value.trim(), attributes, price_fen: fen(row.querySelector(".price").value),
      stock_shards: Number(row.querySelector(".shards").value || 1) };
    const stock = row.querySelector(".stock");
    if (stock) sku.stock = Number(stock.value || 0);
    return sku;
  });
}

// One product (`id`), or a new one (id "new").
export async function productScreen(root, { id, refresh }) {
  const product = id !== "new" ? await api("GET", `/admin/products/${encodeURIComponent(id)}`) : null;
  const p = product || { category: "tech", title: "", title_zh: "", description: "", kind: "physical", owner_only: false,
    accepts: { points: true, cash: true }, skus: [], images: [], tags: [], coupon_id: null, sale_starts_at: null, per_user_limit: null };
  const errors = h("div", {});
  const inputs = {
    category: h("select", {}, CATEGORIES.map((c) => h("option", { value: c }, c))),
    title: h("input", { value: p.title, required: true, maxlength: 120 }),
    title_zh: h("input", { value: p.title_zh, required: true, maxlength: 120 }),
    description: h("textarea", { rows: 3, value: p.description }),
    kind: h("select", { disabled: product ? true : null }, ["physical", "voucher", "coupon"].map((k) => h("option", { value: k }, t(k)))),
    coupon_id: h("input", { value: p.coupon_id || "" }),
    owner_only: h("input", { type: "checkbox", checked: p.owner_only }),
    points: h("input", { type: "checkbox", checked: p.accepts.points }),
    cash: h("input", { type: "checkbox", checked: p.accepts.cash }),
    images: h("textarea", { rows: 2, value: (p.images || []).join("\n") }),
    sale_starts_at: h("input", { value: p.sale_starts_at || "", placeholder: "2026-12-12T20:00:00+08:00" }),
    per_user_limit: h("input", { type: "number", min: 1, max: 999, value: p.per_user_limit ?? "" }),
  };
  inputs.category.value = p.category;
  inputs.kind.value = p.kind;
  const skuBody = h("tbody", {}, (p.skus.length ? p.skus : [{}]).map((s) => skuRow(s, !!product && !!s.sku)));
  const save = guard(errors, async () => {
    const body = {
      category: inputs.category.value, title: inputs.title.value, title_zh: inputs.title_zh.value,
      description: inputs.description.value, kind: inputs.kind.value,
      coupon_id: inputs.kind.value === "coupon" ? inputs.coupon_id.value.trim() : null,
      owner_only: inputs.owner_only.checked, accepts: { points: inputs.points.checked, cash: inputs.cash.checked },
      skus: readSkus(skuBody), images: inputs.images.value.split("\n").map((s) => s.trim()).filter(Boolean), tags: p.tags || [],
      sale_starts_at: inputs.sale_starts_at.value.trim() || null,
      per_user_limit: inputs.per_user_limit.value ? Number(inputs.per_user_limit.value) : null,
    };
    const saved = product ? await api("PUT", `/admin/products/${encodeURIComponent(product.product_id)}`, body)
      : await api("POST", "/admin/products", body);
    toast(t("saved"));
    location.hash = `#/products/${encodeURIComponent(saved.product_id)}`;
    if (product) refresh();  // the same address: no hashchange
  });
  const move = (verb) => guard(errors, async () => {
    await api("POST", `/admin/products/${encodeURIComponent(product.product_id)}/${verb}`);
    toast(statusText(verb === "publish" ? "active" : "archived"));
    refresh();
  });
  const form = h("form", { onsubmit: save },
    h("div", { class: "row" }, field(t("category"), inputs.category), field(t("kind"), inputs.kind),
      field(`${t("coupon_id")} (${t("coupon_product")})`, inputs.coupon_id)),
    h("div", { class: "row" }, field(t("title"), inputs.title), field(t("title_zh"), inputs.title_zh)),
    field(t("description"), inputs.description),
    h("div", {}, check(t("owner_only"), inputs.owner_only), check(t("accepts_points"), inputs.points),
      check(t("accepts_cash"), inputs.cash)),
    field(t("images"), inputs.images),
    h("div", { class: "row" }, field(t("sale_starts_at"), inputs.sale_starts_at), field(t("per_user_limit"), inputs.per_user_limit)),
    h("h2", {}, t("skus")),
    scrollBox(h("table", {}, h("thead", {}, h("tr", {}, [t("sku"), t("attributes"), `${t("price")} / ${t("points_price")}`, t("stock"),
      t("stock_shards"), ""].map((x) => h("th", { scope: "col" }, x)))), skuBody)),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => skuBody.append(skuRow({}, false)) }, t("add_sku"))),
    h("p", {}, h("button", { type: "submit" }, t("save")), " ",
      product && product.status !== "active" ? h("button", { type: "button", onclick: move("publish") }, t("publish")) : null, " ",
      product && product.status !== "archived" ? h("button", { type: "button", class: "danger", onclick: move("archive") }, t("archive")) : null));
  const heading = product ? [product.title, " ", statusLabel(product.status)] : [t("new_product")];
  fill(root, h("p", {}, h("a", { href: "#/products" }, `← ${t("back")}`)), h("h1", {}, heading), errors,
    h("div", { class: "card" }, form), product ? product.skus.map((s) => skuTools(product, s)) : null);
}

// A SKU's stock change with a reason, or for a voucher its codes.
function skuTools(product, sku) {
  const errors = h("div", {});
  const card = h("div", { class: "card" }, h("h2", {}, `${t("sku")} ${sku.sku} · ${t("stock")} `, h("span", { class: "stock-now" }, String(sku.stock))), errors);
  if (product.kind === "voucher") {
    const codes = h("textarea", { rows: 4 });
    card.append(h("form", { onsubmit: guard(errors, async () => {
      const list = codes.value.split("\n").map((s) => s.trim()).filter(Boolean);
      const r = await api("POST", `/admin/skus/${encodeURIComponent(sku.sku)}/codes`, { codes: list });
      codes.value = "";
      card.querySelector(".stock-now").textContent = String(r.available);
      toast(`${t("codes_added")}: ${r.added} (${r.duplicates})`);
    }) }, field(t("codes"), codes), h("button", { type: "submit" }, t("upload"))));
    return card;
  }
  const delta = h("input", { type: "number", required: true });
  const reason = h("input", { required: true, maxlength: 200 });
  card.append(h("form", { onsubmit: guard(errors, async () => {
    const r = await api("POST", `/admin/skus/${encodeURIComponent(sku.sku)}/stock`, { delta: Number(delta.value), reason: reason.value });
    card.querySelector(".stock-now").textContent = String(r.stock);
    delta.value = ""; reason.value = "";
    toast(`${t("stock")}: ${r.stock}`);
  }) }, h("div", { class: "row" }, field(t("delta"), delta), field(t("reason"), reason),
    h("div", {}, h("button", { type: "submit" }, t("adjust_stock"))))));
  return card;
}
