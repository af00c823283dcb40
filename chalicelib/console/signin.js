// Signing in: a pasted token, the demo token (stage local), or the hosted sign-in page and its reply.
import { forgetToken, loadConfig, useToken } from "./api.js";
import { errorBox, field, fill, h, main } from "./dom.js";
import { t } from "./i18n.js";

let config = {};
let signedIn = () => {};

// Reads how this stage signs in; `then` runs once a token is taken (the entry module shows the catalog).
export async function setUpSignIn(then) {
  signedIn = then;
  config = await loadConfig();
}

// True once the API took the token as a merchandiser's; else the reason is shown in `where`.
async function signIn(candidate, where) {
  try {
    await useToken(candidate);
  } catch (err) {
    const message = err.status === 403 ? t("not_merch") : err.status === 401 ? t("bad_token") : err.message;
    fill(where, errorBox({ message, details: {} }));
    return false;
  }
  signedIn();
  return true;
}

export function signOut(message) {
  forgetToken();
  showSignIn(message);
}

export function showSignIn(message) {
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

// True if the address is the hosted sign-in page's reply (then it is handled: signed in, or the sign-in page says why).
export async function hostedReply(fragment) {
  if (!fragment.get("id_token") && !fragment.get("error")) return false;
  const expected = sessionStorage.getItem("signin_state");
  sessionStorage.removeItem("signin_state");
  history.replaceState(null, "", location.pathname + "#/products");
  if (fragment.get("error")) {
    // The reply's words are whatever the address says (anyone can send a link with them): a fixed message instead.
    showSignIn(t("signin_refused"));
  } else if (!expected || fragment.get("state") !== expected) {
    showSignIn(t("reply_mismatch"));
  } else {
    const errors = h("div", {});
    fill(main(), errors);
    if (!(await signIn(fragment.get("id_token"), errors))) showSignIn(errors.textContent);
  }
  return true;
}
