#!/usr/bin/env node
// Fymo's build step. Compiles every templates/**/*.svelte of an app into:
//   ssr.js                 one IIFE the engine evaluates once per instance (svelte/server + all components)
//   client/**              content-hashed ESM: one entry per component, shared chunks, CSS
//   manifest.json          component name -> DOM entry, CSS files, chunk imports
// With --serve-stdin (fymo dev) the bundles come from dev-bundle.mjs instead: no relinking,
// so an edit is served in well under the time esbuild takes to relink every entry.
// Progress and errors go to stdout as JSON lines ({"event": ...}) for the Rust side to print.
//
// usage: node build.mjs --root APP_DIR [--out DIR] [--serve-stdin]
//   --serve-stdin: stay alive and rebuild incrementally for each `build` line on stdin (fymo dev)
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import * as esbuild from 'esbuild';
import { Mirror, walk } from './mirror.mjs';
import { DevBundle } from './dev-bundle.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = path.resolve(here, '../js');

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');

function parseArgs(argv) {
	const args = { root: process.cwd(), out: null, serve: false };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--root') args.root = path.resolve(argv[++i]);
		else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
		else if (argv[i] === '--serve-stdin') args.serve = true;
		else throw new Error(`unknown argument ${argv[i]}`);
	}
	args.out ??= path.join(args.root, '.fymo', 'build');
	return args;
}

const { root, out, serve } = parseArgs(process.argv.slice(2));

const nameOf = (rel) => rel.replace(/\.svelte$/, '');

function ssrEntry(dir, templates) {
	const imports = templates.map((t, i) => `import C${i} from ${JSON.stringify(path.join(dir, 'templates', t))};`);
	const table = templates.map((t, i) => `  ${JSON.stringify(nameOf(t))}: C${i},`);
	return [
		`import { render } from 'svelte/server';`,
		`import { install } from ${JSON.stringify(path.join(dir, '__fymo', 'ssr-host.js'))};`,
		`import LayoutRoot from ${JSON.stringify(path.join(dir, '__fymo', 'LayoutRoot.svelte'))};`,
		...imports,
		`install({ render, LayoutRoot, components: {`,
		...table,
		`} });`
	].join('\n');
}

const shared = {
	bundle: true,
	nodePaths: [path.join(here, 'node_modules')],
	target: 'es2022',
	loader: { '.svelte': 'js' },
	define: { 'process.env.NODE_ENV': '"production"' },
	logLevel: 'silent'
};

const serverResolve = {
	platform: 'neutral',
	conditions: ['svelte', 'production'],
	mainFields: ['module', 'main'],
	alias: { 'node:async_hooks': path.join(jsDir, 'shims/async_hooks.js') }
};
const clientResolve = { platform: 'browser', conditions: ['svelte', 'browser', 'production'] };

function ssrOptions({ dir, templates, out }) {
	return {
		...shared,
		...serverResolve,
		stdin: { contents: ssrEntry(dir, templates), resolveDir: here, sourcefile: 'fymo-ssr-entry.js' },
		format: 'iife',
		outfile: path.join(out, 'ssr.js')
	};
}

