#!/usr/bin/env node
// Client navigation never leaves the app's origin: a same-origin link or form whose path
// reads as another authority (`/.//evil.example/x`) stays on the app, and a page object
// naming a module elsewhere is not imported. The page's CSP is bypassed, so the client's
// own checks are what is tested (with `csp: false` an app has nothing else).
//
// usage: node tests/browser/security.mjs BASE_URL
import assert from 'node:assert/strict';
import { checks, launch, pageErrors } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: security.mjs BASE_URL');
const origin = new URL(base).origin;

const browser = await launch();
const { check, done } = checks(browser, pageErrors, { bypassCSP: true });

/** Answers every request to another origin with a script that marks the page, and
 * records it: the list must stay empty. */
async function guard(page) {
	const away = [];
	await page.route(
		(url) => url.origin !== origin,
		(route) => {
			away.push(route.request().url());
			return route.fulfill({ status: 200, contentType: 'text/javascript', body: 'window.__pwned = true;' });
		}
	);
	return away;
}

async function open(page, path) {
	await page.goto(base + path);
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
	await page.evaluate(() => (window.__sameDocument = true));
}

/** Adds `html` to the page's body. */
const inject = (page, html) => page.evaluate((html) => document.body.insertAdjacentHTML('beforeend', html), html);

await check('a link whose path reads as another host stays on the app', async (page) => {
	const away = await guard(page);
	await open(page, '/');
	await inject(page, '<a id="away" href="/.//evil.example/x">away</a>');
	await page.click('#away');
	await page.waitForURL((url) => url.pathname === '//evil.example/x', { timeout: 60000 });
	assert.equal(new URL(page.url()).origin, origin);
	assert.deepEqual(away, []);
});

await check('a form whose action reads as another host posts to the app', async (page) => {
	const away = await guard(page);
	await open(page, '/');
	const answered = page.waitForResponse((r) => r.request().method() === 'POST', { timeout: 60000 });
	await inject(page, '<form id="away" method="post" action="/.//evil.example/x"><button>go</button></form>');
	await page.click('#away button');
	const response = await answered;
	assert.equal(new URL(response.url()).origin, origin);
	assert.equal(new URL(response.url()).pathname, '//evil.example/x');
	assert.deepEqual(away, []);
});

await check('a page object naming a module elsewhere is not imported', async (page) => {
	const away = await guard(page);
	await open(page, '/');
	await page.route(
		(url) => url.origin === origin && url.pathname === '/products',
		async (route) => {
			if (route.request().headers()['x-inertia'] !== 'true') return route.continue();
			const response = await route.fetch();
			const object = await response.json();
			object.assets[object.component].js = 'https://evil.example/x.js';
			object.assets[object.component].css = ['//evil.example/x.css'];
			await route.fulfill({ response, json: object });
		}
	);
	await page.click('header a[href="/products"]');
	// Refused, the client loads the page whole instead.
	await page.waitForFunction(() => location.pathname === '/products' && window.__sameDocument === undefined && window.__fymoPage?.app, null, {
		timeout: 60000
	});
	assert.equal(await page.evaluate(() => window.__pwned), undefined);
	assert.deepEqual(away, []);
});

await done();
