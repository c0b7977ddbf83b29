/**
 * Layering (STYLE.md): the thread protocol depends on the core, never the other way round. Read
 * from the sources' runtime imports (`import type` is erased, so it does not count).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** The files `file` imports at run time, relative to src/. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (match[1] !== undefined) continue;
    const target = resolve(dirname(join(src, file)), match[2]!).replace(/\.js$/, '.ts');
    found.push(relative(src, target));
  }
  return found;
}

/** Every file `file` loads at run time, itself included. */
function closure(file: string): Set<string> {
  const seen = new Set<string>();
  const pending = [file];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...runtimeImports(next));
  }
  return seen;
}

describe('layers', () => {
  it('keeps the thread protocol out of what the registry loads', () => {
    const loaded = [...closure('registry/registry.ts')];
    expect(
      loaded.filter((file) => file.startsWith('worker/') || file.startsWith('thread/')),
    ).toEqual([]);
  });

  it('keeps the wire format and the store free of the thread protocol', () => {
    const entries = ['wire/api.ts', 'wire/decode.ts', 'wire/encode.ts', 'store/snapshot.ts'];
    const loaded = entries.flatMap((entry) => [...closure(entry)]);
    expect(
      loaded.filter((file) => file.startsWith('thread/') || file.startsWith('worker/')),
    ).toEqual([]);
  });

  it('gives the core entry only what adopting a spawner context needs, not the delta protocol', () => {
    const loaded = [...closure('index.ts')];
    const delta = [
      'apply-delta',
      'delta',
      'sent-base',
      'shadow',
      'received-base',
      'received-bases',
    ];
    expect(
      loaded.filter(
        (file) => file.startsWith('worker/') || delta.some((name) => file === `thread/${name}.ts`),
      ),
    ).toEqual([]);
  });
});
