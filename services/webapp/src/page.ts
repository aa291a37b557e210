/** The webapp's home page: up to four catalog items and four forum users (after the book's index.html). */
import { escapeHtml } from '../../shared/src/http-util.js';
import type { CatalogItem, User } from './model.js';

export interface PageData {
  items?: CatalogItem[];
  catalogError?: string;
  users?: User[];
  forumError?: string;
}

export const CATALOG_UNAVAILABLE = 'The catalog service is currently not available.';
export const FORUM_UNAVAILABLE = 'The forum service is currently not available.';

export function renderIndex(data: PageData): string {
  const e = escapeHtml;
  const catalog = data.catalogError
    ? `<p class="error" id="catalog-error">${e(data.catalogError)}</p>`
    : `<table class="table is-bordered" id="catalog">
  <thead><tr><th>Product</th><th>Color</th><th>Price</th></tr></thead>
  <tbody>
${(data.items ?? [])
  .slice(0, 4)
  .map((i) => `  <tr><th>${e(i.name)}</th><td>${e(i.color)}</td><td>${e(i.price)}</td></tr>`)
  .join('\n')}
  </tbody>
</table>`;
  const forum = data.forumError
    ? `<p class="error" id="forum-error">${e(data.forumError)}</p>`
    : `<table class="table is-bordered" id="forum">
  <thead><tr><th>Name</th><th>Email</th><th>Company</th></tr></thead>
  <tbody>
${(data.users ?? [])
  .slice(0, 4)
  .map((u) => `  <tr><th>${e(u.name)}</th><td>${e(u.email)}</td><td>${e(u.company.name)}</td></tr>`)
  .join('\n')}
  </tbody>
</table>`;
  const color = (err?: string) => (err ? '#AD0505' : '#99D568');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Web App - Istio in Action</title>
  <style>
    body { font-family: sans-serif; margin: 2em; }
    .graph span { display: inline-block; padding: 0.5em 1em; color: #fefefe; margin-right: 1em; }
    table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
    .error { color: #AD0505; }
  </style>
</head>
<body>
<h1>Service Graph</h1>
<div class="graph">
  <span style="background-color: #99D568">Web App</span>
  <span style="background-color: ${color(data.catalogError)}">Catalog</span>
  <span style="background-color: ${color(data.forumError)}">Forum</span>
</div>
<h1>Service data</h1>
<h2>Data from the Catalog service</h2>
${catalog}
<h2>Data from the Forum service</h2>
${forum}
<footer><p>Sample application for Istio in Action (<a href="https://istioinaction.io">istioinaction.io</a>)</p></footer>
</body>
</html>
`;
}
