// Just enough of the `k6` module for unit tests of lib/: checks are recorded.
export const checks: Array<{ name: string; ok: boolean }> = [];

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = Boolean(fn(value));
    checks.push({ name, ok });
    all &&= ok;
  }
  return all;
}

export function sleep(_seconds: number): void {}

export function group<T>(_name: string, fn: () => T): T {
  return fn();
}
