// Production bundles (`fymo build`, and `fymo dev` with FYMO_DEV_BUNDLE=esbuild), linked
// by esbuild from the compile mirrors:
//   ssr.js      one IIFE the engine evaluates once per instance (svelte/server + all components)
//   client/**   content-hashed ESM: one entry per component, shared chunks, CSS
// The esbuild contexts live between builds (incremental rebuilds) and are recreated
// when templates are added or removed.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { esbuildOptions } from './esbuild-options.mjs';
import { appSsrEntry, componentName, importLinker, ssrEntry } from './ssr-entry.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function ssrOptions(base, { dir, templates, out, async, app }) {
	const link = importLinker((id) => path.join(dir, id));
	const contents = app ? appSsrEntry(app.server, link) : ssrEntry(templates, link, { async });
	return {
		...base,
		stdin: { contents, resolveDir: here, sourcefile: 'fymo-ssr-entry.js' },
		format: 'iife',
		outfile: path.join(out, 'ssr.js')
	};
}

function clientOptions(base, { dir, templates, out, app }) {
	return {
		...base,
		// The app's own entry reaches its pages through `fymo:pages`.
		entryPoints: app
			? [{ in: app.client, out: 'client' }]
			: [
					{ in: path.join(dir, '__fymo', 'client.js'), out: 'fymo-client' },
					...templates.map((t) => ({ in: path.join(dir, 'templates', t), out: `pages/${componentName(t)}` }))
				],
		splitting: true,
		format: 'esm',
		minify: true,
		entryNames: '[dir]/[name]-[hash]',
		chunkNames: 'chunks/[name]-[hash]',
		assetNames: 'assets/[name]-[hash]',
		outdir: path.join(out, 'client'),
		metafile: true
	};
}

/**
 * Maps each entry to its file, CSS and transitive static chunk imports (for modulepreload).
 * With the app's own entry, that entry is the client and every component's.
 */
function manifestFrom(metafile, clientDir, dir, { app, templates }) {
	const templatesDir = path.join(dir, 'templates');
	const rel = (p) => path.relative(clientDir, path.resolve(p)).split(path.sep).join('/');
	const outputs = metafile.outputs;
	const closure = (file, seen = new Set()) => {
		for (const imp of outputs[file]?.imports ?? []) {
			if (imp.kind === 'import-statement' && !seen.has(imp.path)) {
				seen.add(imp.path);
				closure(imp.path, seen);
			}
		}
		return seen;
	};
	const components = {};
	let client = null;
	for (const [file, output] of Object.entries(outputs)) {
		if (!output.entryPoint) continue;
		const entry = {
			file: rel(file),
			css: output.cssBundle ? [rel(output.cssBundle)] : [],
			imports: [...closure(file)].map(rel).sort()
		};
		const source = path.resolve(output.entryPoint);
		if (app && source === app.client) {
			client = entry;
			for (const t of templates) components[componentName(t)] = entry;
		} else if (source === path.join(dir, '__fymo', 'client.js')) client = entry;
		else components[componentName(path.relative(templatesDir, source).split(path.sep).join('/'))] = entry;
	}
	return { client, components };
}

export class ProdBundle {
	/**
	 * @param {{ out: string, jsDir: string, mirrors: Record<'server' | 'client', import('./mirror.mjs').Mirror> }} options
	 */
	constructor({ root, out, jsDir, cacheDir, compiler, mirrors }) {
		this.out = out;
		this.mirrors = mirrors;
		this.templates = [];
		const pages = (generate) => ({ dir: mirrors[generate].dir, templates: this.templates });
		this.options = esbuildOptions({ jsDir, root, cacheDir, compiler, pages });
		this.key = null;
		this.contexts = null;
	}

	/**
	 * Relinks ssr.js and client/** (the mirrors are up to date); returns the manifest's parts.
	 * `app`: the app's own entries (app-entries.mjs), or null.
	 */
	async build(templates, { async = false, app = null } = {}) {
		this.templates = templates;
		const key = `${async}\n${JSON.stringify(app)}\n${templates.join('\n')}`;
		if (key !== this.key) {
			await this.dispose();
			const out = this.out;
			this.contexts = {
				ssr: await esbuild.context(ssrOptions(this.options.server, { dir: this.mirrors.server.dir, templates, out, async, app })),
				client: await esbuild.context(clientOptions(this.options.client, { dir: this.mirrors.client.dir, templates, out, app }))
			};
			this.key = key;
		}
		await mkdir(this.out, { recursive: true });
		const timed = async (ctx) => {
			const t = performance.now();
			const result = await ctx.rebuild();
			return { result, ms: Math.round(performance.now() - t) };
		};
		const [ssr, client] = await Promise.all([timed(this.contexts.ssr), timed(this.contexts.client)]);
		const manifest = manifestFrom(client.result.metafile, path.join(this.out, 'client'), this.mirrors.client.dir, { app, templates });
		return { ...manifest, ms: { ssr: ssr.ms, client: client.ms } };
	}

	async dispose() {
		if (!this.contexts) return;
		await Promise.all([this.contexts.ssr.dispose(), this.contexts.client.dispose()]);
		this.contexts = null;
		this.key = null;
	}
}
