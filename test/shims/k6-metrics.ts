// k6/metrics stand-ins that remember what was added, by metric name.
export const added: Record<string, Array<number | boolean>> = {};
/** The tags of each add, in the same order. */
export const addedTags: Record<string, Array<Record<string, string> | undefined>> = {};

class Metric {
  constructor(public readonly name: string) {
    added[name] ??= [];
    addedTags[name] ??= [];
  }
  add(value: number | boolean, tags?: Record<string, string>): void {
    added[this.name]!.push(value);
    addedTags[this.name]!.push(tags);
  }
}

export class Rate extends Metric {}
export class Trend extends Metric {}
export class Counter extends Metric {}
export class Gauge extends Metric {}
