// Building the page: every value is put on it as text (a text node or an attribute), never parsed as HTML.
import { statusText, t } from "./i18n.js";

export const main = () => document.getElementById("main");

// An element with attributes and children; strings become text nodes.
export function h(tag, attrs, ...kids) {
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

// An SVG element (a chart's part), built the same way: attributes and text, never markup.
export function svg(tag, attrs, ...kids) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const kid of kids) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

// Replace an element's children: arrays are flattened, null and false left out, strings as text.
export function fill(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)
    .map((k) => (k instanceof Node ? k : document.createTextNode(String(k)))));
  return el;
}

let ids = 0;
// A labelled input (the label names it for assistive technology and for the tests).
export function field(label, input) {
  const id = input.id || `f${++ids}`;
  input.id = id;
  return h("div", {}, h("label", { for: id }, label), input);
}

export function check(label, input) {
  return h("label", { class: "inline" }, input, label);
}

export function errorBox(err) {
  const box = h("div", { class: "error", role: "alert" }, h("strong", {}, err.message || t("unexpected")));
  const fields = err.details && err.details.fields;
  if (fields && typeof fields === "object") {
    box.append(h("ul", {}, Object.entries(fields).map(([name, msg]) => h("li", {}, `${name}: ${msg}`))));
  }
  return box;
}

export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  setTimeout(() => { if (el.textContent === message) el.textContent = ""; }, 4000);
}

// Run an action; its error is shown in `where` (an element), in words, never swallowed.
export function guard(where, action) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    fill(where);
    try {
      await action(event);
    } catch (err) {
      if (err.status === 401) return;  // the page is back on sign-in
      fill(where, errorBox(err));
    }
  };
}

// A table of rows in a box that scrolls sideways when the table is wider than the page (the page itself never
// does). A header made by num() right-aligns its column, one by nowrap() keeps its cells on one line.
export function table(headers, rows, attrs) {
  if (!rows.length) return h("p", { class: "muted" }, t("none"));
  const cls = headers.map((x) => x.cls || null);
  return scrollBox(h("table", attrs || {}, h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { scope: "col", class: cls[i] }, x.label ?? x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: cls[i] }, c)))))));
}

export const scrollBox = (el) => h("div", { class: "scroll" }, el);
export const num = (label) => ({ label, cls: "num" });
export const nowrap = (label) => ({ label, cls: "nowrap" });

// A status as one label in words (the shared words for the code unless given); its code is the title (a tooltip)
// for whoever reads the API's data alongside.
export const statusLabel = (code, words = statusText(code)) => h("span", { class: "badge", title: code }, words);
