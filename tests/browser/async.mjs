#!/usr/bin/env node
// Hydration of async pages (experimental.async: await in markup and scripts,
// $derived(await ...)) in a real browser: the server's DOM nodes survive hydration, no
// console errors or hydration warnings, and an update re-runs the async derivation.
//
// usage: node tests/browser/async.mjs BASE_URL
// Uses Debian's Chromium ($CHROMIUM or /usr/bin/chromium) through playwright-core.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const base = process.argv[2];
if (!base) throw new Error('usage: async.mjs BASE_URL');

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
	args: [
		'--headless',
		'--no-sandbox',
		'--disable-gpu',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync'
	]
});

/** Opens `path` with the client scripts held back until the server's DOM is marked. */
async function openHeld(page, path, selector) {
	let release;
	const gate = new Promise((r) => (release = r));
	await page.route((url) => url.pathname.startsWith('/_fymo/') && url.pathname.endsWith('.js'), async (route) => {
		await gate;
		await route.continue();
	});
	await page.goto(base + path, { waitUntil: 'commit' });
	await page.waitForSelector(selector, { state: 'attached' });
	const before = await page.evaluateHandle((s) => {
		const el = document.querySelector(s);
		el.__serverNode = true;
		return el;
	}, selector);
	assert.equal(await page.evaluate(() => window.__fymoPage), undefined, 'not hydrated yet');
	release();
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 15000 });
	return before;
}

function watchConsole(page) {
	const problems = [];
	page.on('console', (msg) => {
		if (msg.type() === 'error' || msg.type() === 'warning' || /hydration/i.test(msg.text())) {
			problems.push(`${msg.type()}: ${msg.text()}`);
		}
	});
	page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
	return problems;
}

let failed = false;
async function check(name, fn) {
	const page = await browser.newPage();
	const problems = watchConsole(page);
	try {
		await fn(page);
		assert.deepEqual(problems, [], 'no console errors or hydration warnings');
		console.log(`ok - ${name}`);
	} catch (e) {
		failed = true;
		console.log(`not ok - ${name}\n${e.stack}\nconsole: ${JSON.stringify(problems)}`);
	} finally {
		await page.close();
	}
}

await check('an async page with $derived(await ...) hydrates in place and updates', async (page) => {
	const value = await openHeld(page, '/square', '#value');
	assert.equal(await page.textContent('#value'), '3 squared is 9', 'server-rendered after the awaits');
	const same = await page.evaluate((v) => v === document.querySelector('#value') && v.__serverNode === true && v.isConnected, value);
	assert.ok(same, 'the paragraph is the same DOM node after hydration');
	await page.click('#inc');
	await page.waitForFunction(() => document.querySelector('#value').textContent === '4 squared is 16', null, { timeout: 10000 });
	assert.ok(await page.evaluate((v) => v === document.querySelector('#value'), value), 'still the server node');
});

await check('top-level await, await in markup and a rune module hydrate in place', async (page) => {
	const title = await openHeld(page, '/post', '#title');
	assert.equal(await page.textContent('#title'), 'Post 42');
	assert.equal(await page.textContent('#greeting'), 'Hello, Ada!');
	assert.equal(await page.textContent('#visits'), 'shared 1');
	assert.equal(await page.title(), 'Async title');
	await page.click('#visit');
	await page.waitForFunction(() => document.querySelector('#visits').textContent === 'shared 2');
	assert.ok(await page.evaluate((t) => t === document.querySelector('#title') && t.__serverNode === true, title));
});

await browser.close();
process.exit(failed ? 1 : 0);
