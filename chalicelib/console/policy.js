// The central bank's issuance policy: the version in force with its levers, the versions scheduled (each with its
// changes against the one before it), the history with Load more, and the editor of a new version.
import { api } from "./api.js";
import { fill, h, nowrap, num, statusLabel, table } from "./dom.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";
import { diffTable, policyEditor } from "./policy-editor.js";
import { policyDiff, ratePercent, shanghaiTime, TIERS } from "./policy-rules.js";

const badge = (v) => statusLabel(v.status, t(`version_${v.status}`));
const tiers = (list) => list.map((tier) => t(`tier_${tier}`)).join(", ");

// A version's levers: the daily caps by tier, the tasks, and the rest.
function levers(p) {
  const tasks = Object.keys(p.tasks).sort().map((name) => [name, p.tasks[name]]);
  return [
    h("h3", {}, t("daily_caps")),
    table([t("tier"), num(t("daily_cap"))], TIERS.map((tier) => [t(`tier_${tier}`), p.daily_caps[tier]]), { class: "caps" }),
    h("h3", {}, t("tasks")),
    table([t("task"), t("title"), t("title_zh"), num(t("points")), t("capped"), num(t("per_day")), t("tiers"), num(t("contribution"))],
      tasks.map(([name, k]) => [h("code", {}, name), k.title, k.title_zh, k.points, t(k.capped ? "yes" : "no"), k.per_day,
        tiers(k.tiers), k.contribution ?? 0]), { class: "tasks" }),
    h("h3", {}, t("other_levers")),
    table([t("lever"), num(t("value"))], [
      [t("referral_test_drive"), p.referral_points.test_drive],
      [t("referral_purchase"), p.referral_points.purchase],
      [t("design_reward_points"), p.design_reward_points],
      [t("royalty_rate"), `${ratePercent(p.royalty_rate)}%`],
      [t("event_host_share"), `${ratePercent(p.event_host_share)}%`],
      [t("envelope_limit"), p.envelopes.daily_send_points],
    ], { class: "levers" }),
  ];
}

// "Version 2 [scheduled] · takes effect 2097-01-01 00:00:00 +08:00 · by merch-1 · the note"
const about = (v, since) => h("p", {}, h("strong", {}, `${t("version")} ${v.version}`), " ", badge(v),
  ` · ${t(since ? "in_force_since" : "takes_effect")} ${shanghaiTime(v.effective_from)} · ${t("created_by")} ${v.created_by} · `, v.note);

const region = (id, title, ...kids) => h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...kids);

export async function policyScreen(root, { refresh }) {
  const editor = policyEditor(refresh);
  const listErrors = h("div", {});
  const history = pagedList("/admin/policy/versions?limit=20", (items) => table(
    [num(t("version")), t("status"), nowrap(t("effective_col")), t("note_col"), t("author"), nowrap(t("created")), nowrap(t("action"))],
    items.map((v) => [v.version, badge(v), shanghaiTime(v.effective_from), v.note, v.created_by, shanghaiTime(v.created_at),
      h("button", { type: "button", class: "secondary", onclick: () => editor.open(v) }, `${t("copy_of")} ${v.version}`)]),
    { id: "policy-history" }), listErrors);
  // The screen appears whole, once both have come: the console focuses it then, never after the editor took focus.
  const [{ in_force: now, scheduled }] = await Promise.all([api("GET", "/admin/policy"), history.load()]);
  // Each waiting version against the one in force just before it: the version now, then the previous one waiting.
  const waiting = [...scheduled].sort((a, b) => (a.effective_from < b.effective_from ? -1 : 1));
  fill(root, h("h1", {}, t("policy")),
    region("policy-now", t("in_force"), about(now, true),
      h("p", {}, h("button", { type: "button", onclick: () => editor.open(now) }, t("new_version"))), levers(now.policy)),
    region("policy-scheduled", t("scheduled_versions"), waiting.length
      ? waiting.map((v, i) => h("article", { class: "card" }, about(v), diffTable(policyDiff((i ? waiting[i - 1] : now).policy, v.policy))))
      : h("p", { class: "muted" }, t("none_scheduled"))),
    region("policy-history-title", t("history"), listErrors, history.view),
    editor.view);
}
