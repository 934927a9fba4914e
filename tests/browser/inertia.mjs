#!/usr/bin/env node
// tests/inertia/app in a real browser, driven by Inertia's own Svelte adapter (pinned from
// npm): the server's DOM is kept by hydration, <Link> navigates without a reload, back and
// forward work, a post passes the CSRF check the Axios way, and nothing is logged to the console.
//
// usage: node tests/browser/inertia.mjs BASE_URL
import assert from 'node:assert/strict';
import { checks, consoleProblems, heldOpener, launch } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: inertia.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, consoleProblems);

/** The app's client.js marks the document once createInertiaApp() has hydrated it. */
const hydrated = (page) => page.waitForSelector('html[data-hydrated]', { state: 'attached' });
const openHeld = heldOpener(base, hydrated);

await check("Inertia's App hydrates the server's DOM and keeps it", async (page) => {
	const server = await openHeld(page, '/', '#greeting');
	await page.click('#count');
	await page.waitForFunction(() => document.getElementById('count').textContent === 'clicked 1');
	assert.equal(await server.evaluate((el) => el === document.getElementById('greeting') && el.__serverNode === true), true, 'the same node');
	assert.equal(await page.locator('li').nth(2).textContent(), '</script><b>three</b>');
	assert.equal(await page.title(), 'Home');
});

await check('<Link> navigates without a reload; back and forward restore the pages', async (page) => {
	await page.goto(base + '/');
	await hydrated(page);
	await page.click('#count');
	await page.waitForFunction(() => document.getElementById('count').textContent === 'clicked 1');
	await page.evaluate(() => (window.__sameDocument = true));
	await page.click('#to-about');
	await page.waitForFunction(() => document.getElementById('title')?.textContent === 'About Inertia on Fymo');
	assert.equal(new URL(page.url()).pathname, '/about');
	assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
	await page.waitForFunction(() => document.title === 'About');
	await page.goBack();
	await page.waitForFunction(() => document.getElementById('greeting')?.textContent === 'Hello from Fymo');
	await page.goForward();
	await page.waitForFunction(() => document.getElementById('title') !== null);
	assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
});

await check("useForm: a validation error shows, then a post with the XSRF-TOKEN cookie's token redirects", async (page) => {
	await page.goto(base + '/notes');
	await hydrated(page);
	await page.evaluate(() => (window.__sameDocument = true));
	await page.click('#save');
	await page.waitForFunction(() => document.getElementById('error')?.textContent === 'Write something first');
	await page.fill('#text', 'first note');
	await page.click('#save');
	await page.waitForFunction(() => document.querySelector('#notes li')?.textContent === 'first note');
	assert.equal(await page.inputValue('#text'), '', 'onSuccess ran');
	assert.equal(await page.locator('#error').count(), 0, 'the error is gone');
	assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
});

await check('a deferred prop loads after the page; merged props append', async (page) => {
	await page.goto(base + '/feed');
	await hydrated(page);
	await page.evaluate(() => (window.__sameDocument = true));
	await page.waitForFunction(() => document.getElementById('stats')?.textContent === '42 items in all');
	await page.click('#more');
	await page.waitForFunction(() => document.querySelectorAll('#items li').length === 6);
	assert.deepEqual(await page.locator('#items li').allTextContents(), ['item 1', 'item 2', 'item 3', 'item 4', 'item 5', 'item 6']);
	assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
});

await check('an external redirect (location) loads the URL as a whole page', async (page, problems) => {
	await page.goto(base + '/');
	await hydrated(page);
	await page.evaluate(() => (window.__sameDocument = true));
	await page.click('#leave');
	await page.waitForURL((url) => url.pathname === '/about' && url.search === '?from=leave');
	await page.waitForSelector('#title');
	assert.equal(await page.evaluate(() => window.__sameDocument), undefined, 'a new document');
	// Inertia's protocol answers an external redirect with 409, which Chromium logs as it
	// logs every fetch that is not 2xx (so does Laravel's): that line alone is expected.
	const conflict = problems.findIndex((p) => p.includes('status of 409 (Conflict)'));
	assert.notEqual(conflict, -1, 'the 409 was the way out');
	problems.splice(conflict, 1);
});

await done();
