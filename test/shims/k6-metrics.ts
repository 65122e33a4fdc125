// k6/metrics stand-ins that remember what was added, by metric name.
export const added: Record<string, Array<number | boolean>> = {};

class Metric {
  constructor(public readonly name: string) {
    added[name] ??= [];
  }
  add(value: number | boolean): void {
    added[this.name]!.push(value);
  }
}

export class Rate extends Metric {}
export class Trend extends Metric {}
export class Counter extends Metric {}
export class Gauge extends Metric {}
