// An app that owns its browser code, as an Inertia app does: `client.js` (or `.ts`) at the
// app's root is the browser's entry in place of Fymo's client, and `ssr.js` (or `.ts`) the
// server's, handing its render function to Fymo through Inertia's own `createServer`
// (aliased to js/shims/inertia-server.js: the render runs in the engine, no Node sidecar).
// Both may import `fymo:pages`, every template's module by component name, which is what
// Inertia's `resolve` needs (`resolve: (name) => pages[name]`).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { componentName } from './ssr-entry.mjs';

const EXTENSIONS = ['.js', '.ts', '.mjs'];

/** `{ client, server }`: the app's own entry files, or null where it has none. */
export function findAppEntries(root) {
	const find = (name) => EXTENSIONS.map((ext) => path.join(root, name + ext)).find((f) => existsSync(f)) ?? null;
	const entries = { client: find('client'), server: find('ssr') };
	if (entries.client && !entries.server) {
		throw new Error(`${path.basename(entries.client)} is the app's browser entry, and it needs ssr.js beside it to render pages on the server (Inertia's SSR entry: createServer((page) => createInertiaApp({ page, resolve, setup: ({ App, props }) => render(App, { props }) })))`);
	}
	if (entries.server && !entries.client) {
		throw new Error(`${path.basename(entries.server)} is the app's server entry, and it needs client.js beside it to hydrate pages in the browser`);
	}
	return entries.client ? entries : null;
}

/**
 * The `fymo:pages` module for one side.
 * @param {() => { dir: string, templates: string[] }} pages the compile mirror and the
 *   templates of the current build
 */
export function pagesPlugin(pages) {
	return {
		name: 'fymo-pages',
		setup(build) {
			build.onResolve({ filter: /^fymo:pages$/ }, () => ({ path: 'fymo:pages', namespace: 'fymo-pages' }));
			build.onLoad({ filter: /.*/, namespace: 'fymo-pages' }, () => {
				const { dir, templates } = pages();
				const lines = templates.map((t, i) => `import * as P${i} from ${JSON.stringify(path.join(dir, 'templates', t))};`);
				lines.push(`export default {`, ...templates.map((t, i) => `\t${JSON.stringify(componentName(t))}: P${i},`), `};`);
				return { contents: lines.join('\n'), resolveDir: dir, loader: 'js' };
			});
		}
	};
}
