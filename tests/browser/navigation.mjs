#!/usr/bin/env node
// Client navigation in a real browser: links and forms swap pages without reloading the
// document, layouts that stay keep their state, back/forward restore pages and scroll,
// hover prefetches, `data-fymo-reload` opts out, and an enhanced form shows a 422 in place.
//
// usage: node tests/browser/navigation.mjs BASE_URL
import assert from 'node:assert/strict';
import { checks, launch, pageErrors } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: navigation.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, watch);

/** Page errors and console errors; a 422 answered to a form is expected (the browser
 * logs every non-2xx fetch). */
function watch(page) {
	const problems = pageErrors(page);
	page.on('console', (msg) => msg.type() === 'error' && !/status of 422/.test(msg.text()) && problems.push(`console: ${msg.text()}`));
	return problems;
}

async function open(page, path) {
	await page.goto(base + path);
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
	// Survives only as long as the document does: a full reload loses it.
	await page.evaluate(() => (window.__sameDocument = true));
}

const sameDocument = (page) => page.evaluate(() => window.__sameDocument === true);

/** Clicks `selector` and waits until `ready` holds; returns click-to-painted milliseconds. */
async function timedClick(page, selector, ready, arg) {
	await page.evaluate(() => (window.__clickAt = performance.now()));
	await page.click(selector);
	await page.waitForFunction(ready, arg, { timeout: 60000 });
	return page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now() - window.__clickAt))));
}

const latencies = [];

await check('a link within the docs swaps the page, keeps the layout state, no reload', async (page) => {
	await open(page, '/docs');
	await page.click('#notes');
	await page.click('#notes');
	assert.equal(await page.textContent('#notes'), 'Notes: 2');
	const ms = await timedClick(page, 'nav[aria-label=Docs] a[href="/docs/layouts"]', () =>
		document.getElementById('doc-title')?.textContent === 'Nested layouts'
	);
	latencies.push(ms);
	assert.equal(new URL(page.url()).pathname, '/docs/layouts');
	assert.ok(await sameDocument(page), 'no full reload');
	assert.equal(await page.textContent('#notes'), 'Notes: 2', 'the layout kept its state');
	assert.equal(await page.title(), 'Nested layouts · Docs', '<svelte:head> follows');
	// Leaving the section keeps the app layout and drops the docs one.
	await page.click('header a[href="/products"]');
	await page.waitForSelector('li.card', { timeout: 60000 });
	assert.ok(await sameDocument(page));
	assert.equal(await page.locator('#notes').count(), 0);
});

await check('back and forward restore pages and scroll positions', async (page) => {
	await open(page, '/products?n=200');
	const link = page.locator('a[href="/products/150"]');
	await link.scrollIntoViewIfNeeded();
	const y = await page.evaluate(() => scrollY);
	assert.ok(y > 1000, `scrolled down (${y})`);
	await link.click();
	await page.waitForFunction(() => location.pathname === '/products/150' && scrollY === 0, null, { timeout: 60000 });
	await page.goBack();
	await page.waitForFunction(() => location.pathname === '/products' && document.querySelectorAll('li.card').length === 200, null, { timeout: 60000 });
	await page.waitForFunction((y) => Math.abs(scrollY - y) < 2, y, { timeout: 60000 });
	assert.ok(await sameDocument(page), 'history navigation without a reload');
	await page.goForward();
	await page.waitForFunction(() => location.pathname === '/products/150', null, { timeout: 60000 });
	assert.ok(await sameDocument(page));
});

await check('hovering a link prefetches it; data-fymo-reload loads the page whole', async (page) => {
	await open(page, '/docs');
	const prefetched = page.waitForRequest((r) => r.url().endsWith('/docs/forms') && r.headers()['x-inertia'] === 'true');
	await page.hover('nav[aria-label=Docs] a[href="/docs/forms"]');
	await prefetched;
	await page.click('#reload');
	await page.waitForFunction(() => window.__sameDocument === undefined && window.__fymoPage?.app, null, { timeout: 60000 });
});

await check('an enhanced form shows a 422 in place, then a redirect navigates', async (page) => {
	await open(page, '/login');
	await page.fill('input[name=username]', 'grace');
	await page.fill('input[name=password]', 'wrong');
	await page.click('button[type=submit]');
	await page.waitForSelector('.error', { timeout: 60000 });
	assert.ok(await sameDocument(page), 'no reload for the 422');
	assert.equal(await page.inputValue('input[name=username]'), 'grace', 'the submitted value is kept');
	assert.equal(new URL(page.url()).pathname, '/login');
	await page.fill('input[name=password]', 'demo');
	await page.click('button[type=submit]');
	await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Signed in as grace', null, { timeout: 60000 });
	assert.equal(new URL(page.url()).pathname, '/account');
	assert.ok(await sameDocument(page), 'the redirect navigated in place');
	assert.equal(await page.textContent('.flash'), 'Welcome back, grace');
});

await check('after a form post, a link never shows a page fetched before it; back still restores', async (page) => {
	await open(page, '/docs');
	const prefetched = page.waitForResponse((r) => r.url().endsWith('/products') && r.request().headers()['x-inertia'] === 'true');
	await page.hover('header a[href="/products"]');
	await prefetched;
	await page.click('header a[href="/guestbook"]');
	await page.waitForSelector('form[action="/guestbook"]', { timeout: 60000 });
	const message = `signed at ${Date.now()}`;
	await page.fill('input[name=name]', 'Ada');
	await page.fill('input[name=message]', message);
	await page.click('form[action="/guestbook"] button[type=submit]');
	await page.waitForSelector(`text=${message}`, { timeout: 60000 });
	// The link asks the server again: the prefetched copy predates the post.
	const asked = page.waitForRequest((r) => r.url().endsWith('/products') && r.headers()['x-inertia'] === 'true');
	await page.click('header a[href="/products"]');
	await asked;
	await page.waitForSelector('li.card', { timeout: 60000 });
	// Back and forward restore from the cache, as the browser's history does: the
	// guestbook as the post left it, then the docs page from before it, unasked.
	let requested = false;
	page.on('request', (r) => r.headers()['x-inertia'] === 'true' && (requested = true));
	await page.goBack();
	await page.waitForSelector(`text=${message}`, { timeout: 60000 });
	await page.goBack();
	await page.waitForFunction(() => location.pathname === '/docs' && document.getElementById('doc-title'), null, { timeout: 60000 });
	assert.equal(requested, false, 'history restored from the cache');
	assert.ok(await sameDocument(page));
});

const sorted = [...latencies].sort((a, b) => a - b);
console.log(`# click to painted: ${sorted.map((ms) => ms.toFixed(1)).join(', ')} ms`);
await done();
