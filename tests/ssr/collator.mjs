#!/usr/bin/env node
// js/shims/intl-collator.js (QuickJS's Intl.Collator) against Node's ICU: every pair of a
// word list and of seeded random strings compares the same way, under each option.
//
// usage: node tests/ssr/collator.mjs   (exit 1 and the pairs that differ when any does)
const Icu = Intl.Collator;
delete Intl.Collator;
await import('../../js/shims/intl-collator.js');
const Shim = Intl.Collator;
Intl.Collator = Icu;

const words = ['résumé', 'resume', 'Resume', 'co-op', 'coop', 'co op', 'Côte', 'cote', 'côte', 'coté', 'a', 'A', 'á', 'b',
	'_x', 'x', '1', '10', '9', '!a', 'a!', 'Z', 'z', 'ß', 'ss', 'straße', 'strasse', 'naïve', 'naive', '#tag', 'tag', '@me',
	'ÿ', 'y', 'Ø', 'o', 'œ', 'oe', 'æ', 'ae', 'ñ', 'n', 'Äpfel', 'apfel', 'élan', 'elan', '10 a', '9 a', 'a10', 'a9', 'x-ray',
	'xray', 'x ray', 'Łódź', 'lodz', '€5', '$5', '(a)', '[a]', 'a.b', 'a,b'];
// Two alphabets: one where strings differ in their letters, one where they mostly differ
// only in accents and case.
const alphabets = [[...'aAbBeEéÉèzZ  -_.,!#@0129ßæøœçÇñ'], [...'eéèêëēEÉÈoôöøŌ'], [...'aàáâäåãāAÅ-']];
let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const randomString = (alphabet) => Array.from({ length: 1 + Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
const pairs = [
	...words.flatMap((x) => words.map((y) => [x, y])),
	...alphabets.flatMap((a) => Array.from({ length: 10000 }, () => [randomString(a), randomString(a)]))
];

const OPTIONS = [{}, { numeric: true }, { sensitivity: 'base' }, { sensitivity: 'accent' }, { sensitivity: 'case' }, { caseFirst: 'upper' }, { ignorePunctuation: true }];
let differ = 0;
for (const locale of ['en', 'fr']) {
	for (const options of OPTIONS) {
		const icu = new Icu(locale, options);
		const shim = new Shim(locale, options);
		for (const [x, y] of pairs) {
			const [want, got] = [Math.sign(icu.compare(x, y)), Math.sign(shim.compare(x, y))];
			if (want !== got && differ++ < 20) console.log(`${locale} ${JSON.stringify(options)}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}: ICU ${want}, shim ${got}`);
		}
	}
}
console.log(`${differ} of ${pairs.length * OPTIONS.length * 2} comparisons differ`);
process.exit(differ ? 1 : 0);
