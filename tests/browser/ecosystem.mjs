#!/usr/bin/env node
// The ecosystem app's pages in a real browser: each hydrates with no console error or
// warning (hydration mismatches included) and one interaction works.
//
// usage: node tests/browser/ecosystem.mjs BASE_URL
import assert from 'node:assert/strict';
import { checks, consoleProblems, launch } from './harness.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: ecosystem.mjs BASE_URL');

const browser = await launch();
const { check, done } = checks(browser, consoleProblems);

async function open(page, path) {
	await page.goto(base + path);
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
}

const text = (page, selector) => page.locator(selector).textContent();

await check('bits-ui: a tab switches', async (page) => {
	await open(page, '/bits');
	assert.equal(await text(page, '#panel-one'), 'First panel');
	await page.click('#tab-two');
	await page.waitForSelector('#panel-two', { state: 'visible' });
	assert.equal(await page.getAttribute('#tab-two', 'data-state'), 'active');
});

await check('context: providers nest and a bits-ui accordion opens', async (page) => {
	await open(page, '/context');
	assert.deepEqual(await page.locator('.who').allTextContents(), ['provided by outer', 'provided by inner']);
	await page.click('#open');
	await page.waitForSelector('#inside', { state: 'visible' });
});

await check('@lucide/svelte: icons render and follow their props', async (page) => {
	await open(page, '/icons');
	assert.equal(await page.locator('svg.lucide').count(), 3);
	await page.click('#grow');
	await page.waitForFunction(() => document.querySelector('svg.lucide-heart')?.getAttribute('width') === '48');
});

await check('mode-watcher: its head script runs under the CSP, and the mode toggles', async (page) => {
	await page.emulateMedia({ colorScheme: 'dark' });
	await page.goto(base + '/mode', { waitUntil: 'commit' });
	// The system's dark mode applied; a script the CSP blocked would be a console error.
	await page.waitForFunction(() => document.documentElement.classList.contains('dark'));
	await page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });
	const before = await page.evaluate(() => document.documentElement.classList.contains('dark'));
	await page.click('#toggle');
	await page.waitForFunction((b) => document.documentElement.classList.contains('dark') !== b, before);
	assert.match(await text(page, '#mode'), /mode: (light|dark)/);
});

await check('runed: Previous and Debounced follow the state', async (page) => {
	await open(page, '/runed');
	await page.click('#inc');
	await page.waitForFunction(() => document.getElementById('count').textContent === 'now 1, before 0, settled 1');
});

await check('vitePreprocess: TypeScript runs and SCSS styles apply', async (page) => {
	await open(page, '/styles');
	assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('inc')).color), 'rgb(200, 30, 60)');
	await page.click('#inc');
	await page.waitForFunction(() => document.getElementById('inc').textContent === 'clicked 2');
});

await check('Tailwind CSS: classes from templates are in the stylesheet', async (page) => {
	await open(page, '/tw');
	assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('h1')).fontSize), '30px');
	const background = () => page.evaluate(() => getComputedStyle(document.getElementById('flip')).backgroundColor);
	const before = await background();
	await page.click('#flip');
	await page.waitForFunction((b) => getComputedStyle(document.getElementById('flip')).backgroundColor !== b, before);
	assert.notEqual(await background(), 'rgba(0, 0, 0, 0)');
});

await check('Intl: formats in French and plural rules follow the count', async (page) => {
	await open(page, '/intl');
	assert.equal(await text(page, '#list'), 'pommes, poires et prunes');
	await page.click('#more');
	await page.waitForFunction(() => document.getElementById('plural').textContent === '2 pommes');
});

await check('svelte-i18n: messages in French, then in English', async (page) => {
	await open(page, '/i18n');
	assert.equal(await text(page, '#greeting'), 'Bonjour Ada');
	await page.click('#english');
	await page.waitForFunction(() => document.getElementById('apples').textContent === '1,234 apples');
	assert.equal(await text(page, '#greeting'), 'Hello Ada');
});

await check('@tanstack/svelte-table: a row is added and the rows sort', async (page) => {
	await open(page, '/table');
	await page.click('#add');
	await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 4);
	await page.click('#sort-name');
	await page.waitForFunction(() => document.querySelector('tbody tr td').textContent === 'Ada Lovelace');
	assert.deepEqual(await page.locator('tbody tr td:first-child').allTextContents(), ['Ada Lovelace', 'Alan Turing', 'Barbara Liskov', 'Grace Hopper']);
});

await check('svelte-sonner: a toast shows', async (page) => {
	await open(page, '/toast');
	await page.click('#toast');
	await page.waitForSelector('text=Saved the note');
});

await done();
