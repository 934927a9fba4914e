#!/usr/bin/env node
// The demo's real forms in a real browser: sign in (Python controller, session, CSRF,
// flash), sign out, and upload a file (Rust controller, streamed multipart).
//
// usage: node tests/browser/forms.mjs BASE_URL
import assert from 'node:assert/strict';
import { checks, launch, pageErrors } from './harness.mjs';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const base = process.argv[2];
if (!base) throw new Error('usage: forms.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, pageErrors);

await check('signing in through the form sets the session, shows the flash once, and signs out', async (page) => {
	await page.goto(base + '/account');
	assert.equal(new URL(page.url()).pathname, '/login', 'redirected to sign in');
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
	await page.fill('input[name=username]', 'ada');
	await page.fill('input[name=password]', 'wrong');
	await page.click('button[type=submit]');
	await page.waitForSelector('.error', { timeout: 60000 });
	assert.match(await page.textContent('.error'), /Wrong name or password/);
	assert.equal(await page.inputValue('input[name=username]'), 'ada', 'the name is kept');
	await page.fill('input[name=password]', 'demo');
	await page.click('button[type=submit]');
	await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Signed in as ada', null, { timeout: 60000 });
	assert.equal(new URL(page.url()).pathname, '/account');
	assert.equal(await page.textContent('.flash'), 'Welcome back, ada');
	const cookies = await page.context().cookies();
	const session = cookies.find((c) => c.name === 'fymo_session');
	assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
	assert.equal(session.sameSite, 'Lax');
	await page.reload();
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
	assert.equal(await page.locator('.flash').count(), 0, 'the flash shows once');
	await page.click('text=Sign out');
	await page.waitForFunction(() => location.pathname === '/login' && document.querySelector('input[name=username]'), null, { timeout: 60000 });
	await page.goto(base + '/account');
	assert.equal(new URL(page.url()).pathname, '/login', 'signed out');
});

await check('uploading a file through the form shows its name, size and sha256', async (page) => {
	const dir = mkdtempSync(path.join(tmpdir(), 'fymo-upload-'));
	try {
		const data = Buffer.alloc(123_457, 7);
		for (let i = 0; i < data.length; i += 97) data[i] = i % 251;
		const file = path.join(dir, 'notes.bin');
		writeFileSync(file, data);
		await page.goto(base + '/upload');
		await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
		await page.setInputFiles('input[name=file]', file);
		await page.click('button[type=submit]');
		await page.waitForSelector('#sha256', { timeout: 60000 });
		assert.equal(await page.textContent('#name'), 'notes.bin');
		assert.equal(await page.textContent('#size'), String(data.length));
		assert.equal(await page.textContent('#sha256'), createHash('sha256').update(data).digest('hex'));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

await done();
