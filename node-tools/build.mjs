#!/usr/bin/env node
// Fymo's build step, the driver: compiles every templates/**/*.svelte of an app into its
// compile mirrors (mirror.mjs), has a bundler write ssr.js and client/**, then writes
//   manifest.json          component name -> DOM entry, CSS files, chunk imports
// The bundler is prod-bundle.mjs (esbuild; `fymo build`) or, with --serve-stdin (fymo dev),
// dev-bundle.mjs (module tables: no relinking, so an edit is served in well under the time
// esbuild takes to relink every entry). FYMO_DEV_BUNDLE=esbuild makes fymo dev use esbuild.
// Progress and errors go to stdout as JSON lines ({"event": ...}) for the Rust side to print.
//
// usage: node build.mjs --root APP_DIR [--out DIR] [--serve-stdin] [--intl-locales en,fr]
//   --serve-stdin: stay alive and rebuild incrementally for each `build` line on stdin (fymo dev)
//   --intl-locales: the locales whose data an engine without Intl gets (intl.mjs)
import { rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Mirror, walk } from './mirror.mjs';
import { ProdBundle } from './prod-bundle.mjs';
import { DevBundle } from './dev-bundle.mjs';
import { isAsync, loadSvelteConfig } from './svelte-config.mjs';
import { loadSvelte } from './svelte-compiler.mjs';
import { loadPostcss } from './postcss.mjs';
import { IntlPrelude } from './intl.mjs';
import { findAppEntries } from './app-entries.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = path.resolve(here, '../js');

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');

function parseArgs(argv) {
	const args = { root: process.cwd(), out: null, serve: false, locales: [] };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--root') args.root = path.resolve(argv[++i]);
		else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
		else if (argv[i] === '--serve-stdin') args.serve = true;
		else if (argv[i] === '--intl-locales') args.locales = argv[++i].split(',').filter(Boolean);
		else throw new Error(`unknown argument ${argv[i]}`);
	}
	args.out ??= path.join(args.root, '.fymo', 'build');
	return args;
}

const { root, out, serve, locales } = parseArgs(process.argv.slice(2));
// The app is the working directory, as for Vite: tools that look around it (Tailwind's
// source detection, PostCSS plugins) see the app, wherever fymo was started.
process.chdir(root);

const cacheDir = path.join(path.dirname(out), 'cache');

/**
 * Keeps the compile mirrors (a rebuild after one edit recompiles one template) and a
 * bundler (`ProdBundle` or `DevBundle`: `build(templates)` -> the manifest's parts,
 * `dispose()`) alive between builds.
 */
class Builder {
	constructor(root, out, Bundle) {
		this.root = root;
		this.out = out;
		const sources = [
			{ dir: path.join(root, 'templates'), into: 'templates' },
			{ dir: jsDir, into: '__fymo' }
		];
		this.mirrors = {
			server: new Mirror({ generate: 'server', sources, cacheDir, root }),
			client: new Mirror({ generate: 'client', sources, cacheDir, root })
		};
		/** @type {import('./svelte-compiler.mjs').Compiler | null} */
		this.compiler = null;
		const compiler = () => this.compiler;
		this.bundle = new Bundle({ root, out, jsDir, cacheDir, compiler, mirrors: this.mirrors });
		this.intl = new IntlPrelude({ jsDir, locales });
		this.cleaned = false;
		this.async = false;
		this.postcss = null;
	}

	/**
	 * Finds the Svelte to build with and reads svelte.config.js; when either changed,
	 * every file compiles again.
	 */
	async configure() {
		const [svelte, config, postcss] = await Promise.all([loadSvelte(this.root), loadSvelteConfig(this.root), loadPostcss(this.root)]);
		// A new config (or none now) applies on this sync; the same one keeps its plugins'
		// caches (Tailwind's among them).
		if (postcss?.key !== this.postcss?.key) {
			this.postcss = postcss;
			this.mirrors.client.setPostcss(postcss);
		}
		if (this.compiler && config.key === this.compiler.config.key && svelte.dir === this.compiler.svelte.dir && svelte.version === this.compiler.svelte.version) return;
		if (!this.compiler || svelte.version !== this.compiler.svelte.version) emit({ event: 'svelte', version: svelte.version, owner: svelte.owner, dir: svelte.dir });
		this.compiler = { svelte, config };
		for (const mirror of Object.values(this.mirrors)) mirror.configure(this.compiler);
		this.async = isAsync(config.compilerOptions);
	}

