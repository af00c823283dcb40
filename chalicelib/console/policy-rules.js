// The issuance policy's values as the console compares, shows and takes them (no DOM here): the changes between
// two policies, rates as percentages, and instants in the shop's time (Asia/Shanghai, UTC+8 all year).

export const TIERS = ["fan", "deposit", "owner"];
export const TASK_NAME = /^[a-z][a-z0-9_]{1,39}$/;
const SHANGHAI_MS = 8 * 3600 * 1000;

const isRecord = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Every lever that differs, by dotted path, as the API's draft diff has them: keys in order, a key only one side
// has is one change (a task added or removed), lists compared whole.
export function policyDiff(before, after) {
  const out = [];
  const walk = (path, a, b) => {
    if (isRecord(a) && isRecord(b)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        const sub = path ? `${path}.${k}` : k;
        if (!Object.hasOwn(a, k) || !Object.hasOwn(b, k)) out.push({ path: sub, before: a[k] ?? null, after: b[k] ?? null });
        else walk(sub, a[k], b[k]);
      }
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push({ path, before: a ?? null, after: b ?? null });
    }
  };
  walk("", before, after);
  return out;
}

// A lever's value in a diff as text: "—" for none, a list as "a, b", a whole task as "title: Post; points: 5; …".
export function shown(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map(shown).join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${shown(v)}`).join("; ");
  return String(value);
}

// The API's rate ("0.125", at most six decimals) as a percentage ("12.5"), with integers only; anything else as it came.
export function ratePercent(rate) {
  const m = /^([01])(?:\.(\d{1,6}))?$/.exec(String(rate ?? ""));
  if (!m) return String(rate ?? "");
  const millionths = Number(m[1]) * 1e6 + Number((m[2] || "").padEnd(6, "0"));
  const frac = String(millionths % 10000).padStart(4, "0").replace(/0+$/, "");
  return `${Math.floor(millionths / 10000)}${frac ? `.${frac}` : ""}`;
}

// A typed percentage ("12.5", 0 to 100, at most four decimals) as the API's rate ("0.125"); null for anything else.
export function percentRate(text) {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,4}))?\s*$/.exec(String(text ?? ""));
  if (!m) return null;
  const millionths = Number(m[1]) * 10000 + Number((m[2] || "").padEnd(4, "0"));
  if (millionths > 1e6) return null;
  if (millionths === 1e6) return "1";
  const frac = String(millionths).padStart(6, "0").replace(/0+$/, "");
  return frac ? `0.${frac}` : "0";
}

// An instant as the shop's time: "2097-01-01 00:00:00 +08:00" (milliseconds only when there are some).
export function shanghaiTime(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso ?? "");
  const s = new Date(ms + SHANGHAI_MS).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}${s.slice(19, 23) === ".000" ? "" : s.slice(19, 23)} +08:00`;
}

// A datetime-local field's value read as Shanghai time, with its zone: "2097-01-01T08:00" is
// "2097-01-01T08:00:00+08:00"; null for anything else.
export function shanghaiInstant(local) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(?:\.\d{1,3})?)?$/.exec(String(local ?? ""));
  return m ? `${m[1]}${m[2] || ":00"}+08:00` : null;
}
