/**
 * The observer page's stylesheet. Its visual language: green running / closed / ready, amber
 * in backoff / half-open / overflow / limiting, red open / full / failed / denying, grey stopped /
 * disabled / unavailable.
 */
export const PAGE_STYLE = `
:root {
  --green: #2b8a3e; --green-bg: #d3f9d8;
  --amber: #d9480f; --amber-bg: #ffe8cc;
  --red: #c92a2a; --red-bg: #ffe3e3;
  --grey: #495057; --grey-bg: #e9ecef;
  --ink: #212529; --muted: #6c757d; --line: #dee2e6; --paper: #ffffff; --page: #f4f5f7;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--page); }
h1 { font-size: 17px; margin: 0; font-weight: 600; }
h1 span { font-weight: 400; color: #adb5bd; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; }
.bar { display: flex; gap: 16px; align-items: center; padding: 10px 20px; background: #1f2328; color: #f8f9fa; position: sticky; top: 0; z-index: 2; }
.connection::before { content: ""; display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: #adb5bd; }
.connection[data-state="live"]::before { background: #51cf66; }
.connection[data-state="reconnecting"]::before { background: #ffa94d; }
.connection[data-state="closed"]::before { background: #ff6b6b; }
.updated { color: #adb5bd; font-size: 12px; margin-right: auto; }
.token { font-size: 12px; color: #ced4da; }
.token input { margin-left: 6px; padding: 3px 6px; border-radius: 4px; border: 1px solid #495057; background: #343a40; color: #f8f9fa; width: 14em; }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
section { margin-bottom: 20px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; border-top: 3px solid var(--grey-bg); }
.tile b { display: block; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile span { color: var(--muted); font-size: 12px; }
.tile.good { border-top-color: var(--green); } .tile.warn { border-top-color: var(--amber); } .tile.bad { border-top-color: var(--red); }
.tile.warn b { color: var(--amber); } .tile.bad b { color: var(--red); }
.sup { background: var(--paper); border: 1px solid var(--line); border-left: 4px solid var(--green); border-radius: 8px; margin-bottom: 10px; }
.sup[data-status="stopped"] { border-left-color: #adb5bd; opacity: .8; }
.sup-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line); }
.sup-head .name { font-family: var(--mono); font-weight: 600; }
.tag { font-size: 11px; padding: 1px 6px; border-radius: 4px; background: #edf2ff; color: #364fc7; font-family: var(--mono); }
.counts { color: var(--muted); font-size: 12px; margin-left: auto; }
.counts button { font: inherit; border: 0; background: none; padding: 0 2px; cursor: pointer; color: inherit; text-decoration: underline dotted; }
.counts button[aria-pressed="true"] { color: var(--ink); font-weight: 600; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 500; color: var(--muted); font-size: 12px; padding: 4px 12px; }
td { padding: 5px 12px; border-top: 1px solid #f1f3f5; vertical-align: top; }
td.id { font-family: var(--mono); word-break: break-all; }
td.num { font-variant-numeric: tabular-nums; }
.recent { color: var(--amber); font-size: 12px; margin-left: 4px; }
tr.flash td { background: #fff3bf; transition: background .3s; }
.exit { font-size: 12px; }
.exit .reason { font-family: var(--mono); }
.exit .message { color: var(--red); }
.exit time, .ago { color: var(--muted); }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; font-variant-numeric: tabular-nums; }
.s-running, .s-closed, .s-ready, .s-held, .s-ok { background: var(--green-bg); color: var(--green); }
.s-backoff, .s-restarting, .s-half_open, .s-overflow, .s-draining, .s-limiting { background: var(--amber-bg); color: var(--amber); }
.s-open, .s-full, .s-failed, .s-denying { background: var(--red-bg); color: var(--red); }
.s-stopped, .s-disabled, .s-unavailable, .s-standby { background: var(--grey-bg); color: var(--grey); }
.pager { display: flex; gap: 10px; align-items: center; padding: 6px 12px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
.pager button, .actions button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid var(--line); border-radius: 4px; background: #f8f9fa; cursor: pointer; }
.pager button:disabled { opacity: .4; cursor: default; }
.nested { margin: 0 0 8px 18px; padding: 8px 10px 0 10px; border-left: 2px dashed var(--line); }
.nested:empty { display: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 20px; }
.cards { display: grid; gap: 10px; }
.card { background: var(--paper); border: 1px solid var(--line); border-left: 4px solid var(--green); border-radius: 8px; padding: 8px 12px; }
.card .head { display: flex; gap: 8px; align-items: center; justify-content: space-between; }
.card .name { font-family: var(--mono); font-weight: 600; word-break: break-all; }
.card dl { display: grid; grid-template-columns: repeat(4, auto); gap: 2px 12px; margin: 8px 0 0; font-size: 12px; }
.card dt { color: var(--muted); }
.card dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
.card dd.alert { color: var(--red); }
.card .countdown { margin-top: 6px; font-weight: 600; color: var(--red); font-variant-numeric: tabular-nums; }
.card[data-tone="warn"] { border-left-color: var(--amber); }
.card[data-tone="bad"] { border-left-color: var(--red); background: #fff5f5; }
.card[data-tone="off"] { border-left-color: #adb5bd; }
.bar-gauge { height: 6px; border-radius: 3px; background: var(--grey-bg); margin-top: 8px; overflow: hidden; display: flex; }
.bar-gauge i { display: block; height: 100%; }
.bar-gauge .used { background: #4dabf7; } .bar-gauge .over { background: #ffa94d; }
.actions { display: flex; gap: 6px; margin-top: 8px; }
td .actions { margin-top: 0; }
ol.events { list-style: none; margin: 0; padding: 0; background: var(--paper); border: 1px solid var(--line); border-radius: 8px; max-height: 340px; overflow: auto; }
ol.events li { padding: 4px 12px; border-top: 1px solid #f1f3f5; display: flex; gap: 10px; font-size: 13px; }
ol.events li:first-child { border-top: 0; }
ol.events .ago { min-width: 5.5em; font-variant-numeric: tabular-nums; }
ol.events .kind { font-family: var(--mono); font-size: 11px; color: var(--muted); min-width: 5em; }
.sev-error .text { color: var(--red); } .sev-warning .text { color: var(--amber); }
.empty { color: var(--muted); margin: 4px 0; }
.toast { position: fixed; right: 20px; bottom: 20px; max-width: 420px; padding: 10px 14px; border-radius: 8px; background: #1f2328; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.2); }
.toast[data-kind="error"] { background: var(--red); }
`;
