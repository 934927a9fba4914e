// `Intl` for an engine that has none (QuickJS). When the server bundle names `Intl`, FormatJS's
// polyfills (ECMA-402 on CLDR data, what most browsers without full ICU were given) go in front
// of it with the data of the app's locales (`intl.locales` in fymo.yml; `en` always), all time
// zones, and js/shims/intl-collator.js (FormatJS has no Collator). The prelude is guarded: an
// engine with its own `Intl` (V8 with ICU, as Node) runs none of it.
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const formatjs = path.join(here, 'node_modules', '@formatjs');

/** In the order they install: each builds on those before it. `data`: has per-locale data. */
const POLYFILLS = [
	{ name: 'intl-getcanonicallocales', data: false },
	{ name: 'intl-locale', data: false },
	{ name: 'intl-pluralrules', data: true },
	{ name: 'intl-numberformat', data: true },
	{ name: 'intl-datetimeformat', data: true, extra: ['add-all-tz.js'] },
	{ name: 'intl-relativetimeformat', data: true },
	{ name: 'intl-listformat', data: true },
	{ name: 'intl-displaynames', data: true },
	{ name: 'intl-segmenter', data: false }
];

/**
 * FormatJS builds a locale's formatting data on its first use: about a second per engine
 * instance on QuickJS (debug build), which a visitor's render would pay under its deadline.
 * The prelude pays it as the instance loads instead.
 */
const WARM_UP = `(locales) => {
	for (const l of locales) {
		new Intl.DateTimeFormat(l, { timeZone: 'UTC' }).format(0);
		new Intl.NumberFormat(l).format(1);
		new Intl.PluralRules(l).select(1);
		[...new Intl.Segmenter(l, { granularity: 'word' }).segment('a b')];
	}
}`;

/** A bundle that names `Intl` (a word on its own, not `IntlMessageFormat`). */
const usesIntl = (code) => /(?<![\w$])Intl(?![\w$])/.test(code);

export class IntlPrelude {
	/**
	 * @param {{ jsDir: string, locales: string[] }} options `locales`: whose data QuickJS gets
	 */
	constructor({ jsDir, locales }) {
		this.jsDir = jsDir;
		this.locales = [...new Set(['en', ...locales])];
		this.code = null;
	}

	/** Puts the prelude in front of `file` (ssr.js) when it names `Intl`; returns the file's hash. */
	async apply(file) {
		let code = await readFile(file, 'utf8');
		if (usesIntl(code)) {
			code = `${await this.prelude()}\n${code}`;
			await writeFile(file, code);
		}
		return createHash('sha256').update(code).digest('hex').slice(0, 16);
	}

	/** Built once per process (a few hundred ms), the same for every build after. */
	async prelude() {
		if (this.code) return this.code;
		const missing = this.locales.filter((l) => !existsSync(path.join(formatjs, 'intl-numberformat', 'locale-data', `${l}.js`)));
		if (missing.length) {
			throw new Error(`intl.locales: no locale data for ${missing.join(', ')} (names as in CLDR: en, fr, de-CH, pt-BR, zh-Hant)`);
		}
		const imports = POLYFILLS.flatMap(({ name, data, extra = [] }) => [
			`${name}/polyfill.js`,
			...(data ? this.locales.map((l) => `${name}/locale-data/${l}.js`) : []),
			...extra.map((e) => `${name}/${e}`)
		]);
		const contents = [...imports.map((i) => `import '@formatjs/${i}';`), `import ${JSON.stringify(path.join(this.jsDir, 'shims', 'intl-collator.js'))};`].join('\n');
		const result = await esbuild.build({
			stdin: { contents, resolveDir: here, sourcefile: 'fymo-intl.js' },
			bundle: true,
			write: false,
			format: 'iife',
			platform: 'neutral',
			target: 'es2022',
			minify: true,
			legalComments: 'none',
			logLevel: 'silent'
		});
		this.code = `if (typeof Intl === 'undefined') {\n${result.outputFiles[0].text}(${WARM_UP})(${JSON.stringify(this.locales)});\n}`;
		return this.code;
	}
}
