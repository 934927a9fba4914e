// The app's svelte.config.js, read like SvelteKit does: its default export's
// `compilerOptions` (css, cssHash, runes, experimental.async, preserveWhitespace, ...)
// apply to every template and rune module, on the server and in the browser alike.
// Fymo owns `filename`, `generate` and `dev`; a config that sets them is overridden.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CONFIG_FILES = ['svelte.config.js', 'svelte.config.mjs'];

/**
 * @param {string} root the app
 * @returns {Promise<{ file: string | null, key: string, compilerOptions: Record<string, any> }>}
 *   `key` changes whenever the file's contents do (a rebuild then recompiles everything).
 */
export async function loadSvelteConfig(root) {
	for (const name of CONFIG_FILES) {
		const file = path.join(root, name);
		let text;
		try {
			text = await readFile(file, 'utf8');
		} catch (e) {
			if (e.code === 'ENOENT') continue;
			throw e;
		}
		const key = createHash('sha256').update(text).digest('hex').slice(0, 16);
		let mod;
		try {
			// The query makes Node load an edited file again instead of its cached module.
			mod = await import(`${pathToFileURL(file).href}?v=${key}`);
		} catch (e) {
			throw Object.assign(new Error(`${name}: ${e.message}`), { code: 'svelte_config', file: name });
		}
		const config = mod.default ?? {};
		return { file: name, key, compilerOptions: { ...(config.compilerOptions ?? {}) } };
	}
	return { file: null, key: 'none', compilerOptions: {} };
}

/** Options for `compile` / `compileModule` of one file. */
export function compileOptions(compilerOptions, { filename, generate }) {
	return { css: 'external', ...compilerOptions, filename, generate, dev: false };
}

/** Whether renders must be awaited (`experimental.async`). */
export const isAsync = (compilerOptions) => !!compilerOptions.experimental?.async;

/** `.svelte.js` / `.svelte.ts` (and .mjs, .mts): shared runes outside components. */
export const isRuneModule = (file) => /\.svelte\.(js|ts|mjs|mts)$/.test(file);
