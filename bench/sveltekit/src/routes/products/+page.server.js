// The same props as the demo's Rust controller `products.index` (controllers/products.rs).
const TAGS = ['new', 'sale', 'eco', 'gift'];
const product = (id) => ({
	id,
	name: `Product ${id}`,
	price: (id % 200) * 1.25 + 0.99,
	tags: TAGS.slice(0, id % 3),
	description: `Product ${id} is a fine <thing> & worth every cent.`
});

export function load({ url }) {
	const n = Math.min(Number(url.searchParams.get('n') ?? 10), 10000);
	return { products: Array.from({ length: n }, (_, i) => product(i + 1)), total: n };
}
