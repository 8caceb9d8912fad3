import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/**
 * The observer's page: one HTML document, one stylesheet and one script module, served by the
 * observer itself (no CDN, no build step, nothing fetched from elsewhere). They live in strings
 * in these modules so that the package ships them wherever it ships its JavaScript; the script
 * is plain DOM code, and the page's Content-Security-Policy lets it load nothing but these three
 * files and the observer's own JSON and event stream.
 */
export { PAGE_SCRIPT, PAGE_STYLE };

/** The page's response headers: nothing cached, nothing inline, nothing from elsewhere, never framed. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
});

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** The HTML document, its script and stylesheet under `base`. */
export function pageHtml(base: string): string {
  const root = escapeHtml(base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="overseer-base" content="${root}">
<title>overseer observer</title>
<link rel="stylesheet" href="${root}/app.css">
<script type="module" src="${root}/app.js"></script>
</head>
<body>
<header class="bar">
  <h1>overseer <span>observer</span></h1>
  <span id="connection" class="connection" data-state="connecting">connecting…</span>
  <span id="updated" class="updated"></span>
  <label id="token-field" class="token" hidden>action token <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="bearer token"></label>
</header>
<main>
  <section id="summary" class="tiles" aria-label="summary"></section>
  <section id="trees" aria-labelledby="trees-title"><h2 id="trees-title">Supervision trees</h2><div class="body"></div></section>
  <div class="grid">
    <section id="breakers" aria-labelledby="breakers-title" hidden><h2 id="breakers-title">Circuit breakers</h2><div class="cards"></div></section>
    <section id="pools" aria-labelledby="pools-title" hidden><h2 id="pools-title">Pools</h2><div class="cards"></div></section>
    <section id="threadPools" aria-labelledby="threadPools-title" hidden><h2 id="threadPools-title">Thread pools</h2><div class="cards"></div></section>
    <section id="limiters" aria-labelledby="limiters-title" hidden><h2 id="limiters-title">Rate limiters</h2><div class="cards"></div></section>
    <section id="leases" aria-labelledby="leases-title" hidden><h2 id="leases-title">Leases and singletons</h2><div class="cards"></div></section>
  </div>
  <section id="events" aria-labelledby="events-title"><h2 id="events-title">Recent events</h2><ol class="events"></ol></section>
</main>
<div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
<noscript>This page needs JavaScript; GET ${root}/snapshot gives the same as JSON.</noscript>
</body>
</html>
`;
}
