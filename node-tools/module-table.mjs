// fymo dev's module tables, one per compile mirror (server, client): every file of the
// mirror becomes one CommonJS-style function in a table (esbuild's single-file transform,
// cached until the file changes), and the packages the modules import go into a vendor
// bundle (esbuild, rebuilt only when that set of packages changes). LOADER is the small
// `require` that runs a table; dev-bundle.mjs puts tables, loader and vendor together.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';

const LOADERS = { '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.ts': 'ts', '.mts': 'ts', '.json': 'json', '.svelte': 'js' };

/**
 * Resolves a relative import from module `from` among the ids for which `has` is true,
 * trying the extensions esbuild would; null when nothing matches. Runs in Node (to report
 * a missing file at build time) and, as source, inside the loader.
 */
function resolveRelative(from, spec, has) {
	const parts = from.split('/').slice(0, -1);
	for (const seg of spec.split('/')) {
		if (seg === '..') parts.pop();
		else if (seg !== '.' && seg !== '') parts.push(seg);
	}
	const base = parts.join('/');
	for (const suffix of ['', '.js', '.ts', '.svelte', '/index.js', '/index.ts']) {
		if (has(base + suffix)) return base + suffix;
	}
	// TypeScript style: "./store.svelte.js" names store.svelte.ts.
	if (/\.m?js$/.test(base) && has(base.replace(/js$/, 'ts'))) return base.replace(/js$/, 'ts');
	return null;
}

/** Stylesheets are linked from the page, never imported as modules. Also used in the loader. */
function isStylesheet(spec) {
	return spec.endsWith('.css');
}

/**
 * The loader, as source: shared by both sides. `__fymoLoader(defs, vendor)` returns a
 * `require`; `defs` maps module id -> function or source, `vendor` package -> namespace.
 */
export const LOADER = `${resolveRelative}
${isStylesheet}
function __fymoLoader(defs, vendor) {
	const cache = new Map();
	// Live view of a vendor namespace, marked as ES module so default imports stay right.
	const wrap = (ns) => {
		const out = { __esModule: true };
		for (const key of Object.keys(ns)) Object.defineProperty(out, key, { get: () => ns[key], enumerable: true });
		return out;
	};
	const resolve = (from, spec) => {
		if (!spec.startsWith('.') || isStylesheet(spec)) return spec;
		const id = resolveRelative(from, spec, (id) => defs.has(id));
		if (id === null) throw new Error('cannot find "' + spec + '" imported by ' + from);
		return id;
	};
	const require = (id) => {
		let mod = cache.get(id);
		if (mod) return mod.exports;
		if (Object.hasOwn(vendor, id)) {
			mod = { exports: wrap(vendor[id]) };
		} else if (isStylesheet(id)) {
			mod = { exports: {} };
		} else if (defs.has(id)) {
			mod = { exports: {} };
			cache.set(id, mod);
			let def = defs.get(id);
			if (typeof def === 'string') def = new Function('require', 'module', 'exports', def);
			def.call(mod.exports, (spec) => require(resolve(id, spec)), mod, mod.exports);
			return mod.exports;
		} else {
			throw new Error('module "' + id + '" is not part of the app');
		}
		cache.set(id, mod);
		return mod.exports;
	};
	return require;
}`;

export class ModuleTable {
	/**
	 * @param {{ generate: 'server' | 'client', mirror: import('./mirror.mjs').Mirror, root: string,
	 *           esbuildOptions: object, always: string[] }} options
	 *   `esbuildOptions`: how to bundle the vendor side (conditions, platform, aliases);
	 *   `always`: packages the vendor bundle includes even if no module imports them.
	 */
	constructor({ generate, mirror, root, esbuildOptions, always }) {
		this.generate = generate;
		this.mirror = mirror;
		this.root = root;
		this.esbuildOptions = esbuildOptions;
		this.always = always;
		this.modules = new Map(); // id -> { stamp, entry, packages, css }
		this.vendor = { key: null, code: '', css: '' };
	}

	/** Brings the module table up to date with the mirror; returns transform errors. */
	async update() {
		const errors = [];
		const live = new Set();
		for (const [target, stamp] of this.mirror.seen) {
			const id = path.relative(this.mirror.dir, target).split(path.sep).join('/');
			live.add(id);
			if (this.modules.get(id)?.stamp === stamp) continue;
			try {
				this.modules.set(id, { stamp, ...(await this.transform(id, target)) });
			} catch (e) {
				this.modules.delete(id);
				errors.push(...(e.errors ?? [{ text: String(e.message ?? e) }]));
			}
		}
		for (const id of [...this.modules.keys()]) if (!live.has(id)) this.modules.delete(id);
		return errors.length ? errors : this.unresolved();
	}

