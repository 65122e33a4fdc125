import { invalidBody } from './errors.ts';

// Hand-rolled rather than JSON-schema so that every rejection reads as one
// plain sentence in our `{code, message}` shape.

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

const quote = (key: string): string => JSON.stringify(key.slice(0, 40));

/** Accepts only a JSON object whose keys are all in `allowed`. */
export function strictObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidBody('The request body must be a JSON object.');
  }
  const unknownKey = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknownKey !== undefined) {
    throw invalidBody(`Unknown field ${quote(unknownKey)}; allowed fields are ${allowed.join(', ')}.`);
  }
  return body as Record<string, unknown>;
}

export function numberField(fields: Record<string, unknown>, key: string, rule: NumberRule): number | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  const kind = rule.integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) {
    throw invalidBody(`Field ${quote(key)} must be ${kind}.`);
  }
  if (value < rule.min || value > rule.max) {
    throw invalidBody(`Field ${quote(key)} must be ${kind} from ${rule.min} to ${rule.max}.`);
  }
  return value;
}

export function stringField(fields: Record<string, unknown>, key: string, maxLength: number): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw invalidBody(`Field ${quote(key)} must be a string of at most ${maxLength} characters.`);
  }
  return value;
}

export function required<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw invalidBody(`Field ${quote(key)} is required.`);
  return value;
}
