// `Intl.Collator` and `String.prototype.localeCompare` for an engine without ICU (QuickJS),
// installed by node-tools/intl.mjs beside FormatJS's polyfills (FormatJS has no Collator).
// It follows the shape of ICU's root collation, which is what most locales use: strings
// compare by their letters first (spaces < punctuation and symbols < digits < letters, letters
// alphabetically, whatever their case or accents), then by accents, then by case (lower
// first); `numeric` compares runs of digits as numbers, `ignorePunctuation` skips spaces and
// punctuation. Not covered: locale tailorings (Swedish å ä ö after z, German phonebook),
// and the orders of scripts other than Latin and of symbols beyond Latin-1, which fall back to
// code points.

const WHITESPACE = /\s/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const DIGIT = /\p{Nd}/u;
const MARK = /\p{M}/u;
const PUNCTUATION = /\p{P}/u;
/** Punctuation and symbols in ICU's order; others follow, by code point. */
const SYMBOLS = "_-\u2013\u2014,;:!\u00a1?\u00bf.\u2026\u00b7'\u2019\"\u201c\u00ab\u00bb()[]{}\u00a7\u00b6@*/\\&#%`^\u00b0\u00a9\u00ae+\u00b1\u00f7\u00d7<=>|~$\u00a3\u00a5\u20ac";
/** Accents in ICU's order (acute before grave before circumflex...); others follow. */
const MARKS = '\u0332\u0313\u0314\u0301\u0300\u0306\u0302\u030c\u030a\u0342\u0308\u0344\u030b\u0303\u0307\u0338\u0327\u0328\u0304';
/** Letters ICU sorts as others with an accent (ß as ss, ø as o with a stroke). */
const VARIANTS = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ł: 'l', ħ: 'h', ŧ: 't' };
const VARIANT_MARK = '\u0338';

/** A character's key in the order of `list`, or after the whole list by code point. */
const keyIn = (list, c) => {
	const i = list.indexOf(c);
	return String.fromCodePoint(i >= 0 ? 0x20 + i : 0x1000 + c.codePointAt(0));
};

/** One collation element per base character: its class and primary, accent and case keys. */
function elements(text, { numeric, ignorePunctuation }) {
	const out = [];
	const chars = [...text.normalize('NFD')];
	for (let i = 0; i < chars.length; i++) {
		const c = chars[i];
		if (MARK.test(c)) {
			// An accent belongs to the element before it.
			if (out.length) out[out.length - 1].accents += keyIn(MARKS, c);
			continue;
		}
		if (numeric && DIGIT.test(c)) {
			let run = c;
			while (i + 1 < chars.length && DIGIT.test(chars[i + 1])) run += chars[++i];
			const digits = run.replace(/^0+(?=.)/, '');
			// Longer numbers are larger: the length first, then the digits.
			out.push({ rank: 2, primary: `${String.fromCodePoint(0x100 + digits.length)}${digits}`, accents: '', upper: false });
			continue;
		}
		const word = LETTER_OR_DIGIT.test(c);
		// As ICU's `alternate: shifted`: spaces and punctuation, not symbols ($, +).
		if (ignorePunctuation && (WHITESPACE.test(c) || PUNCTUATION.test(c))) continue;
		const lower = c.toLowerCase();
		const upper = lower !== c;
		if (!word) {
			out.push({ rank: WHITESPACE.test(c) ? 0 : 1, primary: keyIn(SYMBOLS, c), accents: '', upper });
			continue;
		}
		const variant = VARIANTS[lower];
		if (variant) {
			[...variant].forEach((v, j) => out.push({ rank: 3, primary: v, accents: j ? '' : keyIn(MARKS, VARIANT_MARK), upper }));
			continue;
		}
		out.push({ rank: DIGIT.test(c) ? 2 : 3, primary: lower, accents: '', upper });
	}
	return out;
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two element lists level by level, up to `levels` (1: letters, 2: accents, 3: case). */
function compareElements(a, b, { levels, caseLevel, upperFirst }) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) {
		const d = cmp(a[i].rank, b[i].rank) || cmp(a[i].primary, b[i].primary);
		if (d) return d;
	}
	if (a.length !== b.length) return cmp(a.length, b.length);
	if (levels >= 2) {
		for (let i = 0; i < n; i++) {
			const d = cmp(a[i].accents, b[i].accents);
			if (d) return d;
		}
	}
	if (levels >= 3 || caseLevel) {
		for (let i = 0; i < n; i++) {
			const d = cmp(a[i].upper, b[i].upper);
			if (d) return upperFirst ? -d : d;
		}
	}
	return 0;
}

const SENSITIVITIES = ['base', 'accent', 'case', 'variant'];

class Collator {
	#options;

	constructor(locales, options = {}) {
		const requested = locales === undefined ? [] : Intl.getCanonicalLocales(locales);
		const sensitivity = options.sensitivity ?? 'variant';
		if (!SENSITIVITIES.includes(sensitivity)) throw new RangeError(`Value ${sensitivity} out of range for Intl.Collator options property sensitivity`);
		this.#options = {
			locale: requested[0] ?? new Intl.NumberFormat().resolvedOptions().locale,
			usage: options.usage ?? 'sort',
			sensitivity,
			ignorePunctuation: Boolean(options.ignorePunctuation),
			collation: 'default',
			numeric: Boolean(options.numeric),
			caseFirst: options.caseFirst ?? 'false'
		};
		this.compare = this.compare.bind(this);
	}

	compare(x, y) {
		const o = this.#options;
		const levels = { base: 1, accent: 2, case: 1, variant: 3 }[o.sensitivity];
		const rules = { levels, caseLevel: o.sensitivity === 'case', upperFirst: o.caseFirst === 'upper' };
		return compareElements(elements(String(x), o), elements(String(y), o), rules);
	}

	resolvedOptions() {
		return { ...this.#options };
	}

	static supportedLocalesOf(locales) {
		return Intl.getCanonicalLocales(locales);
	}
}

Object.defineProperty(Collator.prototype, Symbol.toStringTag, { value: 'Intl.Collator', configurable: true });

if (typeof Intl.Collator === 'undefined') {
	Object.defineProperty(Intl, 'Collator', { value: Collator, writable: true, configurable: true });
	Object.defineProperty(String.prototype, 'localeCompare', {
		value(that, locales, options) {
			return new Collator(locales, options).compare(String(this), String(that));
		},
		writable: true,
		configurable: true
	});
}
