#!/usr/bin/env node
// Baseline for the benchmarks: a plain node:http server rendering the demo's product-list
// page with Node's own svelte/server render(), producing the same document Fymo does
// (layout, head, body, props JSON). Templates compile on import through the same module
// hooks the differential test uses; no Fymo code runs.
//
// usage: node bench/node-server.mjs PORT
import http from 'node:http';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
register(pathToFileURL(path.join(repo, 'tests/ssr/svelte-hooks.mjs')), import.meta.url, {
	data: { fixtures: path.join(repo, 'templates'), nodeTools: path.join(repo, 'node-tools') }
});

const { render } = await import('svelte/server');
const load = async (rel) => (await import(pathToFileURL(path.join(repo, rel)).href)).default;
const Page = await load('templates/products/index.svelte');
const Layout = await load('templates/layouts/main.svelte');
const LayoutRoot = await load('js/LayoutRoot.svelte');

const TAGS = ['new', 'sale', 'eco', 'gift'];
const product = (id) => ({
	id,
	name: `Product ${id}`,
	price: (id % 200) * 1.25 + 0.99,
	tags: TAGS.slice(0, id % 3),
	description: `Product ${id} is a fine <thing> & worth every cent.`
});

const escapeJson = (json) =>
	json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://localhost');
	if (url.pathname !== '/products') {
		res.writeHead(404).end();
		return;
	}
	const n = Math.min(Number(url.searchParams.get('n') ?? 10), 10000);
	const props = { products: Array.from({ length: n }, (_, i) => product(i + 1)), total: n };
	const { head, body } = render(LayoutRoot, { props: { Layout, Page, props } });
	const html = `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n${head}\n</head>\n<body>\n<div id="__fymo" style="display:contents">${body}</div>\n<script type="application/json" id="__fymo_props">${escapeJson(JSON.stringify(props))}</script>\n</body>\n</html>\n`;
	res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
});
server.listen(Number(process.argv[2] ?? 8001), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
