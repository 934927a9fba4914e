#!/usr/bin/env node
// Reference SSR for the differential test: renders every top-level template of an app
// with Node's own `svelte/server`, compiling .svelte files and rune modules (.svelte.js,
// .svelte.ts) on import through a module hook, with the app's svelte.config.js compiler
// options, no bundler and no Fymo code involved. With `experimental.async` a render is
// awaited (`await render(...)`), as Svelte requires. Props come from NAME.json beside
// NAME.svelte. Prints {"name": {"head", "body"}} as JSON.
//
// usage: node tests/ssr/reference.mjs APP_ROOT [PROPS.json]
//   templates in APP_ROOT/templates; PROPS.json ({name: props}) replaces the NAME.json files
//   (the props a Fymo page was served with, read back from the page)
import { register } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// stdout carries the JSON: a template's console output goes to stderr.
console.log = console.info = console.debug = console.error;

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeTools = path.resolve(here, '../../node-tools');
const root = path.resolve(process.argv[2] ?? '.');
const fixtures = path.join(root, 'templates');
const given = process.argv[3] ? JSON.parse(await readFile(process.argv[3], 'utf8')) : null;

const { loadSvelteConfig, isAsync } = await import(pathToFileURL(path.join(nodeTools, 'svelte-config.mjs')).href);
const { compilerOptions } = await loadSvelteConfig(root);
register('./svelte-hooks.mjs', import.meta.url, { data: { fixtures, nodeTools, root } });

// The `svelte/server` of the Svelte the hooks chose (the app's, when it has one).
const { render } = await import('svelte/server');
// What Fymo's SSR host gives every render through context (js/ssr-host.js).
const context = new Map([['fymo:nonce', '%fymo.nonce%']]);
const out = {};
for (const file of (await readdir(fixtures)).sort()) {
	if (!file.endsWith('.svelte')) continue;
	const name = file.slice(0, -'.svelte'.length);
	if (given && !(name in given)) continue;
	const propsFile = path.join(fixtures, `${name}.json`);
	const props = given ? given[name] : JSON.parse(await readFile(propsFile, 'utf8').catch(() => '{}'));
	const { default: Component } = await import(pathToFileURL(path.join(fixtures, file)).href);
	const result = isAsync(compilerOptions) ? await render(Component, { props, context }) : render(Component, { props, context });
	out[name] = { head: result.head, body: result.body };
}
process.stdout.write(JSON.stringify(out));
