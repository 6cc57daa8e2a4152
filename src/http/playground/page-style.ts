/**
 * The pages' icon, inline: a browser asks for /favicon.ico otherwise, and gets a 404 (or a 401 where keys are set).
 */
export const PAGE_ICON = `<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232f5fd0'/%3E%3Cpath d='M4 3v10M4 8h5a2 2 0 0 1 2 2v3' stroke='white' stroke-width='2' fill='none'/%3E%3C/svg%3E">`;

/** Styles shared by the API reference and the playground: system fonts, no web fonts, nothing fetched. */
export const PAGE_STYLE = String.raw`
:root { --ink: #1d2330; --muted: #5c6576; --line: #dde1e8; --panel: #f6f7f9; --accent: #2f5fd0; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: var(--ink); background: #fff; }
header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0 12px 0 0; }
header a { color: var(--accent); }
header label { margin-left: auto; color: var(--muted); font-size: 13px; }
main { display: flex; min-height: calc(100vh - 50px); }
nav { width: 220px; flex: none; border-right: 1px solid var(--line); padding: 12px; background: var(--panel); }
nav a, nav button { display: block; width: 100%; text-align: left; padding: 6px 8px; margin: 2px 0; border: 0; border-radius: 6px; background: none; color: var(--ink); font: inherit; cursor: pointer; text-decoration: none; }
nav a:hover, nav button:hover, nav button[aria-current="true"] { background: #e4e9f5; }
nav small { color: var(--muted); display: block; font-size: 12px; }
section.content { flex: 1; padding: 16px 24px; max-width: 980px; overflow-wrap: anywhere; }
code, pre, textarea, input { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 13px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow: auto; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 4px 8px; }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
.method { display: inline-block; min-width: 52px; padding: 1px 6px; border-radius: 4px; color: #fff; font: 600 12px ui-monospace, monospace; text-align: center; }
.method.get { background: #2e7d32; } .method.post { background: var(--accent); }
.muted { color: var(--muted); }
.error { color: var(--bad); }
/* A phone (390 px): the function list goes above the content instead of taking half the width beside it. */
@media (max-width: 700px) {
  header { padding: 8px 12px; gap: 8px 12px; }
  header label { margin-left: 0; }
  main { flex-direction: column; min-height: 0; }
  nav { width: auto; border-right: 0; border-bottom: 1px solid var(--line); padding: 6px 8px; display: flex; flex-wrap: wrap; gap: 4px; }
  nav a, nav button { width: auto; margin: 0; }
  section.content { padding: 12px; max-width: 100%; }
}
`;
