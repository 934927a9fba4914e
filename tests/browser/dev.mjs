#!/usr/bin/env node
// `fymo dev` in a real browser: pages hydrate from the dev bundles (one module table
// instead of esbuild chunks), a template edit reloads the page by itself, a CSS-only
// edit restyles it without a reload (a window marker survives), and a compile error
// shows the overlay in the open page until the file is fixed.
//
// usage: node tests/browser/dev.mjs BASE_URL APP_DIR
import assert from 'node:assert/strict';
import { checks, launch } from './harness.mjs';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [base, appDir] = process.argv.slice(2);
if (!base || !appDir) throw new Error('usage: dev.mjs BASE_URL APP_DIR');

const browser = await launch();
const { check, done } = checks(browser);

function edit(rel, from, to) {
	const file = path.join(appDir, rel);
	const text = readFileSync(file, 'utf8');
	assert.ok(text.includes(from), `${rel} contains ${from}`);
	// Whole, then renamed over the file (as editors save): a plain write can reach the
	// watcher as two bursts on a busy machine, with a build of the empty file between.
	writeFileSync(`${file}.tmp`, text.replace(from, to));
	renameSync(`${file}.tmp`, file);
}

/** Opens `url` and waits until the dev client's event stream is connected. */
async function open(page, url) {
	await page.goto(base + url);
	await page.waitForFunction(() => window.__fymoDev?.source.readyState === 1, null, { timeout: 60000 });
}

await check('pages hydrate from the dev bundles: layout, child components, a click', async (page) => {
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await open(page, '/products?n=3');
	await page.waitForFunction(() => window.__fymoPage?.app, null, { timeout: 60000 });
	assert.equal(await page.locator('li.card').count(), 3);
	await open(page, '/counter?start=5');
	await page.waitForFunction(() => window.__fymoPage?.app, null, { timeout: 60000 });
	await page.click('#increment');
	assert.equal(await page.textContent('#count'), '6');
	assert.equal(await page.textContent('#doubled'), '12');
	assert.deepEqual(errors, []);
});

await check('a template edit reloads the page by itself', async (page) => {
	await open(page, '/counter');
	await page.evaluate(() => (window.__marker = 'before'));
	edit('templates/counter.svelte', '<h1>Counter</h1>', '<h1>Counter (live)</h1>');
	await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Counter (live)', null, { timeout: 60000 });
	assert.equal(await page.evaluate(() => window.__marker), undefined, 'the page was reloaded');
});

await check('a CSS-only edit restyles without a reload', async (page) => {
	await open(page, '/products/3');
	const size = () => page.evaluate(() => getComputedStyle(document.querySelector('.price')).fontSize);
	assert.equal(await size(), '24px');
	await page.evaluate(() => (window.__marker = 'kept'));
	edit('templates/products/show.svelte', 'font-size: 1.5rem;', 'font-size: 3rem;');
	await page.waitForFunction(() => getComputedStyle(document.querySelector('.price')).fontSize === '48px', null, { timeout: 60000 });
	assert.equal(await page.evaluate(() => window.__marker), 'kept', 'no reload happened');
});

await check('a compile error shows the overlay until fixed', async (page) => {
	await open(page, '/');
	edit('templates/home.svelte', '<h1>{title}</h1>', '<h1>{title</h1>');
	// The open page shows the error, then reloads into the server's overlay for it (only the
	// pages that import the broken template answer with it).
	await page.waitForSelector('#fymo-error[data-kind="compile"]', { timeout: 60000 });
	const text = await page.textContent('#fymo-error');
	assert.match(text, /compile error/);
	assert.match(text, /templates\/home\.svelte:\d+:\d+/);
	edit('templates/home.svelte', '<h1>{title</h1>', '<h1>{title}</h1>');
	await page.waitForFunction(() => !document.getElementById('fymo-error') && document.querySelector('h1')?.textContent === 'Fymo demo', null, { timeout: 60000 });
});

await done();
