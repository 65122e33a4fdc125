// Reading k6's __ENV with validation. An invalid value stops the test in the
// init context with one sentence naming the variable and what it accepts.

export type Env = Record<string, string | undefined>;

/** k6's __ENV inside k6; an empty object elsewhere (unit tests pass their own). */
export function k6Env(): Env {
  return typeof __ENV === 'undefined' ? {} : (__ENV as Env);
}

export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = present(env, name);
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new EnvError(`${name} must be one of ${allowed.join(', ')}, not "${value}".`);
}

export function positiveInt(env: Env, name: string, fallback: number): number {
  const value = present(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    throw new EnvError(`${name} must be a whole number of at least 1, not "${value}".`);
  }
  return Number(value);
}

export function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const value = present(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value)) throw new EnvError(`${name} must be a whole number, not "${value}".`);
  return Number(value);
}

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const DURATION_WHOLE = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1m30s" → 90000. Returns null for anything k6 would not read as a duration. */
export function parseDurationMs(text: string): number | null {
  if (!DURATION_WHOLE.test(text)) return null;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return total;
}

export function duration(env: Env, name: string, fallback: string): string {
  const value = present(env, name);
  if (value === undefined) return fallback;
  const ms = parseDurationMs(value);
  if (ms === null || ms <= 0) throw new EnvError(`${name} must be a duration such as 30s, 2m or 1m30s, not "${value}".`);
  return value;
}

export function httpUrl(env: Env, name: string, fallback: string): string {
  const value = (present(env, name) ?? fallback).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(value)) throw new EnvError(`${name} must be an http:// or https:// URL, not "${value}".`);
  return value;
}

export function text(env: Env, name: string, fallback: string): string {
  return present(env, name) ?? fallback;
}
