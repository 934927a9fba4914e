// A rune module: state shared outside components.
export function createCounter(start) {
	let count = $state(start);
	let double = $derived(count * 2);
	return {
		get count() {
			return count;
		},
		get double() {
			return double;
		},
		increment() {
			count += 1;
		}
	};
}

export const shared = $state({ visits: 0, label: 'shared state' });
