// Whether the shop applied the promo on each visit that should get it: the promo
// scenario's own result, beside response times and errors.
import { Rate } from 'k6/metrics';
import type { PromoType } from './tags.ts';

/** Share of visits where the shop applied the promo: the striked price on the product page, the discount in the cart. */
export const promoAppliedRate = new Rate('promo_applied_rate');

/** Records one visit: was the promo applied? Returns the answer. */
export function recordPromoApplied(applied: boolean): boolean {
  promoAppliedRate.add(applied);
  return applied;
}

/**
 * A promo that does not apply is a broken promo, however fast the pages: at least 95 % of
 * visits must get it (a few may fail under load, and the errors say so). None without a promo.
 */
export function promoThresholds(promoType: PromoType | string | undefined): Record<string, string[]> {
  return promoType && promoType !== 'none' ? { promo_applied_rate: ['rate>0.95'] } : {};
}
