// esbuild settings both bundlers share (the production bundles in prod-bundle.mjs, the
// vendor bundles in dev-bundle.mjs): packages resolve from the app, then from node-tools'
// own node_modules; .svelte files in the compile mirror are already JavaScript, those of
// packages go through the Svelte plugin; server and browser code resolve packages under
// different conditions.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sveltePlugin } from './svelte-plugin.mjs';
import { pagesPlugin } from './app-entries.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * @param {{ jsDir: string, root: string, cacheDir: string,
 *           compiler: () => import('./svelte-compiler.mjs').Compiler }} options
 *   `jsDir`: Fymo's own js/ (for the server's node:async_hooks shim).
 * @param {(generate: 'server' | 'client') => { dir: string, templates: string[] }} [options.pages]
 *   what `fymo:pages` lists (app-entries.mjs), for bundles of an app's own entries
 */
export function esbuildOptions({ jsDir, root, cacheDir, compiler, pages }) {
	// Beside the compile mirrors, and kept when they are cleared: see svelte-plugin.mjs.
	const packageCache = path.join(path.dirname(cacheDir), 'package-cache');
	const shared = {
		// Paths in metafiles are relative to this (prod-bundle.mjs resolves them from the
		// app, the build's working directory).
		absWorkingDir: root,
		bundle: true,
		nodePaths: [path.join(here, 'node_modules')],
		target: 'es2022',
		loader: { '.svelte': 'js' },
		define: { 'process.env.NODE_ENV': '"production"' },
		logLevel: 'silent'
	};
	const plugins = (generate) => [
		sveltePlugin({ generate, root, cacheDir, packageCache, compiler }),
		...(pages ? [pagesPlugin(() => pages(generate))] : [])
	];
	return {
		server: {
			...shared,
			platform: 'neutral',
			conditions: ['svelte', 'production'],
			mainFields: ['svelte', 'module', 'main'],
			// Stylesheets are the browser's: a package's `import './styles.css'` is nothing here.
			loader: { ...shared.loader, '.css': 'empty' },
			alias: {
				'node:async_hooks': path.join(jsDir, 'shims/async_hooks.js'),
				'@inertiajs/core/server': path.join(jsDir, 'shims/inertia-server.js')
			},
			plugins: plugins('server')
		},
		client: {
			...shared,
			platform: 'browser',
			conditions: ['svelte', 'browser', 'production'],
			mainFields: ['svelte', 'browser', 'module', 'main'],
			plugins: plugins('client')
		}
	};
}