	async build() {
		const started = performance.now();
		const templates = (await walk(path.join(this.root, 'templates'))).filter((t) => t.endsWith('.svelte'));
		emit({ event: 'templates', count: templates.length });
		if (!this.cleaned) {
			// A new process knows nothing of what an earlier one left in the mirror.
			await rm(cacheDir, { recursive: true, force: true });
			this.cleaned = true;
		}
		try {
			await this.configure();
		} catch (e) {
			throw { errors: [{ text: e.message, detail: { code: e.code ?? null }, location: { file: path.resolve(root, e.file ?? 'svelte.config.js'), line: 1, column: 1 } }] };
		}
		const errors = (await Promise.all([this.mirrors.server.sync(), this.mirrors.client.sync()])).flat();
		for (const warning of this.mirrors.client.takeWarnings()) emit({ event: 'warning', ...warning });
		if (errors.length && !this.partial) throw { errors: errors.map(asEsbuildError) };
		// fymo dev: templates that do not compile are reported, stubbed, and the rest is built.
		if (errors.length) reportError({ errors: errors.map(asEsbuildError) });
		let app;
		try {
			app = findAppEntries(this.root);
		} catch (e) {
			throw { errors: [{ text: e.message, location: { file: path.join(root, 'client.js'), line: 1, column: 1 } }] };
		}
		const { client, components, ms } = await this.bundle.build(templates, { async: this.async, app });
		// Both bundlers write ssr.js; an engine without Intl may need a prelude in front.
		let ssrHash;
		try {
			ssrHash = await this.intl.apply(path.join(this.out, 'ssr.js'));
		} catch (e) {
			throw { errors: [{ text: e.message, location: { file: path.join(root, 'fymo.yml'), line: 1, column: 1 } }] };
		}
		emit({ event: 'ssr', file: 'ssr.js', ms: ms.ssr });
		emit({ event: 'client', entries: Object.keys(components).length, ms: ms.client });
		await this.writeManifest(ssrHash, client, components, started, Boolean(app));
	}

	/** `app`: the browser entry is the app's own (app-entries.mjs). */
	async writeManifest(ssrHash, runtime, components, started, app) {
		// Client file names already carry content hashes: hashing the names is enough,
		// and much cheaper than reading hundreds of files after each rebuild.
		const hashed = [runtime.file, ...Object.values(components).flatMap((c) => [c.file, ...c.css, ...c.imports])];
		const manifest = {
			version: createHash('sha256').update(ssrHash).update([...new Set(hashed)].sort().join('\n')).digest('hex').slice(0, 16),
			ssr: 'ssr.js',
			ssrHash,
			app,
			client: runtime,
			components
		};
		await writeFile(path.join(this.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
		emit({ event: 'done', manifest: path.join(this.out, 'manifest.json'), ms: Math.round(performance.now() - started) });
	}

	dispose() {
		return this.bundle.dispose();
	}
}

function asEsbuildError(e) {
	return { text: e.message, detail: { code: e.code, frame: e.frame }, location: { file: path.join(root, e.file), line: e.line, column: e.column } };
}

/** esbuild reports places in a compile mirror; point at the template instead. */
function sourceFile(file) {
	const abs = path.resolve(file);
	for (const generate of ['server', 'client']) {
		const templates = path.join(cacheDir, generate, 'templates') + path.sep;
		if (abs.startsWith(templates)) return path.join('templates', abs.slice(templates.length));
	}
	return path.relative(root, abs);
}

/** One `error` event per distinct error: a template often fails the same way for server and client. */
function reportError(e) {
	const seen = new Set();
	for (const err of e.errors ?? [{ text: String(e.stack ?? e) }]) {
		const event = {
			event: 'error',
			kind: 'compile',
			message: err.text,
			code: err.detail?.code ?? null,
			file: err.location?.file ? sourceFile(err.location.file).replace(/\.css$/, '') : null,
			line: err.location?.line ?? null,
			column: err.location?.column ?? null,
			frame: err.detail?.frame ?? null
		};
		const key = JSON.stringify(event);
		if (!seen.has(key)) emit(event);
		seen.add(key);
	}
}

/** One build, then exit: `fymo build`. */
async function once() {
	await rm(out, { recursive: true, force: true });
	const builder = new Builder(root, out, ProdBundle);
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
	// An app with its own entries links them with esbuild (module tables serve Fymo's client).
	const ownEntries = (() => {
		try {
			return findAppEntries(root);
		} catch {
			return null; // the build says what is wrong
		}
	})();
	const modules = process.env.FYMO_DEV_BUNDLE !== 'esbuild' && !ownEntries;
	const builder = new Builder(root, out, modules ? DevBundle : ProdBundle);
	// Module tables require each template lazily: a broken one can be left out of the way.
	if (modules) {
		builder.partial = true;
		for (const mirror of Object.values(builder.mirrors)) mirror.stubBroken = true;
	}
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
