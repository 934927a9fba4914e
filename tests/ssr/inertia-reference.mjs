#!/usr/bin/env node
// Reference SSR for an Inertia app: what Inertia's own Node SSR renders for a page object,
// with Node's `svelte/server` and the app's @inertiajs/svelte, no bundler and no Fymo code
// (templates compile on import by the rules of svelte-hooks.mjs). Prints {"head", "body"}
// as createInertiaApp's server render returns them (head joined by newlines).
//
// usage: node tests/ssr/inertia-reference.mjs APP_ROOT PAGE_OBJECT_JSON
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

console.log = console.info = console.debug = console.error;

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeTools = path.resolve(here, '../../node-tools');
const root = path.resolve(process.argv[2]);
const page = JSON.parse(process.argv[3]);
const templates = path.join(root, 'templates');
register('./svelte-hooks.mjs', import.meta.url, { data: { fixtures: templates, nodeTools, root } });

// The app's own adapter, through its `svelte` export condition (as a bundler resolves it).
const adapter = path.join(root, 'node_modules', '@inertiajs', 'svelte');
const entry = JSON.parse(readFileSync(path.join(adapter, 'package.json'), 'utf8')).exports['.'].svelte;
const { createInertiaApp } = await import(pathToFileURL(path.join(adapter, entry)).href);
const { render } = await import('svelte/server');
const result = await createInertiaApp({
	page,
	resolve: (name) => import(pathToFileURL(path.join(templates, `${name}.svelte`)).href),
	setup: ({ App, props }) => render(App, { props })
});
process.stdout.write(JSON.stringify({ head: result.head.join('\n'), body: result.body }));
