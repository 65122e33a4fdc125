// Every file the docs name exists: a path (`sink/model/batch.ts`, or one relative to sink/
// in the sink's diagram) is in the tree, and a bare file name (`runs.ts`) is some file's.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';

/** Files the docs name that the tools write, or that a user makes: never in the tree (nor is ../, beside it). */
const WRITTEN_BY_TOOLS = new Set(['summary.json', 'consumers.json', 'manifest.json', 'compose.override.yaml', 'path.ts', '.ts']);
const FILE = /\.(ts|mjs|cjs|json|jsonc|ya?ml|md)$/;

function allFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', '.tools', 'data', 'results'].includes(e.name)) continue;
    if (e.isDirectory()) allFiles(join(dir, e.name), out);
    else out.push(e.name);
  }
  return out;
}

function named(text: string): string[] {
  const tokens = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!);
  for (const block of text.matchAll(/```[\s\S]*?```/g)) tokens.push(...[...block[0].matchAll(/([A-Za-z0-9_./-]+\.(?:ts|mjs|cjs|json|jsonc|ya?ml|md))/g)].map((m) => m[1]!));
  // Folders count when they are paths (`sink/control/`); a lone `media/` is a shop's, at run time.
  return tokens.map((t) => t.replace(/[,.;:)]+$/, '')).filter((t) => FILE.test(t) || /.\/.+\/$/.test(t));
}

describe('the docs', () => {
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const names = new Set(allFiles(ROOT));

  it.each(docs)('name only files that exist: %s', (doc) => {
    const missing = named(readFileSync(join(ROOT, doc), 'utf8')).filter((t) => {
      if (/^(dist|results|data|\.tools|node_modules)\//.test(t) || t.startsWith('../') || t.startsWith('/') || t.includes('://') || t.includes('<') || t.includes('*') || WRITTEN_BY_TOOLS.has(t)) return false;
      if (!t.includes('/')) return !names.has(t);
      return ![ROOT, join(ROOT, 'docs'), join(ROOT, 'sink')].some((dir) => existsSync(join(dir, t)));
    });
    expect(missing).toEqual([]);
  });

  it('catch a file that does not exist', () => {
    expect(named('See `sink/grade/histogram-record.ts` and `nowhere.ts`.')).toEqual(['sink/grade/histogram-record.ts', 'nowhere.ts']);
    expect(names.has('nowhere.ts')).toBe(false);
    expect(existsSync(join(ROOT, 'sink/grade/histogram-record.ts'))).toBe(false);
  });
});
