#!/usr/bin/env node
// Hydration of async pages (experimental.async: await in markup and scripts,
// $derived(await ...)) in a real browser: the server's DOM nodes survive hydration, no
// console errors or hydration warnings, and an update re-runs the async derivation.
//
// usage: node tests/browser/async.mjs BASE_URL
// Uses Debian's Chromium ($CHROMIUM or /usr/bin/chromium) through playwright-core.
import assert from 'node:assert/strict';
import { checks, consoleProblems, heldOpener, launch } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: async.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, consoleProblems);

const openHeld = heldOpener(base);

await check('an async page with $derived(await ...) hydrates in place and updates', async (page) => {
	const value = await openHeld(page, '/square', '#value');
	assert.equal(await page.textContent('#value'), '3 squared is 9', 'server-rendered after the awaits');
	const same = await page.evaluate((v) => v === document.querySelector('#value') && v.__serverNode === true && v.isConnected, value);
	assert.ok(same, 'the paragraph is the same DOM node after hydration');
	await page.click('#inc');
	await page.waitForFunction(() => document.querySelector('#value').textContent === '4 squared is 16', null, { timeout: 60000 });
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

await done();
