// The editor of a new policy version: a copy of one version's levers to change, saved as a draft (shown with its
// diff against the version that would be in force then) and scheduled from there.
import { api, ApiError } from "./api.js";
import { check, errorBox, field, fill, guard, h, num, statusLabel, svg, table, toast } from "./dom.js";
import { shanghaiDay, yuan } from "./format.js";
import { t } from "./i18n.js";
import { percentRate, ratePercent, shanghaiInstant, shown, TASK_NAME, TIERS } from "./policy-rules.js";

const whole = (value, min, max, label) =>
  h("input", { type: "number", class: "short", min, max, step: 1, required: true, value, "aria-label": label });
const tierChecks = (tiers, label) => Object.fromEntries(TIERS.map((tier) =>
  [tier, h("input", { type: "checkbox", checked: tiers.includes(tier), "aria-label": label(t(`tier_${tier}`)) })]));

// A version's changes: each lever's dotted path, before and after.
export function diffTable(changes) {
  if (!changes.length) return h("p", { class: "muted" }, t("no_changes"));
  return table([t("lever"), t("before"), t("after")], changes.map((c) => [h("code", {}, c.path), shown(c.before), shown(c.after)]), { class: "diff" });
}

// One task's fields, each named after the task for assistive technology ("post: Points"); `kept` is the task as
// copied, so a field this editor does not show goes back unchanged.
function taskFields(name, kept) {
  const label = (what) => `${name}: ${what}`;
  return {
    name, kept,
    title: h("input", { required: true, maxlength: 80, size: 16, value: kept.title, "aria-label": label(t("title")) }),
    title_zh: h("input", { required: true, maxlength: 80, size: 10, value: kept.title_zh, "aria-label": label(t("title_zh")) }),
    points: whole(kept.points, 0, 100000, label(t("points"))),
    capped: h("input", { type: "checkbox", checked: kept.capped, "aria-label": label(t("capped")) }),
    per_day: whole(kept.per_day, 1, 100, label(t("per_day"))),
    tiers: tierChecks(kept.tiers, label),
    contribution: whole(kept.contribution ?? 0, 0, 1000, label(t("contribution"))),
  };
}

const taskRule = (f) => ({
  ...f.kept, title: f.title.value, title_zh: f.title_zh.value, points: Number(f.points.value), capped: f.capped.checked,
  per_day: Number(f.per_day.value), tiers: TIERS.filter((tier) => f.tiers[tier].checked), contribution: Number(f.contribution.value),
});

// Two bars a source: what it issued, and what the version would have issued from the same activity.
function sourceChart(rows) {
  const width = 640, height = 200, pad = 30;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.issued, r.would_issue)));
  const step = (width - 2 * pad) / Math.max(1, rows.length);
  const y = (v) => height - pad - (Math.max(0, v) / top) * (height - 2 * pad);
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("dry_run") },
    svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#8a94a3" }));
  rows.forEach((r, i) => {
    const x = pad + i * step + step / 4, bar = step / 4;
    root.append(svg("rect", { x, y: y(r.issued), width: bar, height: height - pad - y(r.issued), fill: "#0b5cad" },
      svg("title", {}, `${t(r.source)} ${t("issued")} ${r.issued}`)));
    root.append(svg("rect", { x: x + bar, y: y(r.would_issue), width: bar, height: height - pad - y(r.would_issue), fill: "#7a4fb5" },
      svg("title", {}, `${t(r.source)} ${t("would_issue")} ${r.would_issue}`)));
    root.append(svg("text", { x: x + bar, y: height - pad + 16, "font-size": 11, "text-anchor": "middle", fill: "#5b6470" }, t(r.source)));
  });
  return h("figure", {}, root, h("figcaption", { class: "legend muted" },
    h("span", {}, h("i", { class: "sw-issued" }), t("issued")), h("span", {}, h("i", { class: "sw-would" }), t("would_issue"))));
}