function clientOptions({ dir, templates, out }) {
	return {
		...shared,
		entryPoints: [
			{ in: path.join(dir, '__fymo', 'client.js'), out: 'fymo-client' },
			...templates.map((t) => ({ in: path.join(dir, 'templates', t), out: `pages/${nameOf(t)}` }))
		],
		...clientResolve,
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

/** Maps each entry to its file, CSS and transitive static chunk imports (for modulepreload). */
function manifestFrom(metafile, clientDir, dir) {
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
		if (source === path.join(dir, '__fymo', 'client.js')) client = entry;
		else components[nameOf(path.relative(templatesDir, source).split(path.sep).join('/'))] = entry;
	}
	return { client, components };
}

async function hashOf(out, files) {
	const hash = createHash('sha256');
	for (const f of files) hash.update(f).update(await readFile(path.join(out, f)));
	return hash.digest('hex').slice(0, 16);
}

/**
 * Keeps esbuild contexts alive between builds (incremental rebuilds) and a cache of
 * Svelte compile results, so a rebuild after one edit recompiles one template.
 * The contexts are recreated when templates are added or removed.
 */
class Builder {
	/** `dev`: build with dev-bundle.mjs (fymo dev) rather than esbuild contexts. */
	constructor(root, out, { dev = false } = {}) {
		this.root = root;
		this.out = out;
		this.cacheDir = path.join(path.dirname(out), 'cache');
		const cacheDir = this.cacheDir;
		const sources = [
			{ dir: path.join(root, 'templates'), into: 'templates' },
			{ dir: jsDir, into: '__fymo' }
		];
		this.mirrors = {
			server: new Mirror({ generate: 'server', sources, cacheDir, root }),
			client: new Mirror({ generate: 'client', sources, cacheDir, root })
		};
		this.key = null;
		this.contexts = null;
		this.dev = dev && {
			server: new DevBundle({
				generate: 'server', mirror: this.mirrors.server, root,
				esbuildOptions: { ...shared, ...serverResolve }, always: ['svelte/server']
			}),
			client: new DevBundle({
				generate: 'client', mirror: this.mirrors.client, root,
				esbuildOptions: { ...shared, ...clientResolve }, always: ['svelte']
			})
		};
	}

	async build() {
		const started = performance.now();
		const templates = (await walk(path.join(this.root, 'templates'))).filter((t) => t.endsWith('.svelte'));
		emit({ event: 'templates', count: templates.length });
		if (!this.contexts && !this.cleaned) {
			// A new process knows nothing of what an earlier one left in the mirror.
			await rm(this.cacheDir, { recursive: true, force: true });
			this.cleaned = true;
		}
		const errors = (await Promise.all([this.mirrors.server.sync(), this.mirrors.client.sync()])).flat();
		if (errors.length) throw { errors: dedupe(errors).map(asEsbuildError) };
		if (this.dev) return this.buildDev(templates, started);
		const key = templates.join('\n');
		if (key !== this.key) {
			await this.dispose();
			this.contexts = {
				ssr: await esbuild.context(ssrOptions({ dir: this.mirrors.server.dir, templates, out: this.out })),
				client: await esbuild.context(clientOptions({ dir: this.mirrors.client.dir, templates, out: this.out }))
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
		emit({ event: 'ssr', file: 'ssr.js', ms: ssr.ms });
		const { client: runtime, components } = manifestFrom(client.result.metafile, path.join(this.out, 'client'), this.mirrors.client.dir);
		emit({ event: 'client', entries: Object.keys(components).length, ms: client.ms });
		await this.writeManifest(await hashOf(this.out, ['ssr.js']), runtime, components, started);
	}

	/** fymo dev: update the module tables, then write ssr.js and the browser files. */
	async buildDev(templates, started) {
		const errors = (await Promise.all([this.dev.server.update(), this.dev.client.update()])).flat();
		if (errors.length) throw { errors };
		await mkdir(path.join(this.out, 'client'), { recursive: true });
		const t = performance.now();
		const [ssr, { client, components }] = await Promise.all([
			this.dev.server.ssr(templates).then(async (code) => {
				await writeFile(path.join(this.out, 'ssr.js'), code);
				return code;
			}),
			this.dev.client.client(path.join(this.out, 'client'), templates)
		]);
		const ms = Math.round(performance.now() - t);
		emit({ event: 'ssr', file: 'ssr.js', ms });
		emit({ event: 'client', entries: Object.keys(components).length, ms });
		const ssrHash = createHash('sha256').update(ssr).digest('hex').slice(0, 16);
		await this.writeManifest(ssrHash, client, components, started);
	}

	async writeManifest(ssrHash, runtime, components, started) {
		// Client file names already carry content hashes: hashing the names is enough,
		// and much cheaper than reading hundreds of files after each rebuild.
		const hashed = [runtime.file, ...Object.values(components).flatMap((c) => [c.file, ...c.css, ...c.imports])];
		const manifest = {
			version: createHash('sha256').update(ssrHash).update([...new Set(hashed)].sort().join('\n')).digest('hex').slice(0, 16),
			ssr: 'ssr.js',
			ssrHash,
			client: runtime,
			components
		};
		await writeFile(path.join(this.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
		emit({ event: 'done', manifest: path.join(this.out, 'manifest.json'), ms: Math.round(performance.now() - started) });
	}

	async dispose() {
		if (!this.contexts) return;
		await Promise.all([this.contexts.ssr.dispose(), this.contexts.client.dispose()]);
		this.contexts = null;
		this.key = null;
	}
}

/** The same template fails the same way for server and client: report it once. */
function dedupe(errors) {
	const seen = new Set();
	return errors.filter((e) => {
		const key = `${e.file}:${e.line}:${e.column}:${e.message}`;
		return !seen.has(key) && seen.add(key);
	});
}

function asEsbuildError(e) {
	return { text: e.message, detail: { code: e.code, frame: e.frame }, location: { file: path.join(root, e.file), line: e.line, column: e.column } };
}

/** esbuild reports places in the mirror; point at the template instead. */
function sourceFile(file) {
	const abs = path.resolve(file);
	const match = abs.match(/[\\/]\.fymo[\\/]cache[\\/](?:server|client)[\\/]templates[\\/](.*)$/);
	return match ? path.join('templates', match[1]) : path.relative(root, abs);
}

function reportError(e) {
	for (const err of e.errors ?? [{ text: String(e.stack ?? e) }]) {
		emit({
			event: 'error',
			kind: 'compile',
			message: err.text,
			code: err.detail?.code ?? null,
			file: err.location?.file ? sourceFile(err.location.file).replace(/\.css$/, '') : null,
			line: err.location?.line ?? null,
			column: err.location?.column ?? null,
			frame: err.detail?.frame ?? null
		});
	}
}

/** One build, then exit: `fymo build`. */
async function once() {
	await rm(out, { recursive: true, force: true });
	const builder = new Builder(root, out);
	try {
		await builder.build();
	} finally {
		await builder.dispose();
	}
}

/**
 * Long-lived mode for `fymo dev`: one build per `build` line on stdin, each ending with
 * `done` or `failed`. Old hashed files stay on disk so in-flight pages keep loading.
 */
async function serveStdin() {
	await rm(out, { recursive: true, force: true });
	const builder = new Builder(root, out, { dev: process.env.FYMO_DEV_BUNDLE !== 'esbuild' });
	let queue = Promise.resolve();
	const lines = createInterface({ input: process.stdin });
	lines.on('line', (line) => {
		if (line.trim() !== 'build') return;
		queue = queue.then(async () => {
			try {
				await builder.build();
			} catch (e) {
				reportError(e);
				emit({ event: 'failed' });
			}
		});
	});
	lines.on('close', () => queue.then(() => builder.dispose()).then(() => process.exit(0)));
}

if (serve) {
	serveStdin();
} else {
	once().catch((e) => {
		reportError(e);
		process.exit(1);
	});
}
