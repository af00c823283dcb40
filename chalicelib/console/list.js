// Lists the API pages: the first page, then the next ones on "Load more".
import { api } from "./api.js";
import { fill, guard, h } from "./dom.js";
import { t } from "./i18n.js";

// `path` (a string, or a function for a list with filters) is the first page's path with its query; `draw(items)` draws
// every item loaded so far. load() fetches the first page again (a filter changed): a newer load wins over an answer
// still on its way. Errors go to `errors`, in words.
export function pagedList(path, draw, errors) {
  const box = h("div", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let items = [];
  let cursor = null;
  let generation = 0;
  const redraw = () => fill(box, items.length ? draw(items) : h("p", { class: "muted" }, t("none")));
  const fetchPage = async (next) => {
    const mine = next ? generation : ++generation;
    const first = typeof path === "function" ? path() : path;
    const page = await api("GET", next ? `${first}&cursor=${encodeURIComponent(cursor)}` : first);
    if (mine !== generation) return;
    items = (next ? items : []).concat(page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    redraw();
  };
  more.addEventListener("click", guard(errors, () => fetchPage(true)));
  return { view: [box, h("p", {}, more)], load: guard(errors, () => fetchPage(false)), redraw };
}
