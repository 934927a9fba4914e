#!/usr/bin/env node
// Baseline for the benchmarks: a plain node:http server rendering the demo's product-list
// page with Node's own svelte/server render(), producing the same document Fymo does,
// byte for byte but for the per-response CSP nonce and CSRF token (which it makes the same
// way: 16 and 32 random bytes as hex): the shell, CSS and modulepreload links from the
// build's manifest.json, Svelte's head, the body inside `<div id="__fymo" data-page='…'>`
// (Inertia's page object, HTML-escaped) and the module script. Templates compile on
// import through the same module hooks the differential test uses; no Fymo code runs.
// No sessions and no cache: it is the cost of rendering and assembling the page.
//
// usage: node bench/node-server.mjs PORT [APP_ROOT]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const root = path.resolve(process.argv[3] ?? repo);
register(pathToFileURL(path.join(repo, 'tests/ssr/svelte-hooks.mjs')), import.meta.url, {
	data: { fixtures: path.join(root, 'templates'), nodeTools: path.join(repo, 'node-tools'), root }
});

const { render } = await import('svelte/server');
const load = async (rel) => (await import(pathToFileURL(path.join(root, rel)).href)).default;
const Page = await load('templates/products/index.svelte');
const Layout = await load('templates/layouts/main.svelte');
const LayoutRoot = (await import(pathToFileURL(path.join(repo, 'js/LayoutRoot.svelte')).href)).default;
const manifest = JSON.parse(readFileSync(path.join(root, '.fymo/build/manifest.json'), 'utf8'));

const PAGE = 'products/index';
const LAYOUT = 'layouts/main';
const A = '/_fymo/';
const entries = [manifest.components[LAYOUT], manifest.components[PAGE]];

// What does not change between requests: links, the page object's tail, the module script.
const seen = new Set();
let links = '';
for (const css of entries.flatMap((e) => e.css)) {
	if (!seen.has(css)) seen.add(css), (links += `<link rel="stylesheet" href="${A}${css}">\n`);
}
for (const e of [manifest.client, ...entries]) {
	for (const file of [e.file, ...e.imports]) {
		if (!seen.has(file)) seen.add(file), (links += `<link rel="modulepreload" href="${A}${file}">\n`);
	}
}
const assets = {};
for (const [name, e] of [[LAYOUT, entries[0]], [PAGE, entries[1]]]) {
	assets[name] = { js: A + e.file, css: e.css.map((c) => A + c) };
}
const script = (nonce) =>
	`<script type="module" nonce="${nonce}">\nimport { start } from "${A}${manifest.client.file}";\n` +
	`import Page from "${A}${entries[1].file}";\nimport L0 from "${A}${entries[0].file}";\nstart(Page, [L0]);\n</script>`;

const TAGS = ['new', 'sale', 'eco', 'gift'];
const product = (id) => ({
	id,
	name: `Product ${id}`,
	price: (id % 200) * 1.25 + 0.99,
	tags: TAGS.slice(0, id % 3),
	description: `Product ${id} is a fine <thing> & worth every cent.`
});

// For the single-quoted data-page attribute, as Fymo writes it.
const escapeAttr = (text) => text.replace(/[&'<>]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;' })[c]);

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://localhost');
	if (url.pathname !== '/products') {
		res.writeHead(404).end();
		return;
	}
	const n = Math.min(Number(url.searchParams.get('n') ?? 10), 10000);
	const nonce = randomBytes(16).toString('hex');
	const fymo = { csrf: randomBytes(32).toString('hex'), flash: null };
	const props = { products: Array.from({ length: n }, (_, i) => product(i + 1)), total: n, fymo };
	const layouts = [{ component: Layout, props: { fymo } }];
	const { head, body } = render(LayoutRoot, { props: { layouts, Page, props } });
	const page = JSON.stringify({
		component: PAGE,
		props,
		url: req.url,
		version: manifest.version,
		layouts: [LAYOUT],
		layoutProps: [{ fymo }],
		assets
	});
	const html =
		`<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
		`<style nonce="${nonce}">#__fymo{display:contents}</style>\n${links}${head}\n</head>\n<body>\n` +
		`<div id="__fymo" data-page='${escapeAttr(page)}'>${body}</div>\n${script(nonce)}\n</body>\n</html>\n`;
	res.writeHead(200, {
		'content-type': 'text/html; charset=utf-8',
		'content-security-policy': `script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'`
	});
	res.end(html);
});
server.listen(Number(process.argv[2] ?? 8001), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