// What a version would have issued over the last N days, by source, against what they issued (changes nothing).
function dryRunPanel(version) {
  const days = h("input", { type: "number", class: "short", min: 1, max: 90, step: 1, required: true, value: 30 });
  const out = h("div", { "aria-live": "polite" });
  const errors = h("div", {});
  const run = guard(errors, async () => {
    fill(out);
    const r = await api("POST", `/admin/policy/versions/${version}/dry-run?days=${encodeURIComponent(days.value)}`);
    fill(out, h("p", {}, `${r.first_day} – ${r.last_day}`), sourceChart(r.sources),
      table([t("source"), num(t("issued")), num(t("would_issue")), num(t("change"))],
        [...r.sources.map((x) => [t(x.source), x.issued, x.would_issue, x.change]), [t("totals"), r.issued, r.would_issue, r.change]],
        { class: "dry-run" }),
      h("p", {}, h("strong", {}, `${t("liability_change")}: ${yuan(r.liability_change_fen)}`)), h("p", { class: "muted" }, r.covers));
  });
  return h("section", { "aria-label": t("dry_run") }, h("h4", {}, t("dry_run")),
    h("div", {}, field(t("dry_days"), days), h("button", { type: "button", class: "secondary", onclick: run }, t("dry_run_go"))),
    errors, out);
}

// A refusal to schedule in the console's words (the API's own sentence under them); any other error as usual.
function scheduleError(err) {
  if (err.code !== "too_soon" && err.code !== "conflict") return errorBox(err);
  return h("div", { class: "error", role: "alert" }, h("strong", {}, t(`policy_${err.code}`)), h("p", {}, err.message));
}

