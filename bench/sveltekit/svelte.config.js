import adapter from '@sveltejs/adapter-node';

export default {
	compilerOptions: {
		// The scoped-CSS class hash from the path under templates/, as Fymo compiles it,
		// so the page's markup is byte-for-byte the same.
		cssHash: ({ hash, filename }) => 'svelte-' + hash(filename.replace(/\\/g, '/').replace(/^.*\/?src\/lib\/templates\//, ''))
	},
	kit: { adapter: adapter() }
};
