// The compile cache: templates/** and Fymo's js/** mirrored under .fymo/cache/<generate>/,
// with every .svelte file replaced by its compiled JavaScript (and its CSS written beside
// it as NAME.svelte.css, imported from the JS on the client), and every rune module
// (.svelte.js, .svelte.ts) by the output of Svelte's compileModule (TypeScript stripped
// first), under the same name. esbuild then bundles plain
// files with no plugin: nothing crosses from esbuild back into Node per file, and a
// rebuild after one edit recompiles that one template.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { transform } from 'esbuild';
import { isRuneModule } from './svelte-config.mjs';
import { compileComponent, compileRuneModule } from './svelte-compiler.mjs';

/** Files under `dir`, relative, `/`-separated, sorted. */
export async function walk(dir, base = dir) {
	let entries;
	try {
		entries = await readdir(dir, { withFileTypes: true });
	} catch (e) {
		if (e.code === 'ENOENT') return [];
		throw e;
	}
	const found = [];
	for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
		const abs = path.join(dir, entry.name);
		if (entry.isDirectory()) found.push(...(await walk(abs, base)));
		else if (!entry.name.startsWith('.')) found.push(path.relative(base, abs).split(path.sep).join('/'));
	}
	return found;
}

export class Mirror {
	/**
	 * @param {{ generate: 'server' | 'client', sources: { dir: string, into: string }[], cacheDir: string, root: string }} options
	 *   Each source dir is mirrored into `cacheDir/<into>`; a .svelte file's compiler
	 *   filename is its path under `into` (`products/show.svelte` for templates, so the
	 *   scoped-CSS hash does not depend on where the app lives).
	 */
	constructor({ generate, sources, cacheDir, root }) {
		this.generate = generate;
		this.sources = sources;
		this.dir = path.join(cacheDir, generate);
		this.root = root;
		this.seen = new Map(); // target -> "mtime:size" of its source
		/** @type {import('./svelte-compiler.mjs').Compiler | null} */
		this.compiler = null;
		/** The app's PostCSS (postcss.mjs), for the browser's stylesheets; null without one. */
		this.postcss = null;
		this.postcssKey = null;
		/** Svelte's warnings of the files compiled since the build last took them. */
		this.warnings = [];
		// fymo dev: a file that does not compile becomes a module that throws its error
		// when imported, so every page that does not import it keeps working.
		this.stubBroken = false;
	}

	/** A new compiler or svelte.config.js: everything compiles again on the next sync. */
	configure(compiler) {
		this.compiler = compiler;
		this.seen.clear();
	}

	/** Where `rel` of source `into` lands in the mirror. */
	target(into, rel) {
		return path.join(this.dir, into, rel);
	}

	/** The app's PostCSS (or null): stylesheets go through it from the next sync on. */
	setPostcss(postcss) {
		this.postcss = this.generate === 'client' ? postcss : null;
	}

	/** Brings the mirror up to date; returns compile errors (empty when all is well). */
	async sync() {
		const errors = [];
		const live = new Set();
		// Stylesheets through PostCSS, done last: what Tailwind writes depends on every
		// template (its classes), so they run again whenever anything changed.
		const stylesheets = [];
		let changed = false;
		for (const { dir, into } of this.sources) {
			for (const rel of await walk(dir)) {
				const source = path.join(dir, rel);
				const target = this.target(into, rel);
				live.add(target);
				const info = await stat(source);
				const stamp = `${info.mtimeMs}:${info.size}`;
				if (this.postcss && into === 'templates' && rel.endsWith('.css')) {
					stylesheets.push({ source, target, stamp });
					if (!this.seen.get(target)?.startsWith(`${stamp}:`)) changed = true;
					continue;
				}
				if (this.seen.get(target) === stamp) continue;
				changed = true;
				await mkdir(path.dirname(target), { recursive: true });
				if (rel.endsWith('.svelte') || isRuneModule(rel)) {
					const filename = into === 'templates' ? rel : `${into}/${rel}`;
					const error = await (rel.endsWith('.svelte') ? this.compileOne(source, target, filename) : this.compileModule(source, target, filename));
					if (error) {
						errors.push(error);
						if (this.stubBroken) {
							// In the table (which follows `seen`), and compiled again next time,
							// so the error is reported on every build until it is fixed.
							await writeFile(target, stub(error));
							this.seen.set(target, `${stamp}:broken`);
						} else {
							this.seen.delete(target);
						}
						continue;
					}
				} else {
					await writeFile(target, await readFile(source));
				}
				this.seen.set(target, stamp);
			}
		}
		for (const target of [...this.seen.keys()]) {
			if (!live.has(target)) {
				changed = true;
				this.seen.delete(target);
				await rm(target, { force: true });
				await rm(target + '.css', { force: true });
			}
		}
		if (stylesheets.length && (changed || this.postcss.key !== this.postcssKey)) {
			this.postcssKey = this.postcss.key;
			for (const sheet of stylesheets) {
				const error = await this.processStylesheet(sheet);
				if (error) errors.push(error);
			}
		}
		return errors;
	}

