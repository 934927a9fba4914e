#!/usr/bin/env node
// Live pages in a real browser: two browser contexts (two visitors) on two servers
// (they may be one and the same) sharing a broker. A chat message typed in one appears
// in the other without a reload; props patches re-render hydrated components; an update
// published after a page was rendered but before its socket opened still arrives.
//
// usage: node tests/browser/live.mjs BASE_A BASE_B
import assert from 'node:assert/strict';
import { launch } from './harness.mjs';

const [baseA, baseB] = process.argv.slice(2);
if (!baseA || !baseB) throw new Error('usage: live.mjs BASE_A BASE_B');
const T = { timeout: 60000 };

const browser = await launch();

const problems = [];
async function visitor(base) {
	const context = await browser.newContext({ baseURL: base });
	context.setDefaultTimeout(60000);
	const page = await context.newPage();
	page.on('console', (msg) => {
		if (msg.type() === 'error' || /hydration/i.test(msg.text())) problems.push(`${base} ${msg.type()}: ${msg.text()}`);
	});
	page.on('pageerror', (err) => problems.push(`${base} pageerror: ${err.message}`));
	return { context, page };
}

async function openLive(page, path) {
	await page.goto(path);
	await page.waitForFunction(() => window.__fymoPage?.live?.state.connected === true, null, T);
}

async function say(page, text) {
	await page.fill('input[name=message]', text);
	await page.press('input[name=message]', 'Enter');
}

const messageCount = (page, text) =>
	page.evaluate((t) => [...document.querySelectorAll('#messages .text')].filter((e) => e.textContent === t).length, text);

/** Waits until the page's ping count is `n` (settled: nothing else bumps meanwhile). */
const pings = (page, n) => page.waitForFunction((n) => Number(document.querySelector('#pings').textContent) === n, n, T);

let failed = false;
async function check(name, fn) {
	try {
		await fn();
		assert.deepEqual(problems.splice(0), [], 'no console errors or hydration warnings');
		console.log(`ok - ${name}`);
	} catch (e) {
		failed = true;
		console.log(`not ok - ${name}\n${e.stack}\nconsole: ${JSON.stringify(problems.splice(0))}`);
	}
}

const a = await visitor(baseA);
const b = await visitor(baseB);

await check('a message typed in one tab appears in the other, once, without reload', async () => {
	await openLive(a.page, '/chat');
	await openLive(b.page, '/chat');
	await b.page.evaluate(() => (window.__notReloaded = true));
	await say(a.page, 'hello from A');
	await b.page.waitForSelector('#messages .text:text-is("hello from A")', T);
	await a.page.waitForSelector('#messages .text:text-is("hello from A")', T);
	await say(b.page, 'hello from B');
	await a.page.waitForSelector('#messages .text:text-is("hello from B")', T);
	// The props patch that came with it re-rendered the hydrated page.
	await a.page.waitForFunction(() => document.querySelector('#last')?.textContent === 'Last message from anonymous', null, T);
	assert.equal(await messageCount(b.page, 'hello from A'), 1);
	assert.equal(await messageCount(a.page, 'hello from B'), 1);
	assert.equal(await b.page.evaluate(() => window.__notReloaded), true, 'no reload');
	assert.equal(await a.page.inputValue('input[name=message]'), '', 'the input is cleared');
});

await check('the sender name comes from the session', async () => {
	await a.page.goto('/login');
	await a.page.fill('input[name=username]', 'ada');
	await a.page.fill('input[name=password]', 'demo');
	await Promise.all([a.page.waitForURL('**/account', T), a.page.click('button[type=submit], input[type=submit]')]);
	await openLive(a.page, '/chat');
	await say(a.page, 'signed in hello');
	const from = b.page.locator('#messages li', { hasText: 'signed in hello' }).locator('.from');
	await from.waitFor(T);
	assert.equal(await from.textContent(), 'ada');
	await b.page.waitForFunction(() => document.querySelector('#last')?.textContent === 'Last message from ada', null, T);
});