// The editor's card (hidden until open(version) fills it with a copy of that version); `scheduled()` runs once a
// draft is scheduled (the screen draws the schedule again).
export function policyEditor(scheduled) {
  const card = h("section", { class: "card", "aria-labelledby": "policy-editor", hidden: true });

  function open(version) {
    const base = structuredClone(version.policy);
    const caps = Object.fromEntries(TIERS.map((tier) => [tier, whole(base.daily_caps[tier], 0, 1000000)]));
    let tasks = Object.keys(base.tasks).sort().map((name) => taskFields(name, base.tasks[name]));
    const tasksBox = h("div", {});
    const drawTasks = () => fill(tasksBox, table(
      [t("task"), t("title"), t("title_zh"), t("points"), t("capped"), t("per_day"), t("tiers"), t("contribution"), t("action")],
      tasks.map((f) => [h("code", {}, f.name), f.title, f.title_zh, f.points, f.capped, f.per_day,
        TIERS.map((tier) => check(t(`tier_${tier}`), f.tiers[tier])), f.contribution,
        h("button", { type: "button", class: "secondary", "aria-label": `${t("remove")} ${f.name}`,
          onclick: () => { tasks = tasks.filter((x) => x !== f); drawTasks(); } }, t("remove"))]), { class: "task-editor" }));
    drawTasks();

    const newName = h("input", { maxlength: 40, size: 20 });  // checked on "Add a task", so it never stops a save
    const addErrors = h("div", {});
    const addTask = () => {
      const name = newName.value.trim();
      const problem = !TASK_NAME.test(name) ? "bad_task_name" : tasks.some((f) => f.name === name) ? "task_exists" : null;
      fill(addErrors, problem && errorBox({ message: t(problem) }));
      if (problem) return;
      const f = taskFields(name, { title: "", title_zh: "", points: 1, capped: true, per_day: 1, tiers: [...TIERS], contribution: 0 });
      tasks.push(f);
      drawTasks();
      newName.value = "";
      f.title.focus();
    };
    newName.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addTask(); } });

    const v = {
      test_drive: whole(base.referral_points.test_drive, 1, 1000000), purchase: whole(base.referral_points.purchase, 1, 1000000),
      design: whole(base.design_reward_points, 0, 100000), send: whole(base.envelopes.daily_send_points, 1, 1000000000),
      royalty: h("input", { inputmode: "decimal", class: "short", required: true, value: ratePercent(base.royalty_rate) }),
      share: h("input", { inputmode: "decimal", class: "short", required: true, value: ratePercent(base.event_host_share) }),
      effective: h("input", { type: "datetime-local", required: true, value: `${shanghaiDay(-1)}T00:00` }),
      note: h("input", { required: true, maxlength: 500, size: 60 }),
    };
    const errors = h("div", {});
    const result = h("div", { "aria-live": "polite" });

    const policy = () => {
      const rates = { royalty_rate: percentRate(v.royalty.value), event_host_share: percentRate(v.share.value) };
      const bad = Object.keys(rates).filter((k) => rates[k] === null);
      if (bad.length) {
        throw new ApiError(0, "invalid_request", t("check_fields"), { fields: Object.fromEntries(bad.map((k) => [`policy.${k}`, t("percent_hint")])) });
      }
      return {
        ...base, ...rates,
        daily_caps: Object.fromEntries(TIERS.map((tier) => [tier, Number(caps[tier].value)])),
        tasks: Object.fromEntries(tasks.map((f) => [f.name, taskRule(f)])),
        referral_points: { ...base.referral_points, test_drive: Number(v.test_drive.value), purchase: Number(v.purchase.value) },
        design_reward_points: Number(v.design.value),
        envelopes: { ...base.envelopes, daily_send_points: Number(v.send.value) },
      };
    };

    const showDraft = (draft) => {
      const scheduleErrors = h("div", {});
      const schedule = async () => {
        fill(scheduleErrors);
        try {
          await api("POST", `/admin/policy/versions/${draft.version}/schedule`);
        } catch (err) {
          if (err.status !== 401) fill(scheduleErrors, scheduleError(err));
          return;
        }
        toast(`${t("scheduled_ok")} ${draft.version}`);
        await scheduled();
      };
      fill(result, h("h3", {}, `${t("draft_saved")} ${draft.version} `, statusLabel(draft.status, t(`version_${draft.status}`))),
        diffTable(draft.diff || []), dryRunPanel(draft.version), scheduleErrors,
        h("p", {}, h("button", { type: "button", onclick: schedule }, `${t("schedule")} ${draft.version}`)));
    };

    const save = guard(errors, async () => {
      fill(result);
      const body = { policy: policy(), effective_from: shanghaiInstant(v.effective.value), note: v.note.value };
      showDraft(await api("POST", "/admin/policy/versions", body));
    });

    const heading = h("h2", { id: "policy-editor", tabindex: -1 }, `${t("editor_title")} ${version.version}`);
    fill(card, heading, h("form", { onsubmit: save },
      h("h3", {}, t("daily_caps")),
      h("div", { class: "row" }, TIERS.map((tier) => field(`${t("daily_cap")}: ${t(`tier_${tier}`)}`, caps[tier]))),
      h("h3", {}, t("tasks")), tasksBox,
      h("div", { class: "row" }, field(t("task_name"), newName),
        h("div", {}, h("button", { type: "button", class: "secondary", onclick: addTask }, t("add_task")))), addErrors,
      h("h3", {}, t("other_levers")),
      h("div", { class: "row" }, field(t("referral_test_drive"), v.test_drive), field(t("referral_purchase"), v.purchase),
        field(t("design_reward_points"), v.design), field(t("royalty_rate"), v.royalty), field(t("event_host_share"), v.share),
        field(t("envelope_limit"), v.send)),
      h("div", { class: "row" }, field(t("effective_local"), v.effective), field(t("version_note"), v.note),
        h("div", {}, h("button", { type: "submit" }, t("save_draft")))),
      errors), result);
    card.hidden = false;
    heading.focus();
  }

  return { view: card, open };
}
