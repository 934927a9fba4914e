#!/usr/bin/env node
// Hydration in a real browser: the server's DOM nodes survive hydration (same node
// objects), no console errors or hydration warnings, and clicks update the page.
//
// usage: node tests/browser/hydration.mjs BASE_URL
// Uses Debian's Chromium ($CHROMIUM or /usr/bin/chromium) through playwright-core.
import assert from 'node:assert/strict';
import { checks, consoleProblems, heldOpener, launch } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: hydration.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, consoleProblems);

const openHeld = heldOpener(base);

await check('counter hydrates in place and a click updates the count', async (page) => {
	const button = await openHeld(page, '/counter?start=5', '#increment');
	const same = await page.evaluate((b) => b === document.querySelector('#increment') && b.__serverNode === true && b.isConnected, button);
	assert.ok(same, 'the button is the same DOM node after hydration');
	assert.equal(await page.textContent('#count'), '5');
	await page.click('#increment');
	await page.click('#increment');
	assert.equal(await page.textContent('#count'), '7');
	assert.equal(await page.textContent('#doubled'), '14');
	await page.click('#reset');
	assert.equal(await page.textContent('#count'), '5');
});

await check('list page with layout, child components and scoped CSS hydrates in place', async (page) => {
	const card = await openHeld(page, '/products?n=20', 'li.card');
	const same = await page.evaluate((c) => c === document.querySelector('li.card') && c.__serverNode === true, card);
	assert.ok(same, 'the first card is the same DOM node after hydration');
	assert.equal(await page.locator('li.card').count(), 20);
	const display = await page.evaluate(() => getComputedStyle(document.querySelector('li.card')).display);
	assert.equal(display, 'flex', 'scoped CSS from the child component applies');
	assert.equal(await page.title(), 'Products (20)');
});

await check('snippets page hydrates without warnings', async (page) => {
	const row = await openHeld(page, '/snippets', 'tbody tr');
	assert.ok(await page.evaluate((r) => r === document.querySelector('tbody tr'), row));
	assert.equal(await page.locator('tbody tr').count(), 3);
	assert.equal(await page.getAttribute('meta[name=description]', 'content'), 'A page built from snippets');
});

await check('hostile props do not execute and survive hydration', async (page) => {
	let dialogs = 0;
	page.on('dialog', (d) => {
		dialogs++;
		d.dismiss();
	});
	const hostile = '</script><script>alert(1)</script>\u2028';
	await openHeld(page, '/hello?name=' + encodeURIComponent(hostile), '#name');
	assert.equal(await page.textContent('#name'), hostile);
	assert.equal(await page.evaluate(() => window.__fymoPage.props.name), hostile);
	assert.equal(dialogs, 0, 'no alert ran');
});

await check('no demo page violates its Content-Security-Policy', async (page) => {
	await page.addInitScript(() => {
		window.__violations = [];
		document.addEventListener('securitypolicyviolation', (e) =>
			window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`)
		);
	});
	const refused = [];
	page.on('console', (msg) => /Content Security Policy|Refused to/i.test(msg.text()) && refused.push(msg.text()));
	const pages = ['/', '/products?n=5', '/products/3', '/counter', '/snippets', '/hello?name=x', '/greet/world',
		'/guestbook', '/login', '/upload', '/visits', '/plain'];
	for (const path of pages) {
		const response = await page.goto(base + path);
		assert.ok(response.headers()['content-security-policy']?.includes("'nonce-"), `${path} has a CSP`);
		await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
		assert.deepEqual(await page.evaluate(() => window.__violations), [], `${path}: no violations`);
	}
	assert.deepEqual(refused, [], 'nothing refused');
});

await done();
