// The merchandiser console's entry: one page over the public API (same origin, the merchandiser's bearer token).
// Native ES modules, no build step and no library; the address (#/section/id?query) names the screen drawn.
import { onUnauthorized, signedIn } from "./api.js";
import { auditScreen } from "./audit.js";
import { campaignsScreen } from "./campaigns.js";
import { couponsScreen } from "./coupons.js";
import { designsScreen } from "./designs.js";
import { reviewsScreen } from "./reviews.js";
import { pollsScreen } from "./polls.js";
import { discoveryScreen } from "./discovery.js";
import { errorBox, fill, h, main } from "./dom.js";
import { eventsScreen } from "./events.js";
import { lang, setLang, t } from "./i18n.js";
import { orderScreen, ordersScreen } from "./orders.js";
import { policyScreen } from "./policy.js";
import { productScreen, productsScreen } from "./products.js";
import { reportScreen } from "./report.js";
import { housesScreen } from "./houses.js";
import { hostedReply, setUpSignIn, showSignIn, signOut } from "./signin.js";

// Each section of the navigation, in order: its list, and the screen of one item (#/section/id) where it has one.
const SCREENS = {
  products: { list: productsScreen, item: productScreen },
  home: { list: discoveryScreen },
  orders: { list: ordersScreen, item: orderScreen },
  designs: { list: designsScreen },
  reviews: { list: reviewsScreen },
  events: { list: eventsScreen },
  polls: { list: pollsScreen },
  houses: { list: housesScreen },
  campaigns: { list: campaignsScreen },
  coupons: { list: couponsScreen },
  audit: { list: auditScreen },
  report: { list: reportScreen },
  policy: { list: policyScreen },
};

// "#/orders/o-1?x=1" as its section, id and query; a malformed or unknown address is the catalog.
function address() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  let section, id;
  try {
    [section, id] = path.split("/").map(decodeURIComponent);
  } catch (e) {
    [section, id] = ["products", undefined];
  }
  if (!SCREENS[section]) [section, id] = ["products", undefined];
  return { section, id, params: new URLSearchParams(query || "") };
}

function drawChrome(section) {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.getElementById("lang").textContent = lang() === "zh" ? "English" : "中文";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  const nav = document.getElementById("nav");
  fill(nav, Object.keys(SCREENS).map((s) => h("a", { href: `#/${s}`, "aria-current": s === section ? "page" : null }, t(s))));
  nav.hidden = !signedIn();
  document.getElementById("signout").hidden = !signedIn();
}

let renders = 0;
// Draw the screen the address names; true if no other render started meanwhile (it is the one on screen).
async function render() {
  const mine = ++renders;
  const { section, id, params } = address();
  drawChrome(section);
  if (!signedIn()) { showSignIn(); return false; }
  // Each render draws into a box of its own: a slower, older render (an address or language changed meanwhile)
  // finishes into a box no longer on the page, never over the newer one.
  const root = h("div", { class: "screen" }, h("p", {}, t("loading")));
  fill(main(), root);
  const screen = SCREENS[section];
  try {
    await (id && screen.item ? screen.item : screen.list)(root, { id, params, refresh: render });
  } catch (err) {
    if (err.status !== 401) fill(root, errorBox(err));
  }
  return mine === renders;
}

function home() {
  if (location.hash === "#/products") render();
  else location.hash = "#/products";  // renders on hashchange
}

async function start() {
  document.getElementById("lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    render();
  });
  document.getElementById("signout").addEventListener("click", () => signOut());
  document.querySelector(".skip").addEventListener("click", (e) => { e.preventDefault(); main().focus(); });
  window.addEventListener("hashchange", async () => { if (await render()) main().focus(); });
  onUnauthorized(() => signOut(t("session_ended")));
  await setUpSignIn(home);
  if (!(await hostedReply(new URLSearchParams(location.hash.replace(/^#/, ""))))) render();
}

start();
