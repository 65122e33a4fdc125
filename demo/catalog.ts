/**
 * The shop's fixed, deterministic catalogue. Prices are integer cents so that
 * cart totals and discounts compare exactly in tests and k6 checks.
 *
 * Striked prices: every ODD product id (1, 3, …, 49) has a striked price; its
 * promo price is the regular price × 0.77 rounded down to whole units
 * (product 1: 129.00 → 99.00). Even ids sell at their regular price.
 */

export const PRODUCT_COUNT = 50;
export const CATEGORY_SLUGS = ['shoes', 'electronics', 'books', 'kitchen'] as const;
export type CategorySlug = (typeof CATEGORY_SLUGS)[number];

export interface Product {
  id: number;
  /** Stock-keeping unit, as shops print it and put in schema.org's `sku`. */
  sku: string;
  name: string;
  category: CategorySlug;
  regularCents: number;
  /** Present only for products with a striked price. */
  promoCents?: number;
}

export const CATEGORY_NAMES: Record<CategorySlug, string> = {
  shoes: 'Shoes',
  electronics: 'Electronics',
  books: 'Books',
  kitchen: 'Kitchen',
};

const NOUNS: Record<CategorySlug, string> = {
  shoes: 'Sneaker',
  electronics: 'Headphones',
  books: 'Novel',
  kitchen: 'Pan',
};

function buildProduct(id: number): Product {
  const category = CATEGORY_SLUGS[(id - 1) % CATEGORY_SLUGS.length];
  // Spreads prices over 20.00–199.00 while pinning product 1 at 129.00.
  const regularUnits = 20 + ((id * 109) % 180);
  const sku = `DS-${String(id).padStart(4, '0')}`;
  const product: Product = { id, sku, name: `${NOUNS[category]} No. ${id}`, category, regularCents: regularUnits * 100 };
  if (id % 2 === 1) product.promoCents = Math.floor(regularUnits * 0.77) * 100;
  return product;
}

const PRODUCTS: readonly Product[] = Array.from({ length: PRODUCT_COUNT }, (_, index) => buildProduct(index + 1));

export function findProduct(id: number): Product | undefined {
  return Number.isInteger(id) && id >= 1 && id <= PRODUCT_COUNT ? PRODUCTS[id - 1] : undefined;
}

export function isCategorySlug(slug: string): slug is CategorySlug {
  return (CATEGORY_SLUGS as readonly string[]).includes(slug);
}

export function productsIn(category: CategorySlug): Product[] {
  return PRODUCTS.filter((product) => product.category === category);
}

export function allProducts(): readonly Product[] {
  return PRODUCTS;
}

export function effectivePriceCents(product: Product): number {
  return product.promoCents ?? product.regularCents;
}

export function formatCents(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** Whole percent off a striked price, as the page's badge shows it: 129.00 → 99.00 is 23. */
export function percentOff(product: Product): number {
  return product.promoCents === undefined ? 0 : Math.round((100 * (product.regularCents - product.promoCents)) / product.regularCents);
}
