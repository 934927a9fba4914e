// A rune module in TypeScript.
export interface Item {
	name: string;
	price: number;
}

export class Cart {
	items: Item[] = $state([]);
	total: number = $derived(this.items.reduce((sum: number, i: Item) => sum + i.price, 0));

	add(item: Item): void {
		this.items.push(item);
	}
}
