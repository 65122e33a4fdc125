// docs/demo-shop.md's error table and the codes the demo shop's source can answer with,
// in both directions.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOC = new URL('../../docs/demo-shop.md', import.meta.url);
const SOURCE_DIR = new URL('../../demo/', import.meta.url);

describe("docs/demo-shop.md's error table", () => {
  it('lists exactly the DEMO_ERR_* codes the demo shop answers with, each once', () => {
    const documented = [...readFileSync(DOC, 'utf8').matchAll(/^\| `(DEMO_ERR_[A-Z_]+)` \| [^|]+ \| [^|]{10,} \|$/gm)].map((match) => match[1]);
    const inSource = new Set(
      readdirSync(SOURCE_DIR)
        .filter((file) => file.endsWith('.ts'))
        .flatMap((file) => [...readFileSync(new URL(file, SOURCE_DIR), 'utf8').matchAll(/'(DEMO_ERR_[A-Z_]+)'/g)].map((match) => match[1])),
    );
    expect(documented.filter((code, index) => documented.indexOf(code) !== index)).toEqual([]);
    expect([...documented].sort()).toEqual([...inSource].sort());
  });
});
