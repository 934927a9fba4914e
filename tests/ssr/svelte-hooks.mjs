// Module hooks for reference.mjs: `svelte*` imports resolve from node-tools, and .svelte
// files compile for the server with the same stable filename Fymo uses (relative to the
// templates root), so scoped-CSS hashes agree.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let fixtures;
let anchor;
let compile;

export async function initialize(data) {
	fixtures = data.fixtures;
	anchor = pathToFileURL(path.join(data.nodeTools, 'package.json')).href;
	const compilerPath = path.join(data.nodeTools, 'node_modules/svelte/src/compiler/index.js');
	({ compile } = await import(pathToFileURL(compilerPath).href));
}

export async function resolve(specifier, context, nextResolve) {
	if (specifier === 'svelte' || specifier.startsWith('svelte/')) {
		return nextResolve(specifier, { ...context, parentURL: anchor });
	}
	return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
	if (!url.endsWith('.svelte')) return nextLoad(url, context);
	const file = fileURLToPath(url);
	const source = await readFile(file, 'utf8');
	const filename = path.relative(fixtures, file).split(path.sep).join('/');
	const { js } = compile(source, { filename, generate: 'server', css: 'external', dev: false });
	return { format: 'module', source: js.code, shortCircuit: true };
}
