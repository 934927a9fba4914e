// Which Svelte an app is built with. One copy compiles and is bundled, on the server and
// in the browser: the app's own when `svelte` resolves from the app (it depends on it, or
// a library brought it in as a peer), else Fymo's (node-tools/node_modules). Compiling
// with one version and bundling another breaks hydration; two runtimes in one bundle
// break setContext/getContext, which live in module state.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileOptions } from './svelte-config.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The Svelte versions Fymo's runtime (js/) and SSR host work with (`fymo doctor`,
 * src/cli/doctor.rs, checks the same range). */
export const SUPPORTED = { min: [5, 39, 0], below: 6, text: '>=5.39.0 <6' };

function supported(version) {
	const [major, minor, patch] = version.split(/[.-]/).map(Number);
	if (major !== SUPPORTED.min[0]) return false;
	return minor > SUPPORTED.min[1] || (minor === SUPPORTED.min[1] && patch >= SUPPORTED.min[2]);
}

/** The directory of `svelte` as seen from `dir`, or null. */
function svelteDirFrom(dir) {
	try {
		return path.dirname(createRequire(path.join(dir, 'noop.js')).resolve('svelte/package.json'));
	} catch {
		return null;
	}
}

/**
 * @param {string} root the app
 * @returns {Promise<{ dir: string, version: string, owner: 'app' | 'fymo', resolveDir: string,
 *   compiler: typeof import('svelte/compiler') }>}
 *   `resolveDir`: where `svelte/...` imports resolve from (the folder holding its node_modules).
 */
export async function loadSvelte(root) {
	const appDir = svelteDirFrom(root);
	const dir = appDir ?? svelteDirFrom(here);
	const owner = appDir ? 'app' : 'fymo';
	const { version } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
	if (!supported(version)) {
		const where = path.relative(root, dir) || dir;
		throw Object.assign(new Error(`svelte ${version} in ${where} is not supported: Fymo needs svelte ${SUPPORTED.text} (npm install svelte@5)`), {
			code: 'svelte_version',
			file: path.join(dir, 'package.json')
		});
	}
	const compiler = await import(pathToFileURL(path.join(dir, 'src/compiler/index.js')).href).catch(() =>
		import(pathToFileURL(createRequire(path.join(dir, 'package.json')).resolve('svelte/compiler')).href)
	);
	return { dir, version, owner, resolveDir: path.dirname(path.dirname(dir)), compiler };
}

/**
 * Compiling one file the same way wherever it lives (templates, Fymo's js/, node_modules):
 * the config's `preprocess`, then `compile` with its compiler options.
 * @typedef {{ svelte: Awaited<ReturnType<typeof loadSvelte>>, config: { compilerOptions: object, preprocess: any[] } }} Compiler
 */

/**
 * A component: `{ js, css, warnings }` (css null when it has none; Svelte's warnings). `filename` is the compiler's
 * (stable, relative: the scoped-CSS hash derives from it); `file` the absolute path
 * preprocessors see.
 * @param {Compiler} compiler
 */
export async function compileComponent({ svelte, config }, code, { file, filename, generate }) {
	if (config.preprocess.length) {
		code = (await svelte.compiler.preprocess(code, config.preprocess, { filename: file })).code;
	}
	const result = svelte.compiler.compile(code, compileOptions(config.compilerOptions, { filename, generate }));
	return { js: result.js.code, css: result.css?.code || null, warnings: result.warnings };
}

/**
 * A rune module (`.svelte.js`, `.svelte.ts`): TypeScript stripped first, then `compileModule`;
 * `{ js, warnings }`.
 * @param {Compiler} compiler
 * @param {(code: string) => Promise<string>} stripTypes
 */
export async function compileRuneModule({ svelte, config }, code, { file, filename, generate }, stripTypes) {
	if (/\.m?ts$/.test(file)) code = await stripTypes(code);
	const result = svelte.compiler.compileModule(code, compileOptions(config.compilerOptions, { filename, generate }));
	return { js: result.js.code, warnings: result.warnings };
}
