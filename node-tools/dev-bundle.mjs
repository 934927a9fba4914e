// fymo dev's bundles, built without relinking: each side's module table (module-table.mjs)
// plus its loader is concatenated after a vendor bundle of the packages the app imports.
// An edit costs one Svelte compile, one transform and a string join, whatever the number
// of templates; `fymo build` links with esbuild instead (prod-bundle.mjs).
//
// Server: ssr.js = vendor IIFE + loader + table + the SSR entry, components required lazily.
// Browser: vendor-HASH.js (ESM), app-HASH.js (loader + table), app-HASH.css (all CSS).
// A page imports `app-HASH.js?c=<module id>`: each such URL is its own module instance, so
// the loader's module cache lives on globalThis and every instance shares it.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { esbuildOptions } from './esbuild-options.mjs';
import { LOADER, ModuleTable } from './module-table.mjs';
import { componentName, requireLinker, ssrEntry } from './ssr-entry.mjs';

const KEEP_GENERATIONS = 3; // old files stay a little for pages still loading them

const hash8 = (text) => createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();

export class DevBundle {
	/**
	 * @param {{ root: string, out: string, jsDir: string, mirrors: Record<'server' | 'client', import('./mirror.mjs').Mirror> }} options
	 */
	constructor({ root, out, jsDir, cacheDir, compiler, mirrors }) {
		this.out = out;
		this.clientDir = path.join(out, 'client');
		const options = esbuildOptions({ jsDir, root, cacheDir, compiler });
		const table = (generate, always) =>
			new ModuleTable({ generate, mirror: mirrors[generate], root, esbuildOptions: options[generate], always });
		this.server = table('server', ['svelte/server']);
		this.client = table('client', ['svelte']);
		this.written = []; // browser files of earlier builds, oldest first
	}

	/** Updates the module tables from the mirrors, then writes ssr.js and the browser files. */
	async build(templates, { async = false } = {}) {
		const errors = (await Promise.all([this.server.update(), this.client.update()])).flat();
		if (errors.length) throw { errors };
		await mkdir(this.clientDir, { recursive: true });
		const t = performance.now();
		const [, browser] = await Promise.all([this.writeSsr(templates, async), this.writeClient(templates)]);
		const ms = Math.round(performance.now() - t);
		return { ...browser, ms: { ssr: ms, client: ms } };
	}

	/** ssr.js: vendor, loader, table, then the SSR entry. */
	async writeSsr(templates, async) {
		await this.server.ensureVendor();
		const code = [
			this.server.vendor.code,
			'(() => {',
			LOADER,
			`const require = __fymoLoader(${this.server.table()}, globalThis.__fymoVendor);`,
			ssrEntry(templates, requireLinker, { async }),
			'})();'
		].join('\n');
		await writeFile(path.join(this.out, 'ssr.js'), code);
	}

	/** Writes the browser files; returns the manifest's `client` and `components`. */
	async writeClient(templates) {
		await this.client.ensureVendor();
		const vendor = this.client.vendor.code;
		const vendorFile = `vendor-${hash8(vendor)}.js`;
		const css = this.client.css();
		const app = [
			`import { modules as vendor } from './${vendorFile}';`,
			LOADER,
			`const require = (globalThis.__fymoRequire ??= __fymoLoader(${this.client.table()}, vendor));`,
			`const entry = require(new URL(import.meta.url).searchParams.get('c'));`,
			`export default entry.default;`,
			`export const start = entry.start;`
		].join('\n');
		const appFile = `app-${hash8(app)}.js`;
		const cssFile = `app-${hash8(css)}.css`;
		await Promise.all([
			writeFile(path.join(this.clientDir, vendorFile), vendor),
			writeFile(path.join(this.clientDir, appFile), app),
			writeFile(path.join(this.clientDir, cssFile), css)
		]);
		await this.prune([vendorFile, appFile, cssFile]);
		// The URL a page imports for module `id`.
		const url = (id) => `${appFile}?c=${encodeURIComponent(id).replace(/%2F/g, '/')}`;
		const components = {};
		for (const t of templates) {
			components[componentName(t)] = { file: url(`templates/${t}`), css: [cssFile], imports: [vendorFile] };
		}
		return { client: { file: url('__fymo/client.js'), css: [], imports: [vendorFile] }, components };
	}

	/** Deletes browser files older than the last few builds (pages still loading keep theirs). */
	async prune(current) {
		this.written = this.written.filter((f) => !current.includes(f)).concat(current);
		const excess = this.written.length - KEEP_GENERATIONS * current.length;
		if (excess > 0) await Promise.all(this.written.splice(0, excess).map((f) => rm(path.join(this.clientDir, f), { force: true })));
	}

	/** Nothing to release: the tables are plain data, esbuild runs one-shot builds. */
	async dispose() {}
}
