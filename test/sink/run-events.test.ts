import { describe, expect, it } from 'vitest';
import { RunEvents, type GradeRecord } from '../../sink/model/run-events.ts';

const record: GradeRecord = { t: 1, runs: [] };

describe('run events', () => {
  it('calls the listeners in the order they subscribed, and resolves once their promises settle', async () => {
    const events = new RunEvents();
    const heard: string[] = [];
    let release!: () => void;
    events.on('graded', () => void heard.push('first'));
    events.on('graded', () => new Promise<void>((resolve) => (release = () => (heard.push('second, later'), resolve()))));
    events.on('graded', (r) => void heard.push(`third at ${r.t}`));
    let settled = false;
    const done = events.emit('graded', record).then(() => (settled = true));
    expect(heard).toEqual(['first', 'third at 1']);
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    release();
    await done;
    expect(heard).toEqual(['first', 'third at 1', 'second, later']);
  });

  it('logs a listener that throws or rejects, and the others still hear the event', async () => {
    const lines: string[] = [];
    const events = new RunEvents((line) => lines.push(line));
    const heard: number[] = [];
    events.on('graded', () => {
      throw new Error('boom');
    });
    events.on('graded', () => Promise.reject(new Error('later boom')));
    events.on('graded', (r) => void heard.push(r.t));
    await expect(events.emit('graded', record)).resolves.toBeUndefined();
    expect(heard).toEqual([1]);
    expect(lines).toEqual(['a listener of the graded event failed: boom', 'a listener of the graded event failed: later boom']);
  });
});
