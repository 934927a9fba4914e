#!/usr/bin/env node
// Reference SSR for the differential test: renders every top-level fixture with Node's
// own `svelte/server`, compiling .svelte files on import through a module hook, with no
// bundler and no Fymo code involved. Prints {"name": {"head", "body"}} as JSON.
//
// usage: node tests/ssr/reference.mjs FIXTURES_DIR
import { register } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeTools = path.resolve(here, '../../node-tools');
const fixtures = path.resolve(process.argv[2] ?? path.join(here, 'fixtures'));

register('./svelte-hooks.mjs', import.meta.url, { data: { fixtures, nodeTools } });

const { render } = await import('svelte/server');
const out = {};
for (const file of (await readdir(fixtures)).sort()) {
	if (!file.endsWith('.svelte')) continue;
	const name = file.slice(0, -'.svelte'.length);
	const propsFile = path.join(fixtures, `${name}.json`);
	const props = JSON.parse(await readFile(propsFile, 'utf8').catch(() => '{}'));
	const { default: Component } = await import(pathToFileURL(path.join(fixtures, file)).href);
	const result = render(Component, { props });
	out[name] = { head: result.head, body: result.body };
}
process.stdout.write(JSON.stringify(out));
