// The points report: for a range of days, a chart of points issued, redeemed and outstanding, the table, and the
// week's tip flows for review.
import { api } from "./api.js";
import { field, fill, guard, h, nowrap, num, svg, table } from "./dom.js";
import { shanghaiDay, yuan } from "./format.js";
import { t } from "./i18n.js";

const SOURCES = ["earn", "grant", "referral", "design_reward", "royalty", "event_reward", "envelope"];

// Bars for points issued and redeemed each day, a line for those outstanding at its end.
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

// For review: the week's largest tip flows and the pairs who tipped each other (rings passing points around).
async function tipFlows() {
  const f = await api("GET", "/admin/tips/flows?days=7");
  return h("section", { "aria-labelledby": "tip-flows" }, h("h2", { id: "tip-flows" }, `${t("tip_flows")} (${f.first_day} – ${f.last_day})`),
    h("h3", {}, t("tip_largest")),
    table([t("sender"), t("recipient"), num(t("points")), num(t("tips_count"))], f.largest.map((x) => [x.from_user_id, x.to_user_id, x.points, x.tips])),
    h("h3", {}, t("tip_reciprocal")),
    table([t("user_a"), t("user_b"), num(t("a_to_b")), num(t("b_to_a")), num(t("tips_count"))],
      f.reciprocal.map((x) => [x.a, x.b, x.a_to_b, x.b_to_a, x.tips])));
}

// The last 30 days of the shop's calendar unless the address names a range (#/report?from=…&to=…).
export async function reportScreen(root, { params }) {
  const from = h("input", { type: "date", value: params.get("from") || shanghaiDay(29) });
  const to = h("input", { type: "date", value: params.get("to") || shanghaiDay(0) });
  const errors = h("div", {});
  const out = h("div", {});
  const load = guard(errors, async () => {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    const r = await api("GET", `/admin/points/report?${q}`);
    const rate = `${(Number(r.breakage_rate) * 100).toFixed(2)}%`;
    fill(out, chart(r.days), h("p", {}, `${t("opening")}: ${r.opening_outstanding}`),
      h("p", { id: "breakage" }, `${t("breakage_rate")}: ${rate} (${t(r.breakage_source === "policy" ? "breakage_policy" : "breakage_measured")})`),
      h("p", { id: "expiring" }, r.expiring
        ? `${t("expiring")}: ${[30, 60, 90].map((n) => `${t("within_days").replace("{n}", n)} ${r.expiring[`days_${n}`]}`).join(" · ")}`
        : t("no_lots")),
      table([nowrap(t("day")), ...SOURCES.map((x) => num(t(x === "grant" ? "granted" : x))), num(t("issued_total")), num(t("redeemed")), num(t("returned")), num(t("expired")), num(t("burned")), num(t("outstanding")), num(t("liability")), num(t("liability_net"))],
        [...r.days, r.totals].map((d) => [d === r.totals ? t("totals") : d.day, ...SOURCES.map((s) => d.issued[s]), d.issued.total,
          d.redeemed, d.returned, d.expired, d.burned, d.outstanding, yuan(d.liability_fen), yuan(d.liability_net_fen)])),
      await tipFlows());
  });
  fill(root, h("h1", {}, t("report")),
    h("form", { onsubmit: load }, h("div", { class: "row" }, field(t("from"), from), field(t("to"), to), h("div", {}, h("button", { type: "submit" }, t("show"))))),
    errors, out);
  await load();
}
