// The esbuild plugin for what the compile mirrors do not hold: Svelte files of packages.
// As vite-plugin-svelte does, every `.svelte`, `.svelte.js` and `.svelte.ts` that a bundle
// reaches (node_modules included) is compiled, with the app's compiler options and
// preprocessors; a component's CSS becomes a CSS module beside it (in the browser).
// And one Svelte: every `svelte` and `svelte/...` import, wherever it comes from, resolves
// to the one copy the app is built with (svelte-compiler.mjs).
//
// Files of the compile mirror (.fymo/cache/) are compiled already and pass through.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isRuneModule } from './svelte-config.mjs';
import { compileComponent, compileRuneModule } from './svelte-compiler.mjs';
import { stripTypes } from './mirror.mjs';

const CSS_NAMESPACE = 'fymo-svelte-css';

/** Part of every package-cache key: bumped whenever what a cached entry holds changes,
 * so an upgraded Fymo never reads an older one. */
const CACHE_FORMAT = 'fymo-package-cache-2';

/**
 * @param {{ generate: 'server' | 'client', root: string, cacheDir: string, packageCache: string,
 *           compiler: () => import('./svelte-compiler.mjs').Compiler }} options
 *   `compiler()` is read on every load, so a new svelte.config.js applies on the next build.
 *   `packageCache`: a folder that keeps compiled package files between builds (an icon
 *   set is thousands of components; compiling them is most of a first build).
 */
export function sveltePlugin({ generate, root, cacheDir, packageCache, compiler }) {
	const compiled = new Map(); // file -> { stamp, result }
	const styles = new Map(); // virtual CSS path -> CSS of a package's component
	const inMirror = (file) => file.startsWith(cacheDir + path.sep);
	return {
		name: 'fymo-svelte',
		setup(build) {
			build.onResolve({ filter: /^svelte(\/|$)/ }, (args) => {
				if (args.pluginData?.fymoSvelte) return undefined;
				const { resolveDir } = compiler().svelte;
				return build.resolve(args.path, { kind: args.kind, resolveDir, pluginData: { fymoSvelte: true } });
			});

			const load = async (file, compile) => {
				const info = await stat(file);
				const { svelte, config } = compiler();
				const stamp = `${CACHE_FORMAT}:${info.mtimeMs}:${info.size}:${svelte.dir}:${svelte.version}:${config.key}`;
				const hit = compiled.get(file);
				if (hit?.stamp === stamp) return hit.result;
				const cached = path.join(packageCache, generate, createHash('sha256').update(`${file}\n${stamp}`).digest('hex').slice(0, 32) + '.json');
				let result = await readFile(cached, 'utf8').then(JSON.parse, () => null);
				if (!result) {
					const code = await readFile(file, 'utf8');
					// Relative to the app and `/`-separated, as for templates: the scoped-CSS hash
					// derives from it, and must not depend on where the app is checked out.
					const filename = path.relative(root, file).split(path.sep).join('/');
					try {
						result = await compile(code, { file, filename, generate });
						await writeAtomically(cached, JSON.stringify(result));
					} catch (e) {
						result = { load: { errors: [packageError(e, file, code)] } };
					}
				}
				if (result.css) styles.set(result.css.path, result.css.code);
				compiled.set(file, { stamp, result: result.load });
				return result.load;
			};

			build.onLoad({ filter: /\.svelte$/ }, async (args) => {
				if (inMirror(args.path)) return undefined;
				return load(args.path, async (code, where) => {
					const { js, css } = await compileComponent(compiler(), code, where);
					const resolveDir = path.dirname(args.path);
					if (generate !== 'client' || !css) return { load: { contents: js, loader: 'js', resolveDir } };
					const virtual = `${args.path}.css`;
					const contents = `${js}\nimport ${JSON.stringify(virtual)};`;
					return { load: { contents, loader: 'js', resolveDir }, css: { path: virtual, code: css } };
				});
			});

			build.onLoad({ filter: /\.svelte\.(js|ts|mjs|mts)$/ }, async (args) => {
				if (inMirror(args.path) || !isRuneModule(args.path)) return undefined;
				return load(args.path, async (code, where) => {
					const { js } = await compileRuneModule(compiler(), code, where, (ts) => stripTypes(ts, where.filename));
					return { load: { contents: js, loader: 'js', resolveDir: path.dirname(args.path) } };
				});
			});

			build.onResolve({ filter: /\.svelte\.css$/ }, (args) =>
				styles.has(args.path) ? { path: args.path, namespace: CSS_NAMESPACE } : undefined
			);
			build.onLoad({ filter: /.*/, namespace: CSS_NAMESPACE }, (args) => ({
				contents: styles.get(args.path),
				loader: 'css',
				resolveDir: path.dirname(args.path)
			}));
		}
	};
}

/** Written whole or not at all: builds running side by side may share the cache. */
async function writeAtomically(file, text) {
	await mkdir(path.dirname(file), { recursive: true });
	const partial = `${file}.${process.pid}.tmp`;
	await writeFile(partial, text);
	await rename(partial, file);
}

/**
 * One line a user can act on: the error, where it is, and that it is the package's
 * (nobody can fix a file in node_modules; a newer version, or an issue upstream, can).
 */
function packageError(e, file, code) {
	const line = e.start?.line ?? 1;
	const pkg = packageOf(file);
	const where = pkg ? ` (in the package ${pkg}: not a file of this app; try another version of it)` : '';
	return {
		text: `${e.message.split('\n')[0]}${where}`,
		detail: { code: e.code ?? 'svelte_package', frame: e.frame ?? null },
		location: { file, line, column: e.start?.column ?? 0, lineText: code.split('\n')[line - 1] ?? '' }
	};
}

/** `node_modules/@scope/name/...` -> `@scope/name`; null outside node_modules. */
export function packageOf(file) {
	const parts = file.split(path.sep);
	const at = parts.lastIndexOf('node_modules');
	if (at < 0) return null;
	return parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
}
