// esbuild plugin: compiles .svelte files with Svelte's compiler, for the server or the browser.
// Component CSS becomes a virtual `.css` import so esbuild bundles it per entry.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compile } from 'svelte/compiler';

const CSS_NS = 'fymo-svelte-css';

/**
 * @param {{ generate: 'server' | 'client', filenameOf: (abs: string) => string, cache?: Map<string, any> }} options
 *   `filenameOf` maps an absolute path to the stable name passed to the compiler; the
 *   scoped-CSS hash derives from it, so it must not depend on where the app lives.
 *   `cache` keeps compile results by path across rebuilds; an unchanged source is not
 *   compiled again.
 */
export function sveltePlugin({ generate, filenameOf, cache = new Map() }) {
	const styles = new Map();
	return {
		name: 'fymo-svelte',
		setup(build) {
			build.onLoad({ filter: /\.svelte$/ }, async (args) => {
				const source = await readFile(args.path, 'utf8');
				const filename = filenameOf(args.path);
				let result = cache.get(args.path);
				if (result?.source !== source) {
					try {
						result = compile(source, { filename, generate, css: 'external', dev: false });
					} catch (e) {
						cache.delete(args.path);
						return { errors: [compileError(e, args.path, source)] };
					}
					result.source = source;
					cache.set(args.path, result);
				}
				let code = result.js.code;
				if (generate === 'client' && result.css?.code) {
					const id = `${args.path}.css`;
					styles.set(id, result.css.code);
					code += `\nimport ${JSON.stringify(id)};`;
				}
				return {
					contents: code,
					loader: 'js',
					resolveDir: path.dirname(args.path),
					warnings: result.warnings.map((w) => warning(w, args.path))
				};
			});
			build.onResolve({ filter: /\.svelte\.css$/ }, (args) => ({ path: args.path, namespace: CSS_NS }));
			build.onLoad({ filter: /.*/, namespace: CSS_NS }, (args) => ({
				contents: styles.get(args.path) ?? '',
				loader: 'css'
			}));
		}
	};
}

function compileError(e, file, source) {
	const line = e.start?.line ?? 1;
	// Svelte counts columns from 0; editors and file:line:column from 1.
	const column = (e.start?.column ?? 0) + 1;
	return {
		text: e.message.split('\n')[0],
		detail: { code: e.code, frame: e.frame },
		location: { file, line, column, lineText: source.split('\n')[line - 1] ?? '' }
	};
}

function warning(w, file) {
	return {
		text: `${w.code}: ${w.message.split('\n')[0]}`,
		location: w.start ? { file, line: w.start.line, column: w.start.column } : null
	};
}
