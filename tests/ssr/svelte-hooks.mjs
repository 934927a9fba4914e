// Module hooks for reference.mjs, compiling by Fymo's rules (node-tools/svelte-compiler.mjs
// and svelte-plugin.mjs) with nothing of Fymo's build: one Svelte — the app's own when it
// has one, else node-tools' — for every `svelte*` import and the compiler; packages
// resolve through their `svelte` export condition; every .svelte file (node_modules
// included) compiles for the server with the stable filename Fymo uses (relative to the
// templates root for templates, to the app for anything else, so scoped-CSS hashes
// agree) and the app's svelte.config.js options and preprocessors; rune modules (.svelte.js, .svelte.ts) go
// through compileModule.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let fixtures;
let root;
let anchor;
let svelte;
let config;
let esbuild;
let compilerOptions = null;
let preprocess = [];

/** `svelte`'s folder as seen from `dir`, or null. */
function svelteFrom(dir) {
	try {
		return path.dirname(createRequire(path.join(dir, 'noop.js')).resolve('svelte/package.json'));
	} catch {
		return null;
	}
}

export async function initialize(data) {
	fixtures = data.fixtures;
	root = data.root;
	const svelteDir = svelteFrom(root) ?? path.join(data.nodeTools, 'node_modules/svelte');
	anchor = pathToFileURL(path.join(path.dirname(path.dirname(svelteDir)), 'noop.js')).href;
	svelte = await import(pathToFileURL(path.join(svelteDir, 'src/compiler/index.js')).href);
	config = await import(pathToFileURL(path.join(data.nodeTools, 'svelte-config.mjs')).href);
	esbuild = await import(pathToFileURL(path.join(data.nodeTools, 'node_modules/esbuild/lib/main.js')).href);
	({ compilerOptions, preprocess } = await config.loadSvelteConfig(data.root));
}

export async function resolve(specifier, context, nextResolve) {
	const conditions = [...new Set([...(context.conditions ?? []), 'svelte'])];
	if (specifier === 'svelte' || specifier.startsWith('svelte/')) {
		return nextResolve(specifier, { ...context, conditions, parentURL: anchor });
	}
	try {
		return await nextResolve(specifier, { ...context, conditions });
	} catch (e) {
		// As bundlers resolve relative paths (esbuild in Fymo, Vite in SvelteKit): TypeScript
		// style ("./store.svelte.js" names store.svelte.ts), without the extension
		// ("./toast-state.svelte" names toast-state.svelte.js), and a folder by its index
		// (Inertia's adapter imports "../").
		if (!specifier.startsWith('.')) throw e;
		const folder = specifier.endsWith('/') ? specifier : `${specifier}/`;
		const candidates = /\.m?js$/.test(specifier)
			? [specifier.replace(/js$/, 'ts')]
			: [`${specifier}.js`, `${specifier}.ts`, `${folder}index.js`, `${folder}index.ts`];
		for (const candidate of candidates) {
			try {
				return await nextResolve(candidate, { ...context, conditions });
			} catch {
				// the next one
			}
		}
		throw e;
	}
}

export async function load(url, context, nextLoad) {
	const file = url.startsWith('file:') ? fileURLToPath(url) : null;
	// Stylesheets are the browser's: an `import './app.css'` is nothing on the server.
	if (file?.endsWith('.css')) return { format: 'module', source: '', shortCircuit: true };
	if (!compilerOptions || !file || !(file.endsWith('.svelte') || config.isRuneModule(file))) return nextLoad(url, context);
	let source = await readFile(file, 'utf8');
	const base = file.startsWith(fixtures + path.sep) ? fixtures : root;
	const filename = path.relative(base, file).split(path.sep).join('/');
	const options = config.compileOptions(compilerOptions, { filename, generate: 'server' });
	if (file.endsWith('.svelte')) {
		// svelte.config.js's `preprocess` first (TypeScript, SCSS, ...), as Fymo and Vite do.
		if (preprocess.length) source = (await svelte.preprocess(source, preprocess, { filename: file })).code;
		return { format: 'module', source: svelte.compile(source, options).js.code, shortCircuit: true };
	}
	if (/\.m?ts$/.test(file)) source = (await esbuild.transform(source, { loader: 'ts', target: 'es2022' })).code;
	return { format: 'module', source: svelte.compileModule(source, options).js.code, shortCircuit: true };
}
