// Polls and elections weighted by contribution: create one, watch its turnout while open, read the three tallies
// side by side after close, and publish them.
import { api } from "./api.js";
import { field, fill, guard, h, num, table, toast } from "./dom.js";
import { when } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

const path = (p, tail) => `/admin/polls/${encodeURIComponent(p.poll_id)}/${tail}`;

function resultsTable(r) {
  return h("div", {},
    table([t("option"), num(t("voters_h")), num(t("equal")), num(t("weighted")), num(t("quadratic"))],
      r.options.map((o) => [`${o.title} (${o.option_id})`, o.voters, o.equal, o.weighted, o.quadratic.toFixed(3)]), { "aria-label": t("results") }),
    h("p", { class: "muted" }, `${t("turnout")}: ${r.turnout} · ${t("weight")}: ${r.weight} · ${t("largest_share")}: ${r.largest_share ?? "–"}` +
      (r.cap !== null ? ` · ${t("capped_at")} ${r.cap} (${r.capped_voters})` : "") + (r.published_at ? ` · ${t("published_at")} ${when(r.published_at)}` : "")));
}

function pollCard(p, refresh) {
  const errors = h("div", {});
  const out = h("div", {});
  const turnout = guard(errors, async () => {
    const r = await api("GET", path(p, "turnout"));
    fill(out, h("p", {}, `${t("turnout")}: ${r.voters} ${t("voters")} · ${t("weight")} ${r.weight}`));
  });
  const results = guard(errors, async () => fill(out, resultsTable(await api("GET", `/polls/${encodeURIComponent(p.poll_id)}/results`))));
  const publish = guard(errors, async () => {
    fill(out, resultsTable(await api("POST", path(p, "publish"))));
    toast(t("published_ok"));
    refresh();
  });
  const closed = p.status === "closed" || p.status === "published";
  return h("article", { class: "card" },
    h("h2", {}, `${p.title} · ${p.title_zh}`),
    h("p", { class: "muted" }, `${p.poll_id} · ${t(p.status)} · ${when(p.opens_at)} → ${when(p.closes_at)} · ${t(p.weighting)} · ${t("cap_share")} ${p.weight_cap_share}` +
      ` · ${t("min_tier")} ${p.eligibility.min_tier}, ${t("min_contribution")} ${p.eligibility.min_contribution}`),
    h("p", {}, p.options.map((o) => o.title).join(" · ")),
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: turnout }, t("turnout")),
      closed ? h("button", { type: "button", class: "secondary", onclick: results }, t("results")) : null,
      p.status === "closed" ? h("button", { type: "button", onclick: publish }, t("publish_results")) : null),
    errors, out);
}

export async function pollsScreen(root, { refresh }) {
  const errors = h("div", {});
  const listErrors = h("div", {});
  const list = pagedList("/polls?limit=50", (items) => items.map((p) => pollCard(p, refresh)), listErrors);
  const v = {
    id: h("input", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{2,63}", title: t("poll_id_hint") }),
    title: h("input", { required: true, maxlength: 80 }), title_zh: h("input", { required: true, maxlength: 80 }),
    options: h("textarea", { required: true, rows: 4, placeholder: "xiamen=Xiamen\nzhuhai=Zhuhai" }),
    choices: h("input", { type: "number", min: 1, value: 1 }),
    opens: h("input", { required: true, placeholder: "2027-01-01T10:00:00+08:00" }),
    closes: h("input", { required: true, placeholder: "2027-01-08T10:00:00+08:00" }),
    tier: h("select", {}, ["fan", "deposit", "owner"].map((x) => h("option", { value: x }, x))),
    minContribution: h("input", { type: "number", min: 0, value: 0 }),
    weighting: h("select", {}, ["contribution", "equal"].map((x) => h("option", { value: x }, t(x)))),
    cap: h("input", { type: "number", min: 0.001, max: 1, step: 0.001, value: 0.05 }),
  };
  const create = guard(errors, async () => {
    const options = v.options.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
      const [id, ...title] = l.split("=");
      return { option_id: id.trim(), title: (title.join("=") || id).trim() };
    });
    await api("POST", "/admin/polls", {
      poll_id: v.id.value.trim(), title: v.title.value, title_zh: v.title_zh.value, options, choices: Number(v.choices.value),
      opens_at: v.opens.value.trim(), closes_at: v.closes.value.trim(), weighting: v.weighting.value, weight_cap_share: Number(v.cap.value),
      eligibility: { min_tier: v.tier.value, min_contribution: Number(v.minContribution.value) },
    });
    toast(t("created_ok"));
    refresh();
  });
  fill(root, h("h1", {}, t("polls")), listErrors, list.view,
    h("form", { class: "card", onsubmit: create }, h("h2", {}, t("new_poll")), errors,
      h("div", { class: "row" }, field(t("poll_id"), v.id), field(t("title"), v.title), field(t("title_zh"), v.title_zh)),
      h("div", { class: "row" }, field(t("poll_options"), v.options), field(t("choices"), v.choices),
        field(t("opens_at"), v.opens), field(t("closes_at"), v.closes)),
      h("div", { class: "row" }, field(t("min_tier"), v.tier), field(t("min_contribution"), v.minContribution),
        field(t("weighting"), v.weighting), field(t("cap_share"), v.cap), h("div", {}, h("button", { type: "submit" }, t("create"))))));
  await list.load();
}
