// Approve, or reject with a note: the form under each item of a review queue (designs, events).
import { api } from "./api.js";
import { field, guard, h, toast } from "./dom.js";
import { t } from "./i18n.js";

export function decisionForm(path, after) {
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