	/**
	 * A module's line in the table. Server side: the source as a string, compiled on first
	 * require, so a reload parses only the modules a render needs (QuickJS has no lazy
	 * parsing, and the whole bundle is evaluated again on every edit). Browser: a function.
	 */
	entry(id, code) {
		const key = JSON.stringify(id);
		return this.generate === 'server'
			? `[${key}, ${JSON.stringify(`${code}\n//# sourceURL=${id}`)}]`
			: `[${key}, function (require, module, exports) {\n${code}}]`;
	}

	/** One mirror file -> its table entry, the packages it imports and its CSS. */
	async transform(id, file) {
		const ext = path.extname(id);
		if (ext === '.css') {
			return { entry: this.entry(id, ''), packages: [], relative: [], css: await readFile(file, 'utf8') };
		}
		const loader = LOADERS[ext];
		if (!loader) return { entry: null, packages: [], relative: [], css: null };
		const source = await readFile(file, 'utf8');
		const { code } = await esbuild.transform(source, {
			loader,
			format: 'cjs',
			target: 'es2022',
			sourcefile: id,
			define: { 'process.env.NODE_ENV': '"production"' },
			logLevel: 'silent'
		});
		// The mirror writes a client component's scoped CSS beside it (NAME.svelte.css).
		const css = this.generate === 'client' && ext === '.svelte' ? await readFile(file + '.css', 'utf8').catch(() => null) : null;
		const specs = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]).filter((p) => !isStylesheet(p));
		return {
			entry: this.entry(id, code),
			packages: specs.filter((p) => !p.startsWith('.') && !p.startsWith('/')),
			relative: specs.filter((p) => p.startsWith('.')),
			css
		};
	}

	/** Relative imports that name no file, as esbuild-style errors at the importing line. */
	async unresolved() {
		const has = (id) => Boolean(this.modules.get(id)?.entry);
		const errors = [];
		for (const [id, module] of this.modules) {
			for (const spec of module.relative ?? []) {
				if (resolveRelative(id, spec, has) === null) {
					errors.push({ text: `Could not resolve "${spec}"`, location: await this.locate(id, spec) });
				}
			}
		}
		return errors;
	}

	/** Where `needle` first appears in the source of module `id` (file, 1-based line and column). */
	async locate(id, needle) {
		const file = id.startsWith('templates/') ? path.join(this.root, id) : path.join(this.mirror.dir, id);
		const text = await readFile(file, 'utf8').catch(() => '');
		const at = Math.max(0, text.indexOf(needle));
		const before = text.slice(0, at).split('\n');
		return { file, line: before.length, column: before[before.length - 1].length + 1 };
	}

	/**
	 * The packages the modules import, plus `always`; rebuilds the vendor bundle if they
	 * changed. Server: an IIFE setting globalThis.__fymoVendor; browser: ESM exporting `modules`.
	 */
	async ensureVendor() {
		const packages = new Set(this.always);
		for (const module of this.modules.values()) for (const p of module.packages) packages.add(p);
		const list = [...packages].sort();
		const key = list.join('\n');
		if (key === this.vendor.key) return;
		const imports = list.map((p, i) => `import * as m${i} from ${JSON.stringify(p)};`);
		const table = `{ ${list.map((p, i) => `${JSON.stringify(p)}: m${i}`).join(', ')} }`;
		const contents =
			this.generate === 'server'
				? `${imports.join('\n')}\nglobalThis.__fymoVendor = ${table};`
				: `${imports.join('\n')}\nexport const modules = ${table};`;
		let result;
		try {
			result = await esbuild.build({
				...this.esbuildOptions,
				stdin: { contents, resolveDir: this.root, sourcefile: 'fymo-vendor.js' },
				format: this.generate === 'server' ? 'iife' : 'esm',
				// Never written (write: false), but packages' stylesheets need somewhere to go.
				outdir: path.join(this.root, '.fymo', 'vendor'),
				write: false,
				minify: false
			});
		} catch (e) {
			throw { errors: await this.blame(e.errors ?? [{ text: String(e.message ?? e) }]) };
		}
		const output = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
		this.vendor = { key, code: output('.js'), css: output('.css') };
	}

	/** Points vendor errors ("Could not resolve "pkg"") at a module that imports the package. */
	async blame(errors) {
		return Promise.all(
			errors.map(async (error) => {
				const pkg = error.text.match(/resolve "([^"]+)"/)?.[1];
				const importer = pkg && [...this.modules].find(([, m]) => m.packages.includes(pkg))?.[0];
				return importer ? { ...error, location: await this.locate(importer, pkg) } : error;
			})
		);
	}

	/** The table as source: a Map from module id to its entry. */
	table() {
		const entries = [...this.modules.values()].map((m) => m.entry).filter(Boolean);
		return `new Map([\n${entries.join(',\n')}\n])`;
	}

	/** The CSS of the packages, then of every module (client: each component's scoped
	 * CSS), in table order. */
	css() {
		const modules = [...this.modules.entries()].filter(([, m]) => m.css).map(([id, m]) => `/* ${id} */\n${m.css}`);
		return [this.vendor.css && `/* packages */\n${this.vendor.css}`, ...modules].filter(Boolean).join('\n');
	}
}
