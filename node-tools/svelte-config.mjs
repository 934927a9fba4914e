// The app's svelte.config.js, read like SvelteKit does: its default export's
// `compilerOptions` (css, cssHash, runes, experimental.async, preserveWhitespace, ...)
// apply to every template and rune module, on the server and in the browser alike, and
// its `preprocess` (vitePreprocess(), svelte-preprocess, ...) runs before each compile.
// Fymo owns `filename`, `generate` and `dev`; a config that sets them is overridden.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CONFIG_FILES = ['svelte.config.js', 'svelte.config.mjs'];

/**
 * @param {string} root the app
 * @returns {Promise<{ file: string | null, key: string, compilerOptions: Record<string, any>, preprocess: any[] }>}
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
			mod = await importConfig(file, text, key);
		} catch (e) {
			throw Object.assign(new Error(`${name}: ${e.message}`), { code: 'svelte_config', file: name });
		}
		const config = mod.default ?? {};
		const preprocess = [config.preprocess ?? []].flat();
		// vite-plugin-svelte's `onwarn(warning, defaultHandler)`, for compiler warnings.
		const onwarn = typeof config.onwarn === 'function' ? config.onwarn : null;
		return { file: name, key, compilerOptions: { ...(config.compilerOptions ?? {}) }, preprocess, onwarn };
	}
	return { file: null, key: 'none', compilerOptions: {}, preprocess: [], onwarn: null };
}

/**
 * Imports the config as Node would; a `.js` that Node takes for CommonJS (the nearest
 * package.json lacks `"type": "module"`, as after `npm init -y`) but is written as ESM,
 * as every svelte.config.js is, is imported again from an `.mjs` copy beside it (what
 * Vite does with its config), so its relative imports still resolve.
 */
async function importConfig(file, text, key) {
	// The query makes Node load an edited file again instead of its cached module.
	try {
		return await import(`${pathToFileURL(file).href}?v=${key}`);
	} catch (e) {
		const esmInCjs = e instanceof SyntaxError && /\b(export|import)\b/.test(e.message) && !file.endsWith('.mjs');
		if (!esmInCjs) throw e;
	}
	const copy = `${file}.timestamp-${key}.mjs`;
	await writeFile(copy, text);
	try {
		return await import(pathToFileURL(copy).href);
	} finally {
		await rm(copy, { force: true });
	}
}

/** Options for `compile` / `compileModule` of one file. */
export function compileOptions(compilerOptions, { filename, generate }) {
	return { css: 'external', ...compilerOptions, filename, generate, dev: false };
}

/** Whether renders must be awaited (`experimental.async`). */
export const isAsync = (compilerOptions) => !!compilerOptions.experimental?.async;

/** `.svelte.js` / `.svelte.ts` (and .mjs, .mts): shared runes outside components. */
export const isRuneModule = (file) => /\.svelte\.(js|ts|mjs|mts)$/.test(file);