await check('an update published between the render and the socket still arrives', async () => {
	// Hold B's scripts: the page is rendered (with its position) but its socket is not open.
	let release;
	const gate = new Promise((r) => (release = r));
	await b.page.route((url) => url.pathname.startsWith('/_fymo/') && url.pathname.endsWith('.js'), async (route) => {
		await gate;
		await route.continue();
	});
	await b.page.goto('/chat', { waitUntil: 'commit' });
	await b.page.waitForSelector('#messages', { state: 'attached', ...T });
	await say(a.page, 'sent before B connected');
	await a.page.waitForSelector('#messages .text:text-is("sent before B connected")', T);
	release();
	await b.page.waitForSelector('#messages .text:text-is("sent before B connected")', T);
	assert.equal(await messageCount(b.page, 'sent before B connected'), 1);
	await b.page.unroute('**');
});

await check('a Rust controller patches props and sends events to every page', async () => {
	await openLive(a.page, '/pulse');
	await openLive(b.page, '/pulse');
	const before = Number(await b.page.textContent('#pings'));
	await a.page.click('#bump');
	await pings(b.page, before + 1);
	// The patch reaches both pages (A's own too, through the broker): the same new count.
	await a.page.waitForFunction(() => document.querySelector('#count').textContent !== '0', null, T);
	const count = await a.page.textContent('#count');
	await b.page.waitForFunction((c) => document.querySelector('#count').textContent === c, count, T);
});

await check('a dropped connection reconnects and resumes from the last position', async () => {
	await openLive(a.page, '/chat');
	await openLive(b.page, '/chat');
	const reconnected = b.page.evaluate(() => new Promise((r) => window.__fymoPage.live.on('connect', r)));
	// Watched from inside the page: the gap before the reconnect (50 to 300 ms) can fall
	// between two of Playwright's polls on a busy machine; a page timer due before the
	// reconnect's own always sees it.
	await b.page.evaluate(
		() =>
			new Promise((resolve) => {
				const live = window.__fymoPage.live;
				live.drop();
				const poll = () => (live.state.connected ? setTimeout(poll, 0) : resolve());
				poll();
			}),
	);
	await say(a.page, 'while B reconnects');
	await reconnected;
	await b.page.waitForSelector('#messages .text:text-is("while B reconnects")', T);
	assert.equal(await messageCount(b.page, 'while B reconnects'), 1);
});

await check('where WebSockets are blocked, the page falls back to Server-Sent Events', async () => {
	// A network that refuses the upgrade: every WebSocket fails before it opens.
	const c = await visitor(baseB);
	await c.context.addInitScript(() => {
		window.__wsAttempts = 0;
		// Every frame the stream brings, for the failure report.
		window.__sseFrames = [];
		const Source = window.EventSource;
		window.EventSource = class extends Source {
			constructor(...args) {
				super(...args);
				window.__sseFrames.push('open');
				this.addEventListener('message', (e) => window.__sseFrames.push(e.data));
				this.addEventListener('error', () => window.__sseFrames.push(`error ${this.readyState}`));
			}
		};
		window.WebSocket = class {
			constructor() {
				window.__wsAttempts++;
				this.readyState = 3;
				queueMicrotask(() => this.onclose?.({ code: 1006 }));
			}
			send() {}
			close() {}
		};
	});
	try {
		await openLive(c.page, '/pulse');
		assert.equal(await c.page.evaluate(() => window.__fymoPage.live.state.transport), 'sse');
		assert.equal(await c.page.evaluate(() => window.__wsAttempts), 3, 'after three failed opens');
		await openLive(a.page, '/pulse');
		// Each page waits for its settled count (A's own ping comes back through the
		// broker, possibly after C's: a count read in between would be stale).
		const [seenByA, seenByC] = [Number(await a.page.textContent('#pings')), Number(await c.page.textContent('#pings'))];
		// Received over the stream...
		await a.page.click('#bump');
		await pings(c.page, seenByC + 1);
		await pings(a.page, seenByA + 1);
		// ...and called over POST /_fymo/live/call.
		await c.page.click('#bump');
		await pings(a.page, seenByA + 2);
		await pings(c.page, seenByC + 2);
	} catch (e) {
		// What the page saw, to tell a lost frame from a late one.
		const seen = await c.page
			.evaluate(() => ({ frames: window.__sseFrames, state: { ...window.__fymoPage?.live?.state }, positions: [...(window.__fymoPage?.live?.positions ?? [])] }))
			.catch((err) => String(err));
		e.stack += `\nstream of C: ${JSON.stringify(seen)}\nA's page: ${await a.page.textContent('p').catch(String)}`;
		throw e;
	} finally {
		await c.context.close();
	}
});

await browser.close();
process.exit(failed ? 1 : 0);
