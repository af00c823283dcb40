// Values from the API as the console shows them (no DOM here).

// An ISO time as "2026-12-06 08:30:00Z".
export const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
