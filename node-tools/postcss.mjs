// PostCSS for the app's stylesheets, as Vite runs it: when the app has a PostCSS config
// (postcss.config.js and the other names postcss-load-config finds), every .css file
// under templates/ goes through its plugins — Tailwind CSS v4 (`@tailwindcss/postcss`
// and `@import "tailwindcss"`, its own PostCSS guide), autoprefixer, and so on. `postcss`
// and the plugins come from the app, which installed them. (`<style>` blocks go through
// svelte.config.js's `preprocess`: vitePreprocess() applies the same config to them.)
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postcssrc from 'postcss-load-config';

/**
 * The app's PostCSS, or null when it has no config.
 * @param {string} root the app
 * @returns {Promise<{ key: string, process: (css: string, from: string) => Promise<string> } | null>}
 *   `key` changes whenever the config file does.
 */
export async function loadPostcss(root) {
	let config;
	try {
		config = await postcssrc({ cwd: root, env: 'production' }, root);
	} catch (e) {
		if (/No PostCSS Config found/.test(e.message)) return null;
		throw Object.assign(new Error(`PostCSS config: ${e.message}`), { code: 'postcss_config' });
	}
	let postcss;
	try {
		postcss = (await import(pathToFileURL(createRequire(path.join(root, 'noop.js')).resolve('postcss')).href)).default;
	} catch {
		throw Object.assign(new Error(`${path.relative(root, config.file)} needs postcss: npm install postcss`), {
			code: 'postcss_missing',
			file: config.file
		});
	}
	const info = await stat(config.file);
	const processor = postcss(config.plugins);
	return {
		key: `${config.file}:${info.mtimeMs}:${info.size}`,
		async process(css, from) {
			return (await processor.process(css, { ...config.options, from, to: from, map: false })).css;
		}
	};
}
