// Calls to the shop's public API with the merchandiser's bearer token; its errors as ApiError, in words.
import { t } from "./i18n.js";

// Where the API is: the page is <base>/console, e.g. /api/console behind API Gateway's stage, /console locally.
export const BASE = location.pathname.replace(/\/console\/?$/, "");

let token = sessionStorage.getItem("token") || "";
let unauthorized = () => {};

export const signedIn = () => token !== "";

// What to do when the API answers 401 to a signed-in page (the entry module sends the merchandiser to sign in).
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function forgetToken() {
  token = "";
  sessionStorage.removeItem("token");
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status; this.code = code; this.details = details || {};
  }
}

// The parsed JSON answer; any other outcome throws an ApiError whose message can be shown as it is.
export async function api(method, path, body, signingIn) {
  const headers = { Authorization: "Bearer " + token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", t("network_error"), {});
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (res.status === 401 && !signingIn) {
    forgetToken();
    unauthorized();
    throw new ApiError(401, "unauthorized", t("session_ended"), {});
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || "error", e.message || `${t("unexpected")} (HTTP ${res.status})`, e.details);
  }
  return data;
}

// Keeps a token only if the API takes it for a merchandiser's (one cheap admin call); else throws that call's error.
export async function useToken(candidate) {
  token = candidate.trim();
  try {
    await api("GET", "/admin/audit?limit=1", undefined, true);
  } catch (err) {
    token = "";
    throw err;
  }
  sessionStorage.setItem("token", token);
}

// How this stage signs in (config.json); {} if the page cannot read it.
export async function loadConfig() {
  try {
    return await (await fetch(`${BASE}/console/config.json`)).json();
  } catch (e) {
    return {};
  }
}
