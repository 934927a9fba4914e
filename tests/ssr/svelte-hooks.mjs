// Module hooks for reference.mjs: `svelte*` imports resolve from node-tools, .svelte files
// compile for the server with the same stable filename Fymo uses (relative to the
// templates root, so scoped-CSS hashes agree) and the app's svelte.config.js options,
// and rune modules (.svelte.js, .svelte.ts) go through compileModule.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let fixtures;
let anchor;
let svelte;
let config;
let esbuild;
let compilerOptions = null;

export async function initialize(data) {
	fixtures = data.fixtures;
	anchor = pathToFileURL(path.join(data.nodeTools, 'package.json')).href;
	const compilerPath = path.join(data.nodeTools, 'node_modules/svelte/src/compiler/index.js');
	svelte = await import(pathToFileURL(compilerPath).href);
	config = await import(pathToFileURL(path.join(data.nodeTools, 'svelte-config.mjs')).href);
	esbuild = await import(pathToFileURL(path.join(data.nodeTools, 'node_modules/esbuild/lib/main.js')).href);
	compilerOptions = (await config.loadSvelteConfig(data.root)).compilerOptions;
}

export async function resolve(specifier, context, nextResolve) {
	if (specifier === 'svelte' || specifier.startsWith('svelte/')) {
		return nextResolve(specifier, { ...context, parentURL: anchor });
	}
	try {
		return await nextResolve(specifier, context);
	} catch (e) {
		// TypeScript style: "./store.svelte.js" names store.svelte.ts.
		if (/\.m?js$/.test(specifier)) return nextResolve(specifier.replace(/js$/, 'ts'), context);
		throw e;
	}
}

export async function load(url, context, nextLoad) {
	const file = url.startsWith('file:') ? fileURLToPath(url) : null;
	if (!compilerOptions || !file || !(file.endsWith('.svelte') || config.isRuneModule(file))) return nextLoad(url, context);
	let source = await readFile(file, 'utf8');
	const filename = path.relative(fixtures, file).split(path.sep).join('/');
	const options = config.compileOptions(compilerOptions, { filename, generate: 'server' });
	if (file.endsWith('.svelte')) {
		return { format: 'module', source: svelte.compile(source, options).js.code, shortCircuit: true };
	}
	if (/\.m?ts$/.test(file)) source = (await esbuild.transform(source, { loader: 'ts', target: 'es2022' })).code;
	return { format: 'module', source: svelte.compileModule(source, options).js.code, shortCircuit: true };
}
