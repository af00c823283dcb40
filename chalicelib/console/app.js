// The merchandiser console: one page over the public API (same origin, the merchandiser's bearer token).
// No build step and no library: every value from the API is put on the page as text (textContent), never as HTML.
"use strict";
(() => {
  const T = {
    en: {
      brand: "Lifeshop console", loading: "Loading…", sign_out: "Sign out", sign_in: "Sign in",
      token_label: "Merchandiser token (a bearer token with the merchandiser role)", use_demo: "Use the demo merchandiser token (stage local)",
      hosted: "Sign in with your company account", not_merch: "This token is not a merchandiser's: the console needs the merchandiser role.",
      bad_token: "This token is not valid or has expired.", session_ended: "Your session ended: sign in again.",
      network_error: "The shop did not answer: check your connection and try again.", unexpected: "Something went wrong",
      products: "Catalog", orders: "Orders", designs: "Design review", events: "Event review", campaigns: "Campaigns",
      coupons: "Coupons", audit: "Audit log", report: "Points report", status: "Status", category: "Category", any: "Any",
      search_title: "Search by title", new_product: "New product", title: "Title", title_zh: "Chinese title", kind: "Kind",
      skus: "SKUs", stock: "Stock", updated: "Updated", load_more: "Load more", none: "Nothing here yet.",
      description: "Description", owner_only: "Owners only", accepts_points: "Accepts points", accepts_cash: "Accepts cash",
      images: "Image URLs (https, one per line)", sku: "SKU", price_fen: "Price (fen)", points_price: "Points price",
      stock_shards: "Stock shards", attributes: "Attributes (key=value, comma separated)", add_sku: "Add a SKU",
      remove: "Remove", save: "Save", saved: "Saved", publish: "Publish", archive: "Archive", coupon_id: "Coupon template",
      sale_starts_at: "On sale from (ISO time with zone)", per_user_limit: "Per-user limit", adjust_stock: "Adjust stock",
      delta: "Change (+/- units)", reason: "Reason", apply: "Apply", codes: "Voucher codes (one per line)", upload: "Upload",
      codes_added: "Codes added", order: "Order", user: "User", subtotal: "Subtotal (fen)", discount: "Discount (fen)",
      points: "Points", cash: "Cash (fen)", created: "Created", lines: "Lines", qty: "Qty", refund: "Refund",
      refund_reason: "Refund reason", refunded: "Refunded", payment: "Payment", shipments: "Shipments", vouchers: "Vouchers",
      approve: "Approve", reject: "Reject", note: "Note (required to reject)", approved: "Approved", rejected: "Rejected",
      proposed_price: "Proposed price (fen)", votes: "Votes", city: "City", starts_at: "Starts", capacity: "Capacity",
      fee: "Fee (fen)", host: "Host", name: "Name", budget: "Budget", issued: "Issued", remaining: "Remaining",
      create: "Create", campaign_id: "Campaign id", budget_points: "Budget (points)", off: "Discount", min_subtotal: "Minimum (fen)",
      valid_days: "Valid days", budget_count: "Budget (coupons)", left: "Left", grant: "Grant", grant_to: "Grant to user",
      user_id: "User id", ref: "Your reference", amount_off_fen: "Amount off (fen)", percent_off: "Percent off",
      categories: "Categories (comma separated, empty for any)", at: "At", actor: "Actor", action: "Action", entity: "Entity",
      change: "Change", from: "From", to: "To", show: "Show", day: "Day", outstanding: "Outstanding", liability: "Liability (fen)",
      redeemed: "Redeemed", returned: "Returned", expired: "Expired", issued_total: "Issued", opening: "Outstanding before the first day",
      chart_caption: "Points issued and redeemed per day (bars) and outstanding at the end of each day (line)",
      granted: "Granted", created_ok: "Created", coupon_product: "kind coupon only", physical: "physical", voucher: "voucher",
      coupon: "coupon", draft: "draft", active: "active", archived: "archived", submitted: "submitted",
      template_id: "Coupon id", fields: "Fields", back: "Back", reply_mismatch: "The sign-in reply did not match this page's request: sign in again.",
      signin_failed: "The sign-in page did not sign you in: sign in again, or ask your administrator.",
      pending_payment: "pending payment", paid: "paid", partially_shipped: "partially shipped", shipped: "shipped",
      cancelled: "cancelled", payment_failed: "payment failed", earn: "Tasks", referral: "Referrals",
      design_reward: "Design rewards", royalty: "Royalties", event_reward: "Event rewards", envelope: "Red envelopes", detail: "Detail", issued_by_source: "Issued by source", totals: "Totals",
    },
    zh: {
      brand: "生活商城后台", loading: "加载中…", sign_out: "退出", sign_in: "登录",
      token_label: "运营令牌（带 merchandiser 角色的 Bearer 令牌）", use_demo: "使用演示运营令牌（本地环境）",
      hosted: "使用公司账号登录", not_merch: "此令牌不是运营人员的：后台需要 merchandiser 角色。",
      bad_token: "令牌无效或已过期。", session_ended: "登录已过期，请重新登录。",
      network_error: "商城没有响应：请检查网络后重试。", unexpected: "出错了",
      products: "商品", orders: "订单", designs: "设计审核", events: "活动审核", campaigns: "积分活动",
      coupons: "优惠券", audit: "操作日志", report: "积分报表", status: "状态", category: "类目", any: "全部",
      search_title: "按标题搜索", new_product: "新建商品", title: "标题", title_zh: "中文标题", kind: "类型",
      skus: "规格", stock: "库存", updated: "更新时间", load_more: "加载更多", none: "暂无内容。",
      description: "描述", owner_only: "仅车主", accepts_points: "可用积分", accepts_cash: "可用现金",
      images: "图片地址（https，每行一个）", sku: "规格编码", price_fen: "价格（分）", points_price: "积分价",
      stock_shards: "库存分片", attributes: "属性（键=值，逗号分隔）", add_sku: "添加规格",
      remove: "删除", save: "保存", saved: "已保存", publish: "上架", archive: "下架", coupon_id: "优惠券模板",
      sale_starts_at: "开售时间（带时区的 ISO 时间）", per_user_limit: "每人限购", adjust_stock: "调整库存",
      delta: "变化（+/- 件）", reason: "原因", apply: "执行", codes: "券码（每行一个）", upload: "上传",
      codes_added: "已添加券码", order: "订单", user: "用户", subtotal: "小计（分）", discount: "优惠（分）",
      points: "积分", cash: "现金（分）", created: "创建时间", lines: "明细", qty: "数量", refund: "退款",
      refund_reason: "退款原因", refunded: "已退款", payment: "支付", shipments: "发货", vouchers: "券码",
      approve: "通过", reject: "拒绝", note: "备注（拒绝时必填）", approved: "已通过", rejected: "已拒绝",
      proposed_price: "建议价格（分）", votes: "票数", city: "城市", starts_at: "开始时间", capacity: "名额",
      fee: "费用（分）", host: "发起人", name: "名称", budget: "预算", issued: "已发放", remaining: "剩余",
      create: "创建", campaign_id: "活动编号", budget_points: "预算（积分）", off: "优惠", min_subtotal: "门槛（分）",
      valid_days: "有效天数", budget_count: "发放总量", left: "剩余", grant: "发放", grant_to: "发放给用户",
      user_id: "用户编号", ref: "业务参考号", amount_off_fen: "减免金额（分）", percent_off: "折扣百分比",
      categories: "类目（逗号分隔，留空为全部）", at: "时间", actor: "操作人", action: "操作", entity: "对象",
      change: "变更", from: "开始日期", to: "结束日期", show: "查看", day: "日期", outstanding: "流通积分", liability: "负债（分）",
      redeemed: "已兑换", returned: "已退回", expired: "已过期", issued_total: "发放", opening: "首日前流通积分",
      chart_caption: "每日发放与兑换积分（柱）及每日末流通积分（线）",
      granted: "已发放", created_ok: "已创建", coupon_product: "仅优惠券类型", physical: "实物", voucher: "电子券",
      coupon: "优惠券", draft: "草稿", active: "在售", archived: "已下架", submitted: "待审核",
      template_id: "优惠券编号", fields: "字段", back: "返回", reply_mismatch: "登录回执与本页请求不符，请重新登录。",
      signin_failed: "登录页未能完成登录，请重新登录或联系管理员。",
      pending_payment: "待支付", paid: "已支付", partially_shipped: "部分发货", shipped: "已发货", cancelled: "已取消",
      payment_failed: "支付失败", earn: "任务", referral: "推荐", design_reward: "设计奖励", royalty: "版税",
      event_reward: "活动奖励", envelope: "红包", detail: "详情", issued_by_source: "按来源发放", totals: "合计",
    },
  };
  const CATEGORIES = ["food", "apparel", "travel", "tech", "home", "car-life", "models-toys", "hotel"];
  const SECTIONS = ["products", "orders", "designs", "events", "campaigns", "coupons", "audit", "report"];
  // Where the API is: the page is <base>/console, e.g. /api/console behind API Gateway's stage, /console locally.
  const BASE = location.pathname.replace(/\/console\/?$/, "");
  let lang = sessionStorage.getItem("lang") || "en";
  let token = sessionStorage.getItem("token") || "";
  let config = {};
  const t = (k) => (T[lang][k] !== undefined ? T[lang][k] : T.en[k] !== undefined ? T.en[k] : k);
  const main = () => document.getElementById("main");

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status; this.code = code; this.details = details || {};
    }
  }

  async function api(method, path, body, signingIn) {
    const headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "network", t("network_error"), {});
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (res.status === 401 && !signingIn) {
      signOut(t("session_ended"));
      throw new ApiError(401, "unauthorized", t("session_ended"), {});
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(res.status, e.code || "error", e.message || `${t("unexpected")} (HTTP ${res.status})`, e.details);
    }
    return data;
  }

  // An element with attributes and children; strings become text nodes (never parsed as HTML).
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  // Replace an element's children: arrays are flattened, null and false left out, strings as text.
  function fill(el, ...kids) {
    el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)
      .map((k) => (k instanceof Node ? k : document.createTextNode(String(k)))));
    return el;
  }

  let ids = 0;
  function field(label, input) {
    const id = input.id || `f${++ids}`;
    input.id = id;
    return h("div", {}, h("label", { for: id }, label), input);
  }
  function check(label, input) {
    return h("label", { class: "inline" }, input, label);
  }

  function errorBox(err) {
    const box = h("div", { class: "error", role: "alert" }, h("strong", {}, err.message || t("unexpected")));
    const fields = err.details && err.details.fields;
    if (fields && typeof fields === "object") {
      box.append(h("ul", {}, Object.entries(fields).map(([name, msg]) => h("li", {}, `${name}: ${msg}`))));
    }
    return box;
  }

  function toast(message) {
    const el = document.getElementById("toast");
    el.textContent = message;
    setTimeout(() => { if (el.textContent === message) el.textContent = ""; }, 4000);
  }

  // Run an action; its error is shown in `where` (an element), in words, never swallowed.
  function guard(where, action) {
    return async (event) => {
      if (event && event.preventDefault) event.preventDefault();
      fill(where);
      try {
        await action(event);
      } catch (err) {
        if (err.status === 401) return;
        fill(where, errorBox(err));
      }
    };
  }

  function table(headers, rows) {
    if (!rows.length) return h("p", { class: "muted" }, t("none"));
    return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col", class: x.num ? "num" : "" }, x.label || x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: headers[i].num ? "num" : "" }, c))))));
  }
  const num = (label) => ({ label, num: true });
  const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
  const statusLabel = (s) => h("span", { class: "badge" }, t(s) === s ? s : `${t(s)} · ${s}`);

  // -- signing in ------------------------------------------------------------------------------------
  function signOut(message) {
    token = "";
    sessionStorage.removeItem("token");
    showSignIn(message);
  }

  async function signIn(candidate, where) {
    token = candidate.trim();
    try {
      await api("GET", "/admin/audit?limit=1", undefined, true);
    } catch (err) {
      token = "";
      const message = err.status === 403 ? t("not_merch") : err.status === 401 ? t("bad_token") : err.message;
      fill(where, errorBox({ message, details: {} }));
      return;
    }
    sessionStorage.setItem("token", token);
    if (location.hash === "#/products") render();
    else location.hash = "#/products";  // renders on hashchange
  }

  function showSignIn(message) {
    document.getElementById("nav").hidden = true;
    document.getElementById("signout").hidden = true;
    const errors = h("div", {});
    if (message) errors.append(errorBox({ message, details: {} }));
    const input = h("textarea", { id: "token", rows: 4, autocomplete: "off", spellcheck: "false", required: true });
    const form = h("form", { onsubmit: (e) => { e.preventDefault(); signIn(input.value, errors); } },
      field(t("token_label"), input), h("p", {}, h("button", { type: "submit" }, t("sign_in"))));
    const extra = [];
    if (config.demo_token) {
      extra.push(h("button", { type: "button", class: "secondary", onclick: () => signIn(config.demo_token, errors) },
        t("use_demo")));
    }
    if (config.signin_url) {
      extra.push(h("button", { type: "button", onclick: () => {
        const state = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
        sessionStorage.setItem("signin_state", state);
        location.href = `${config.signin_url}&state=${state}`;
      } }, t("hosted")));
    }
    fill(main(), h("h1", {}, t("sign_in")), errors, h("div", { class: "card" }, form, extra));
  }

  // -- catalog ---------------------------------------------------------------------------------------
  async function productsScreen(root) {
    const status = h("select", { id: "f-status" }, h("option", { value: "" }, t("any")),
      ["draft", "active", "archived"].map((s) => h("option", { value: s }, t(s))));
    const category = h("select", { id: "f-category" }, h("option", { value: "" }, t("any")),
      CATEGORIES.map((c) => h("option", { value: c }, c)));
    const search = h("input", { id: "f-search", type: "search" });
    const errors = h("div", {});
    const list = h("div", {});
    const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
    let items = [];
    let cursor = null;
    let generation = 0;
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      const shown = items.filter((p) => !q || p.title.toLowerCase().includes(q) || p.title_zh.toLowerCase().includes(q));
      fill(list, table([t("title"), t("category"), t("status"), t("kind"), num(t("skus")), num(t("stock")), t("updated")],
        shown.map((p) => [h("a", { href: `#/products/${encodeURIComponent(p.product_id)}` }, p.title, " · ", p.title_zh),
          p.category, statusLabel(p.status), t(p.kind), p.skus.length, p.skus.reduce((n, s) => n + s.stock, 0),
          when(p.updated_at)])));
    };
    const load = guard(errors, async (event) => {
      const more_ = event && event.target === more;
      const mine = more_ ? generation : ++generation;
      const q = new URLSearchParams({ limit: "50" });
      if (status.value) q.set("status", status.value);
      if (category.value) q.set("category", category.value);
      if (more_ && cursor) q.set("cursor", cursor);
      const page = await api("GET", `/admin/products?${q}`);
      if (mine !== generation) return;
      items = (more_ ? items : []).concat(page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      draw();
    });
    status.addEventListener("change", load);
    category.addEventListener("change", load);
    search.addEventListener("input", draw);
    more.addEventListener("click", load);
    fill(root, h("h1", {}, t("products")),
      h("div", { class: "row" }, field(t("status"), status), field(t("category"), category), field(t("search_title"), search),
        h("div", {}, h("a", { class: "button", href: "#/products/new" }, t("new_product")))),
      errors, list, h("p", {}, more));
    await load();
  }

  function skuRow(sku, existing) {
    const price = h("input", { type: "number", min: 10, step: 10, value: sku.price_fen ?? "", "aria-label": t("price_fen"), class: "price" });
    const points = h("output", { "aria-live": "polite" });
    const showPoints = () => { points.textContent = price.value ? `= ${Math.floor(Number(price.value) / 10)} ${t("points")}` : ""; };
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
      const sku = { sku: row.querySelector(".sku").value.trim(), attributes, price_fen: Number(row.querySelector(".price").value),
        stock_shards: Number(row.querySelector(".shards").value || 1) };
      const stock = row.querySelector(".stock");
      if (stock) sku.stock = Number(stock.value || 0);
      return sku;
    });
  }

  async function productScreen(root, productId) {
    const product = productId ? await api("GET", `/admin/products/${encodeURIComponent(productId)}`) : null;
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
      if (product) render();
    });
    const move = (verb) => guard(errors, async () => {
      await api("POST", `/admin/products/${encodeURIComponent(product.product_id)}/${verb}`);
      toast(t(verb === "publish" ? "active" : "archived"));
      render();
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
      h("table", {}, h("thead", {}, h("tr", {}, [t("sku"), t("attributes"), `${t("price_fen")} / ${t("points_price")}`, t("stock"),
        t("stock_shards"), ""].map((x) => h("th", { scope: "col" }, x)))), skuBody),
      h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => skuBody.append(skuRow({}, false)) }, t("add_sku"))),
      h("p", {}, h("button", { type: "submit" }, t("save")), " ",
        product && product.status !== "active" ? h("button", { type: "button", onclick: move("publish") }, t("publish")) : null, " ",
        product && product.status !== "archived" ? h("button", { type: "button", class: "danger", onclick: move("archive") }, t("archive")) : null));
    const heading = product ? [product.title, " ", statusLabel(product.status)] : [t("new_product")];
    fill(root, h("p", {}, h("a", { href: "#/products" }, `← ${t("back")}`)), h("h1", {}, heading), errors,
      h("div", { class: "card" }, form), product ? product.skus.map((s) => skuTools(product, s)) : null);
  }

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

  // -- orders ----------------------------------------------------------------------------------------
  async function ordersScreen(root) {
    const status = h("select", {}, h("option", { value: "" }, t("any")),
      ["pending_payment", "paid", "partially_shipped", "shipped", "cancelled", "refunded", "expired", "payment_failed"]
        .map((s) => h("option", { value: s }, t(s))));
    const errors = h("div", {});
    const list = h("div", {});
    const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
    let items = [];
    let cursor = null;
    let generation = 0;  // a newer filter wins over an answer still on its way
    const load = guard(errors, async (event) => {
      const more_ = event && event.target === more;
      const mine = more_ ? generation : ++generation;
      const q = new URLSearchParams({ limit: "50" });
      if (status.value) q.set("status", status.value);
      if (more_ && cursor) q.set("cursor", cursor);
      const page = await api("GET", `/admin/orders?${q}`);
      if (mine !== generation) return;
      items = (more_ ? items : []).concat(page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      fill(list, table([t("order"), t("user"), t("status"), num(t("subtotal")), num(t("discount")), num(t("points")), num(t("cash")), t("created")],
        items.map((o) => [h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}` }, o.order_id), o.user_id, statusLabel(o.status),
          o.subtotal_fen, o.discount_fen || 0, o.points_applied, o.cash_due_fen, when(o.created_at)])));
    });
    status.addEventListener("change", load);
    more.addEventListener("click", load);
    fill(root, h("h1", {}, t("orders")), h("div", { class: "row" }, field(t("status"), status)), errors, list, h("p", {}, more));
    await load();
  }

  async function orderScreen(root, orderId) {
    const o = await api("GET", `/orders/${encodeURIComponent(orderId)}`);
    const errors = h("div", {});
    const reason = h("input", { required: true, maxlength: 200 });
    const refundable = ["paid", "partially_shipped", "shipped"].includes(o.status);
    fill(root, h("p", {}, h("a", { href: "#/orders" }, `← ${t("back")}`)),
      h("h1", {}, `${t("order")} ${o.order_id} `, statusLabel(o.status)), errors,
      h("div", { class: "card" }, h("p", {}, `${t("user")}: ${o.user_id} · ${t("created")}: ${when(o.created_at)}`),
        h("p", {}, `${t("subtotal")}: ${o.subtotal_fen} · ${t("discount")}: ${o.discount_fen || 0} · ${t("points")}: ${o.points_applied} · ${t("cash")}: ${o.cash_due_fen}`),
        o.payment ? h("p", {}, `${t("payment")}: ${o.payment.provider} ${o.payment.status}`) : null),
      h("h2", {}, t("lines")),
      table([t("sku"), t("title"), t("category"), num(t("qty")), num(t("price_fen")), num(t("discount"))],
        o.lines.map((l) => [l.sku, l.title, l.category, l.qty, l.unit_price_fen, l.discount_fen || 0])),
      o.vouchers && o.vouchers.length ? [h("h2", {}, t("vouchers")), table([t("sku"), "code", t("status")], o.vouchers.map((v) => [v.sku, v.code, v.status]))] : null,
      o.shipments.length ? [h("h2", {}, t("shipments")), table(["carrier", "tracking", "at"], o.shipments.map((s) => [s.carrier, s.tracking_number, when(s.shipped_at)]))] : null,
      refundable ? h("form", { class: "card", onsubmit: guard(errors, async () => {
        await api("POST", `/admin/orders/${encodeURIComponent(o.order_id)}/refund`, { reason: reason.value });
        toast(t("refunded"));
        render();
      }) }, field(t("refund_reason"), reason), h("button", { type: "submit", class: "danger" }, t("refund"))) : null);
  }

  // -- review queues ---------------------------------------------------------------------------------
  function decisionForm(path, after) {
    const errors = h("div", {});
    const note = h("textarea", { rows: 2, maxlength: 500 });
    const decide = (decision) => guard(errors, async () => {
      await api("POST", path, { decision, note: note.value.trim() || null });
      toast(t(decision === "approve" ? "approved" : "rejected"));
      after();
    });
    return h("div", {}, errors, field(t("note"), note),
      h("p", {}, h("button", { type: "button", onclick: decide("approve") }, t("approve")), " ",
        h("button", { type: "button", class: "danger", onclick: decide("reject") }, t("reject"))));
  }

  // A list the API pages: its first page now, the next ones on "Load more"; `draw(items)` draws all those loaded.
  async function paged(path, draw, errors) {
    const box = h("div", {});
    const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
    let items = [];
    let cursor = null;
    const next = async () => {
      const page = await api("GET", cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
      items = items.concat(page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      fill(box, items.length ? draw(items) : h("p", { class: "muted" }, t("none")));
    };
    more.addEventListener("click", guard(errors, next));
    await next();
    return [box, h("p", {}, more)];
  }

  async function designsScreen(root) {
    const errors = h("div", {});
    const list = await paged("/admin/designs?status=submitted&limit=50", (items) => items.map((d) => h("article", { class: "card" },
      h("h2", {}, d.title), h("p", { class: "muted" }, `${d.category} · ${d.designer_id || ""} · ${t("votes")}: ${d.votes} · ${t("proposed_price")}: ${d.proposed_price_fen ?? "-"}`),
      h("p", {}, d.description),
      h("div", { class: "thumbs" }, d.image_urls.map((u) => h("img", { src: u, alt: d.title, loading: "lazy" }))),
      decisionForm(`/admin/designs/${encodeURIComponent(d.design_id)}/decision`, render))), errors);
    fill(root, h("h1", {}, t("designs")), errors, list);
  }

  async function eventsScreen(root) {
    const errors = h("div", {});
    const list = await paged("/admin/events?status=submitted&limit=50", (items) => items.map((e) => h("article", { class: "card" },
      h("h2", {}, e.title), h("p", { class: "muted" }, `${e.city} · ${e.venue || ""} · ${t("starts_at")}: ${when(e.starts_at)} · ${t("capacity")}: ${e.capacity} · ${t("fee")}: ${e.fee_fen} · ${t("host")}: ${e.host_id || "-"}`),
      h("p", {}, e.description || ""),
      decisionForm(`/admin/events/${encodeURIComponent(e.event_id)}/decision`, render))), errors);
    fill(root, h("h1", {}, t("events")), errors, list);
  }

  // -- campaigns and coupons -------------------------------------------------------------------------
  async function campaignsScreen(root) {
    const errors = h("div", {});
    const listErrors = h("div", {});
    const list = await paged("/admin/campaigns?limit=100", (items) => table(
      [t("campaign_id"), t("name"), num(t("budget")), num(t("issued")), num(t("remaining")), t("created")],
      items.map((c) => [c.campaign_id, c.name, c.budget_points, c.issued_points, c.remaining_points, when(c.created_at)])), listErrors);
    const id = h("input", { required: true, pattern: "[a-z0-9][a-z0-9-]{2,63}" });
    const name = h("input", { required: true, maxlength: 120 });
    const budget = h("input", { type: "number", min: 1, required: true });
    fill(root, h("h1", {}, t("campaigns")), listErrors, list,
      h("form", { class: "card", onsubmit: guard(errors, async () => {
        await api("POST", "/admin/campaigns", { campaign_id: id.value.trim(), name: name.value, budget_points: Number(budget.value) });
        toast(t("created_ok"));
        render();
      }) }, h("h2", {}, t("create")), errors, h("div", { class: "row" }, field(t("campaign_id"), id), field(t("name"), name),
        field(t("budget_points"), budget), h("div", {}, h("button", { type: "submit" }, t("create"))))));
  }

  async function couponsScreen(root) {
    const errors = h("div", {});
    const listErrors = h("div", {});
    const choice = h("select", {});  // the templates loaded so far, to grant from
    const list = await paged("/admin/coupons?limit=100", (items) => {
      const chosen = choice.value;
      fill(choice, items.map((c) => h("option", { value: c.coupon_id }, c.coupon_id)));
      if (chosen) choice.value = chosen;
      return table([t("template_id"), t("title"), t("off"), num(t("min_subtotal")), t("category"), num(t("valid_days")), num(t("budget_count")), num(t("issued")), num(t("left")), num(t("per_user_limit"))],
        items.map((c) => [c.coupon_id, c.title, c.amount_off_fen ? `${c.amount_off_fen} fen` : `${c.percent_off}%`, c.min_subtotal_fen,
          (c.categories || [t("any")]).join(", "), c.valid_days, c.budget_count, c.issued, c.left, c.per_user_limit]));
    }, listErrors);
    const v = {
      id: h("input", { required: true }), title: h("input", { required: true, maxlength: 120 }),
      title_zh: h("input", { maxlength: 120 }),
      amount: h("input", { type: "number", min: 10, step: 10 }), percent: h("input", { type: "number", min: 1, max: 100 }),
      min: h("input", { type: "number", min: 0, value: 0 }), categories: h("input", {}),
      days: h("input", { type: "number", min: 1, value: 30 }), budget: h("input", { type: "number", min: 1, value: 1000 }),
      per: h("input", { type: "number", min: 1, value: 1 }),
    };
    const create = guard(errors, async () => {
      const cats = v.categories.value.split(",").map((s) => s.trim()).filter(Boolean);
      const body = { coupon_id: v.id.value.trim(), title: v.title.value, categories: cats.length ? cats : null };
      if (v.title_zh.value.trim()) body.title_zh = v.title_zh.value;
      for (const [name, input] of [["amount_off_fen", v.amount], ["percent_off", v.percent], ["min_subtotal_fen", v.min],
        ["valid_days", v.days], ["budget_count", v.budget], ["per_user_limit", v.per]]) {
        if (input.value !== "") body[name] = Number(input.value);
      }
      await api("POST", "/admin/coupons", body);
      toast(t("created_ok"));
      render();
    });
    const grantErrors = h("div", {});
    const g = { coupon: choice, user: h("input", { required: true }), ref: h("input", { required: true }) };
    const grant = guard(grantErrors, async () => {
      const r = await api("POST", `/admin/coupons/${encodeURIComponent(g.coupon.value)}/grants`, { user_id: g.user.value.trim(), ref: g.ref.value.trim() });
      toast(`${t("granted")}: ${r.coupon}`);
      render();
    });
    fill(root, h("h1", {}, t("coupons")), listErrors, list,
      h("form", { class: "card", onsubmit: grant }, h("h2", {}, t("grant_to")), grantErrors,
        h("div", { class: "row" }, field(t("template_id"), g.coupon), field(t("user_id"), g.user), field(t("ref"), g.ref),
          h("div", {}, h("button", { type: "submit" }, t("grant"))))),
      h("form", { class: "card", onsubmit: create }, h("h2", {}, t("create")), errors,
        h("div", { class: "row" }, field(t("template_id"), v.id), field(t("title"), v.title), field(t("title_zh"), v.title_zh),
          field(t("amount_off_fen"), v.amount),
          field(t("percent_off"), v.percent), field(t("min_subtotal"), v.min)),
        h("div", { class: "row" }, field(t("categories"), v.categories), field(t("valid_days"), v.days), field(t("budget_count"), v.budget),
          field(t("per_user_limit"), v.per), h("div", {}, h("button", { type: "submit" }, t("create"))))));
  }

  // -- audit log -------------------------------------------------------------------------------------
  async function auditScreen(root) {
    const errors = h("div", {});
    const body = h("tbody", {});
    const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
    let cursor = null;
    const change = (a) => {
      const before = a.before && typeof a.before === "object" ? a.before : {};
      const after = a.after && typeof a.after === "object" ? a.after : {};
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && !["updated_at", "version"].includes(k));
      const text = keys.slice(0, 6).map((k) => `${k}: ${short(before[k])} → ${short(after[k])}`).join("; ");
      return text || "";
    };
    const load = guard(errors, async () => {
      const q = new URLSearchParams({ limit: "50" });
      if (cursor) q.set("cursor", cursor);
      const page = await api("GET", `/admin/audit?${q}`);
      for (const a of page.items) {
        body.append(h("tr", {}, h("td", {}, when(a.at)), h("td", {}, a.actor), h("td", {}, a.action), h("td", {}, a.entity_id), h("td", {}, change(a))));
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
    });
    more.addEventListener("click", load);
    fill(root, h("h1", {}, t("audit")), errors,
      h("table", { id: "audit" }, h("thead", {}, h("tr", {}, [t("at"), t("actor"), t("action"), t("entity"), t("change")].map((x) => h("th", { scope: "col" }, x)))), body),
      h("p", {}, more));
    await load();
  }
  function short(value) {
    if (value === undefined) return "–";
    const s = typeof value === "string" ? value : JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  }

  // -- points report ---------------------------------------------------------------------------------
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const kid of kids) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    return el;
  }

  function chart(days) {
    const width = 960, height = 280, pad = 40;
    const top = Math.max(1, ...days.map((d) => Math.max(d.issued.total, d.redeemed, d.outstanding)));
    const x = (i) => pad + (i + 0.5) * ((width - 2 * pad) / days.length);
    const y = (v) => height - pad - (Math.max(0, v) / top) * (height - 2 * pad);
    const bar = (width - 2 * pad) / days.length / 3;
    const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title" },
      svg("title", { id: "chart-title" }, t("chart_caption")),
      svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#8a94a3" }),
      svg("text", { x: 4, y: pad - 8, "font-size": 12, fill: "#5b6470" }, String(top)));
    days.forEach((d, i) => {
      root.append(svg("rect", { x: x(i) - bar, y: y(d.issued.total), width: bar, height: height - pad - y(d.issued.total), fill: "#0b5cad" },
        svg("title", {}, `${d.day} ${t("issued_total")} ${d.issued.total}`)));
      root.append(svg("rect", { x: x(i), y: y(d.redeemed), width: bar, height: height - pad - y(d.redeemed), fill: "#e07b00" },
        svg("title", {}, `${d.day} ${t("redeemed")} ${d.redeemed}`)));
      if (i % Math.ceil(days.length / 10) === 0) {
        root.append(svg("text", { x: x(i), y: height - pad + 16, "font-size": 11, "text-anchor": "middle", fill: "#5b6470" }, d.day.slice(5)));
      }
    });
    root.append(svg("polyline", { fill: "none", stroke: "#1e7b34", "stroke-width": 2,
      points: days.map((d, i) => `${x(i)},${y(d.outstanding)}`).join(" ") }));
    return h("figure", {}, root, h("figcaption", { class: "legend muted" },
      h("span", {}, h("i", { class: "sw-issued" }), t("issued_total")), h("span", {}, h("i", { class: "sw-redeemed" }), t("redeemed")),
      h("span", {}, h("i", { class: "sw-outstanding" }), t("outstanding")), " — ", t("chart_caption")));
  }

  async function reportScreen(root) {
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);  // Asia/Shanghai
    const params = new URLSearchParams(location.hash.split("?")[1] || "");
    const from = h("input", { type: "date", value: params.get("from") || "" });
    const to = h("input", { type: "date", value: params.get("to") || today });
    const errors = h("div", {});
    const out = h("div", {});
    const load = guard(errors, async () => {
      const q = new URLSearchParams();
      if (from.value) q.set("from", from.value);
      if (to.value) q.set("to", to.value);
      const r = await api("GET", `/admin/points/report?${q}`);
      const sources = ["earn", "grant", "referral", "design_reward", "royalty", "event_reward", "envelope"];
      fill(out, chart(r.days), h("p", {}, `${t("opening")}: ${r.opening_outstanding}`), h("div", { class: "scroll" },
        table([t("day"), ...sources.map((x) => num(t(x === "grant" ? "granted" : x))), num(t("issued_total")), num(t("redeemed")), num(t("returned")), num(t("expired")), num(t("outstanding")), num(t("liability"))],
          [...r.days, r.totals].map((d) => [d.day, ...sources.map((s) => d.issued[s]), d.issued.total, d.redeemed, d.returned, d.expired, d.outstanding, d.liability_fen]))));
    });
    fill(root, h("h1", {}, t("report")),
      h("form", { onsubmit: load }, h("div", { class: "row" }, field(t("from"), from), field(t("to"), to), h("div", {}, h("button", { type: "submit" }, t("show"))))),
      errors, out);
    await load();
  }

  // -- the page --------------------------------------------------------------------------------------
  const SCREENS = { products: productsScreen, orders: ordersScreen, designs: designsScreen, events: eventsScreen,
    campaigns: campaignsScreen, coupons: couponsScreen, audit: auditScreen, report: reportScreen };

  function drawChrome(section) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    const nav = document.getElementById("nav");
    fill(nav, SECTIONS.map((s) => h("a", { href: `#/${s}`, "aria-current": s === section ? "page" : null }, t(s))));
    nav.hidden = !token;
    document.getElementById("signout").hidden = !token;
  }

  let renders = 0;
  // Draw the screen the address names; true if no other render started meanwhile (it is the one on screen).
  async function render() {
    const mine = ++renders;
    const [path] = location.hash.replace(/^#\/?/, "").split("?");
    let section, id;
    try {
      [section, id] = path.split("/").map(decodeURIComponent);
    } catch (e) {
      [section, id] = ["products", undefined];  // a malformed address: the catalog
    }
    drawChrome(SCREENS[section] ? section : "products");
    if (!token) { showSignIn(); return false; }
    const root = main();
    fill(root, h("p", {}, t("loading")));
    try {
      if (section === "products" && id === "new") await productScreen(root, null);
      else if (section === "products" && id) await productScreen(root, id);
      else if (section === "orders" && id) await orderScreen(root, id);
      else await (SCREENS[section] || productsScreen)(root);
    } catch (err) {
      if (err.status !== 401) fill(root, errorBox(err));
    }
    return mine === renders;
  }

  async function start() {
    document.getElementById("lang").addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh";
      sessionStorage.setItem("lang", lang);
      render();
    });
    document.getElementById("signout").addEventListener("click", () => signOut());
    document.querySelector(".skip").addEventListener("click", (e) => { e.preventDefault(); main().focus(); });
    window.addEventListener("hashchange", async () => { if (await render()) main().focus(); });
    try {
      config = await (await fetch(`${BASE}/console/config.json`)).json();
    } catch (e) {
      config = {};
    }
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (fragment.get("id_token") || fragment.get("error")) {  // back from the hosted sign-in page
      const expected = sessionStorage.getItem("signin_state");
      sessionStorage.removeItem("signin_state");
      history.replaceState(null, "", location.pathname + "#/products");
      // the reply's error and error_description are whatever the URL says (anyone can craft and send one): our words only
      if (fragment.get("error")) return showSignIn(t("signin_failed"));
      if (!expected || fragment.get("state") !== expected) return showSignIn(t("reply_mismatch"));
      const errors = h("div", {});
      fill(main(), errors);
      await signIn(fragment.get("id_token"), errors);
      if (!token) showSignIn(errors.textContent);
    }
    if (!fragment.get("id_token")) render();
  }

  start();
})();
