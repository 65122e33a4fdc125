import { effectivePriceCents, findProduct } from './catalog.ts';

export interface CartRules {
  /** auto_cart: this percentage comes off once the subtotal reaches the threshold. */
  autoCartThresholdCents: number;
  autoCartPercent: number;
  /** manual_code: the code users type at the cart (compared case-insensitively). */
  promoCode: string;
  promoCodePercent: number;
}

export const DEFAULT_CART_RULES: CartRules = {
  autoCartThresholdCents: 100_00,
  autoCartPercent: 10,
  promoCode: 'BLACKFRIDAY',
  promoCodePercent: 20,
};

/** A single line may not exceed this quantity; further adds are capped, not refused, so long k6 runs keep passing. */
export const MAX_LINE_QTY = 99;

export interface Cart {
  /** productId → quantity, in the order products were first added. */
  lines: Map<number, number>;
  /** The promo code applied to this cart, as the rules spell it; undefined when none. */
  code: string | undefined;
}

export interface CartDiscount {
  type: 'auto_cart' | 'manual_code';
  name: string;
  amount: number;
}

export interface CartView {
  items: Array<{ productId: number; name: string; qty: number; unitPrice: number; lineTotal: number }>;
  subtotal: number;
  discounts: CartDiscount[];
  total: number;
}

export function emptyCart(): Cart {
  return { lines: new Map(), code: undefined };
}

export function addToCart(cart: Cart, productId: number, qty: number): void {
  cart.lines.set(productId, Math.min(MAX_LINE_QTY, (cart.lines.get(productId) ?? 0) + qty));
}

export const BAD_CODE_MESSAGE = 'This promo code does not exist or has expired.';

export function promoCodeMatches(code: string, rules: CartRules): boolean {
  return code.trim().toUpperCase() === rules.promoCode.toUpperCase();
}

const euros = (cents: number): number => cents / 100;

/**
 * Both percentages apply to the subtotal (they do not compound), each rounded
 * to the cent, so e.g. a 198.00 subtotal gives 19.80 + 39.60 off = 138.60.
 */
export function priceCart(cart: Cart, rules: CartRules): CartView {
  const items: CartView['items'] = [];
  let subtotalCents = 0;
  for (const [productId, qty] of cart.lines) {
    const product = findProduct(productId);
    if (!product) continue;
    const unitCents = effectivePriceCents(product);
    subtotalCents += unitCents * qty;
    items.push({ productId, name: product.name, qty, unitPrice: euros(unitCents), lineTotal: euros(unitCents * qty) });
  }
  const discounts: CartDiscount[] = [];
  let discountCents = 0;
  if (subtotalCents >= rules.autoCartThresholdCents && subtotalCents > 0) {
    const amount = Math.round((subtotalCents * rules.autoCartPercent) / 100);
    discountCents += amount;
    const name = `${rules.autoCartPercent}% off from ${euros(rules.autoCartThresholdCents).toFixed(2)}`;
    discounts.push({ type: 'auto_cart', name, amount: euros(amount) });
  }
  if (cart.code !== undefined) {
    const amount = Math.round((subtotalCents * rules.promoCodePercent) / 100);
    discountCents += amount;
    discounts.push({ type: 'manual_code', name: cart.code, amount: euros(amount) });
  }
  return { items, subtotal: euros(subtotalCents), discounts, total: euros(subtotalCents - discountCents) };
}

/** What GET /__admin/carts returns: the shop's own record of what visitors put in their carts. */
export interface CartsReport {
  /** Carts held now (one per session that wrote to its cart). */
  carts: number;
  withLines: number;
  withCode: number;
  withLinesAndCode: number;
  /** Carts by applied code. */
  codes: Record<string, number>;
  /** Lines and units over every cart. */
  lines: number;
  units: number;
  /** Carts forgotten because maxCarts was reached, since the start or the last reset: a report is complete only when this is 0. */
  evicted: number;
}

export function reportCarts(carts: Iterable<Cart>, evicted: number): CartsReport {
  const report: CartsReport = { carts: 0, withLines: 0, withCode: 0, withLinesAndCode: 0, codes: {}, lines: 0, units: 0, evicted };
  for (const cart of carts) {
    report.carts++;
    const hasLines = cart.lines.size > 0;
    if (hasLines) report.withLines++;
    if (cart.code !== undefined) {
      report.withCode++;
      report.codes[cart.code] = (report.codes[cart.code] ?? 0) + 1;
      if (hasLines) report.withLinesAndCode++;
    }
    report.lines += cart.lines.size;
    for (const qty of cart.lines.values()) report.units += qty;
  }
  return report;
}
