// Shared by the browser scripts: Debian's Chromium through playwright-core (never a
// downloaded browser), and checks printed as `ok - name` / `not ok - name` lines that
// tests/browser.rs counts.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

// A wedged browser fails the script instead of hanging the test run.
const SCRIPT_LIMIT_MS = 10 * 60 * 1000;
setTimeout(() => {
	console.log(`not ok - the script did not finish within ${SCRIPT_LIMIT_MS / 60000} minutes`);
	process.exit(1);
}, SCRIPT_LIMIT_MS).unref();

export function launch() {
	return chromium.launch({
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
}

/**
 * Runs named checks, each in a fresh browser context (made with `contextOptions`);
 * `watch(page)` returns a list that must stay empty (console errors, page errors).
 */
export function checks(browser, watch = () => [], contextOptions = {}) {
	let failed = false;
	return {
		async check(name, fn) {
			const context = await browser.newContext(contextOptions);
			// Generous: a busy 2-core machine may be slow, never wrong.
			context.setDefaultTimeout(60000);
			const page = await context.newPage();
			const problems = watch(page);
			try {
				// `problems` too: a check may take out one it expects, saying why.
				await fn(page, problems);
				assert.deepEqual(problems, [], 'no page errors');
				console.log(`ok - ${name}`);
			} catch (e) {
				failed = true;
				console.log(`not ok - ${name}\n${e.stack}\nproblems: ${JSON.stringify(problems)}`);
			} finally {
				await context.close();
			}
		},
		async done() {
			await browser.close();
			process.exit(failed ? 1 : 0);
		}
	};
}

/** Page errors, as a list `checks` asserts empty. */
export function pageErrors(page) {
	const problems = [];
	page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
	return problems;
}

/** Fymo's client has hydrated the page. */
const fymoHydrated = (page) => page.waitForFunction(() => window.__fymoPage?.app !== undefined, null, { timeout: 60000 });

/**
 * `open(page, path, selector)` for `base`: opens `path` with the client scripts held back
 * until the server's element `selector` is marked, then lets them hydrate (`hydrated(page)`
 * waits for that); returns that element, so a check can see it is the same node after.
 */
export function heldOpener(base, hydrated = fymoHydrated) {
	return async function openHeld(page, path, selector) {
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
		await hydrated(page);
		return before;
	};
}

/** Console errors and warnings, hydration messages and page errors. */
export function consoleProblems(page) {
	const problems = [];
	page.on('console', (msg) => {
		if (msg.type() === 'error' || msg.type() === 'warning' || /hydration/i.test(msg.text())) {
			problems.push(`${msg.type()}: ${msg.text()}`);
		}
	});
	page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
	return problems;
}
