// esbuild settings both bundlers share (the production bundles in prod-bundle.mjs, the
// vendor bundles in dev-bundle.mjs): packages come from node-tools' own node_modules,
// .svelte files in the compile mirror are already JavaScript, and server and browser
// code resolve packages under different conditions.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** @param {string} jsDir Fymo's own js/ (for the server's node:async_hooks shim) */
export function esbuildOptions(jsDir) {
	const shared = {
		bundle: true,
		nodePaths: [path.join(here, 'node_modules')],
		target: 'es2022',
		loader: { '.svelte': 'js' },
		define: { 'process.env.NODE_ENV': '"production"' },
		logLevel: 'silent'
	};
	return {
		server: {
			...shared,
			platform: 'neutral',
			conditions: ['svelte', 'production'],
			mainFields: ['module', 'main'],
			alias: { 'node:async_hooks': path.join(jsDir, 'shims/async_hooks.js') }
		},
		client: { ...shared, platform: 'browser', conditions: ['svelte', 'browser', 'production'] }
	};
}
