import type { FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import type { CapacitySettings } from './capacity.ts';
import { DEFAULT_CART_RULES } from './cart.ts';
import type { NumberRule } from './validate.ts';

export interface DemoOptions {
  /** Origin slots. Default 256. */
  concurrency?: number;
  /** Time each origin request holds a slot. Default 2 ms. */
  serviceTimeMs?: number;
  /** Bound of the FIFO queue in front of the slots. Default 10000. */
  maxQueue?: number;
  /** Longest wait for a slot before 503. Default 10000 ms. */
  queueTimeoutMs?: number;
  /** Page cache max-age in seconds; 0 disables the cache. Default 60. */
  cacheTtlS?: number;
  /** Page cache stale-while-revalidate window in seconds. Default 30. */
  cacheSwrS?: number;
  /** Bound of cached pages (distinct path+query keys). Default 5000. */
  maxCacheEntries?: number;
  /** Bound of carts kept in memory; least recently used go first. Default 10000. */
  maxCarts?: number;
  /** The manual_code promo code, matched case-insensitively. Default BLACKFRIDAY. */
  promoCode?: string;
  /** When set, /__admin/* needs `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /** Clock for cache ages, in ms; injectable so tests need not wait out a ttl. Default Date.now. */
  now?: () => number;
  /** Where /metrics lives. Default: a new Registry per app. */
  registry?: Registry;
  /** Fastify's logger option. Default false: per-request logs would dominate a load test. */
  logger?: FastifyServerOptions['logger'];
}

/** Thrown for an option out of range; its message is one sentence fit for stderr. */
export class DemoOptionsError extends RangeError {}

export const CAPACITY_RULES: Record<keyof CapacitySettings, NumberRule> = {
  concurrency: { min: 1, max: 100_000, integer: true },
  serviceTimeMs: { min: 0, max: 60_000 },
  maxQueue: { min: 0, max: 1_000_000, integer: true },
  queueTimeoutMs: { min: 1, max: 600_000 },
};
const SECONDS: NumberRule = { min: 0, max: 86_400, integer: true };
const BOUND: NumberRule = { min: 1, max: 1_000_000, integer: true };

function checked(options: DemoOptions, name: keyof DemoOptions, fallback: number, rule: NumberRule): number {
  const value = options[name];
  if (value === undefined) return fallback;
  const kind = rule.integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !(value >= rule.min && value <= rule.max) || (rule.integer && !Number.isInteger(value))) {
    throw new DemoOptionsError(`${name} must be ${kind} from ${rule.min} to ${rule.max}, got ${String(value)}.`);
  }
  return value;
}

export function resolveDemoOptions(options: DemoOptions) {
  const promoCode = options.promoCode ?? DEFAULT_CART_RULES.promoCode;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(promoCode)) throw new DemoOptionsError('promoCode must be 1 to 32 letters, digits, "_" or "-".');
  if (options.adminToken === '') throw new DemoOptionsError('adminToken must not be empty when given.');
  return {
    capacity: {
      concurrency: checked(options, 'concurrency', 256, CAPACITY_RULES.concurrency),
      serviceTimeMs: checked(options, 'serviceTimeMs', 2, CAPACITY_RULES.serviceTimeMs),
      maxQueue: checked(options, 'maxQueue', 10_000, CAPACITY_RULES.maxQueue),
      queueTimeoutMs: checked(options, 'queueTimeoutMs', 10_000, CAPACITY_RULES.queueTimeoutMs),
    },
    cacheTtlS: checked(options, 'cacheTtlS', 60, SECONDS),
    cacheSwrS: checked(options, 'cacheSwrS', 30, SECONDS),
    maxCacheEntries: checked(options, 'maxCacheEntries', 5_000, BOUND),
    maxCarts: checked(options, 'maxCarts', 10_000, BOUND),
    cartRules: { ...DEFAULT_CART_RULES, promoCode: promoCode.toUpperCase() },
    adminToken: options.adminToken,
    now: options.now ?? Date.now,
    logger: options.logger ?? false,
  };
}
