// Values from the API as the console shows them, and money as a merchandiser types it (no DOM here).
// Cash is integer fen in the API; these convert with integer arithmetic only, never through a binary fraction.

// 89900 fen as "¥899.00", 123456789 as "¥1,234,567.89"; anything but a whole number of fen is shown as it came.
export function yuan(fen) {
  if (fen === null || fen === undefined) return "";
  if (!Number.isSafeInteger(fen)) return String(fen);
  const abs = Math.abs(fen);
  const cents = abs % 100;
  const whole = String((abs - cents) / 100).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${fen < 0 ? "-" : ""}¥${whole}.${String(cents).padStart(2, "0")}`;
}

// What a money field accepts: yuan with at most two decimals ("49.9", "49.90", "0.05"); the input's pattern too.
export const YUAN_PATTERN = "\\d{1,9}(\\.\\d{1,2})?";
const YUAN = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/;

// Typed yuan as whole fen ("49.90" is 4990), or null for anything else (empty, "1,000", "4e3", "49.999").
export function fen(text) {
  const m = YUAN.exec(String(text ?? ""));
  return m ? Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0")) : null;
}

// Fen as a money field shows it for editing: 4990 as "49.90".
export const yuanField = (fen) => (Number.isSafeInteger(fen) ? yuan(fen).replace(/[¥,]/g, "") : "");

// The shop's day (Asia/Shanghai, UTC+8 all year) `daysBack` days before today, as "2026-12-06".
export const shanghaiDay = (daysBack = 0, now = Date.now()) =>
  new Date(now + 8 * 3600 * 1000 - daysBack * 86400 * 1000).toISOString().slice(0, 10);

// An ISO time as "2026-12-06 08:30:00Z".
export const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
