// The audit log: every merchandiser action, newest first, with the fields it changed.
import { fill, h, table } from "./dom.js";
import { when } from "./format.js";
import { t } from "./i18n.js";
import { pagedList } from "./list.js";

const UNSHOWN = ["updated_at", "version"];  // they change with every write

function short(value) {
  if (value === undefined) return "–";
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

// The fields an action changed, before → after, at most six.
function change(a) {
  const before = a.before && typeof a.before === "object" ? a.before : {};
  const after = a.after && typeof a.after === "object" ? a.after : {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && !UNSHOWN.includes(k));
  return keys.slice(0, 6).map((k) => `${k}: ${short(before[k])} → ${short(after[k])}`).join("; ");
}

export async function auditScreen(root) {
  const errors = h("div", {});
  const list = pagedList("/admin/audit?limit=50", (items) => table([t("at"), t("actor"), t("action"), t("entity"), t("change")],
    items.map((a) => [when(a.at), a.actor, a.action, a.entity_id, change(a)]), { id: "audit" }), errors);
  fill(root, h("h1", {}, t("audit")), errors, list.view);
  await list.load();
}
