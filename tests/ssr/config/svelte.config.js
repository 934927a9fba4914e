// The config suite of the differential test: compiler options from svelte.config.js reach
// the server build (and the client build, checked in tests/fidelity.rs).
export default {
	compilerOptions: {
		css: 'injected',
		cssHash: ({ hash, css, name }) => `fy-${name.toLowerCase()}-${hash(css)}`,
		preserveWhitespace: true,
		runes: true
	}
};
