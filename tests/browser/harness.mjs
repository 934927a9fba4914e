// Shared by the browser scripts: Debian's Chromium through playwright-core (never a
// downloaded browser), and checks printed as `ok - name` / `not ok - name` lines that
// tests/browser.rs counts.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

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
 * Runs named checks, each in a fresh browser context; `watch(page)` returns a list that
 * must stay empty (console errors, page errors).
 */
export function checks(browser, watch = () => []) {
	let failed = false;
	return {
		async check(name, fn) {
			const context = await browser.newContext();
			const page = await context.newPage();
			const problems = watch(page);
			try {
				await fn(page);
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