	/** One stylesheet of templates/ through the app's PostCSS, from its own path (so its
	 * `@import`s and Tailwind's `@source`s resolve as written). */
	async processStylesheet({ source, target, stamp }) {
		const css = await readFile(source, 'utf8');
		try {
			await mkdir(path.dirname(target), { recursive: true });
			const output = await this.postcss.process(css, source);
			await writeFile(target, output);
			// The output changes with other files (Tailwind's classes): its stamp says so,
			// so the dev module table reads it again.
			this.seen.set(target, `${stamp}:${createHash('sha256').update(output).digest('hex').slice(0, 16)}`);
			return null;
		} catch (e) {
			this.seen.delete(target);
			const line = e.line ?? 1;
			return {
				message: e.reason ?? e.message.split('\n')[0],
				code: e.name === 'CssSyntaxError' ? 'css_syntax' : 'postcss',
				file: path.relative(this.root, source),
				line,
				column: e.column ?? 1,
				frame: null,
				lineText: css.split('\n')[line - 1] ?? ''
			};
		}
	}

	async compileOne(source, target, filename) {
		const code = await readFile(source, 'utf8');
		let result;
		try {
			result = await compileComponent(this.compiler, code, { file: source, filename, generate: this.generate });
		} catch (e) {
			return compileError(e, path.relative(this.root, source), code);
		}
		this.warn(result.warnings, source, code);
		let js = result.js;
		if (this.generate === 'client' && result.css) {
			await writeFile(target + '.css', result.css);
			js += `\nimport ${JSON.stringify('./' + path.basename(target) + '.css')};`;
		}
		await writeFile(target, js);
		return null;
	}

	/**
	 * Keeps Svelte's warnings of an app file just compiled (a11y included) for the build to
	 * print: once per file and change (the browser's mirror reports them; the server's
	 * would say the same), through svelte.config.js's `onwarn(warning, handler)` when it
	 * has one, as vite-plugin-svelte does. (`compilerOptions.warningFilter` has already
	 * dropped what it filters.)
	 */
	warn(warnings, source, code) {
		// Fymo's own js/ is not the app's to fix.
		if (this.generate !== 'client' || path.relative(this.root, source).startsWith('..')) return;
		for (const warning of warnings ?? []) {
			const line = warning.start?.line ?? null;
			const report = () =>
				this.warnings.push({
					message: warning.message.split('\n')[0],
					code: warning.code ?? null,
					file: path.relative(this.root, source),
					line,
					column: warning.start ? warning.start.column + 1 : null,
					frame: warning.frame ?? null,
					lineText: line ? (code.split('\n')[line - 1] ?? '') : ''
				});
			const onwarn = this.compiler.config.onwarn;
			if (typeof onwarn === 'function') onwarn(warning, report);
			else report();
		}
	}

	/** The warnings kept since the last call. */
	takeWarnings() {
		return this.warnings.splice(0);
	}

	/** A rune module: `$state` and friends outside components, shared by importers. */
	async compileModule(source, target, filename) {
		const code = await readFile(source, 'utf8');
		let js;
		try {
			const result = await compileRuneModule(this.compiler, code, { file: source, filename, generate: this.generate }, (ts) => stripTypes(ts, filename));
			this.warn(result.warnings, source, code);
			js = result.js;
		} catch (e) {
			if (e.errors?.[0]?.location) {
				const { location, text } = e.errors[0];
				return { message: text, code: 'typescript', file: path.relative(this.root, source), line: location.line, column: location.column + 1, frame: null, lineText: location.lineText };
			}
			return compileError(e, path.relative(this.root, source), code);
		}
		await writeFile(target, js);
		return null;
	}
}

/** TypeScript to JavaScript, types only (esbuild's transform). */
export async function stripTypes(code, sourcefile) {
	return (await transform(code, { loader: 'ts', sourcefile, target: 'es2022' })).code;
}

/** A module that throws `error` when evaluated (marked for Fymo: `CompileError: file:line:column: …`). */
function stub(error) {
	const message = `${error.file}:${error.line}:${error.column}: ${error.message}`;
	return `const error = new Error(${JSON.stringify(message)});\nerror.name = 'CompileError';\nthrow error;\n`;
}

function compileError(e, file, source) {
	const line = e.start?.line ?? 1;
	return {
		message: e.message.split('\n')[0],
		code: e.code ?? null,
		file,
		line,
		// Svelte counts columns from 0; editors and file:line:column from 1.
		column: (e.start?.column ?? 0) + 1,
		frame: e.frame ?? null,
		lineText: source.split('\n')[line - 1] ?? ''
	};
}
