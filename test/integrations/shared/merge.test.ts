import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { threeWayMerge } from '../../../src/integrations/shared/index.js';
import { mergeAll, settle } from '../../../src/integrations/shared/policies.js';

/** Values as a context holds them: scalars, arrays and plain objects. */
const value = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('a', 'b', 'c'),
  fc.boolean(),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 2 }), { maxKeys: 2 }),
);
const names = fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4', '__proto__', 'constructor');
const entries = fc.dictionary(names, value, { maxKeys: 6 });

/** A side derived from `base`: some keys changed, some deleted, some added. */
function edit(base: Record<string, unknown>) {
  return fc
    .record({
      changes: fc.dictionary(names, fc.option(value, { nil: undefined }), { maxKeys: 4 }),
    })
    .map(({ changes }) => {
      const side: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(base)) side[key] = base[key];
      for (const key of Object.keys(changes)) {
        if (changes[key] === undefined) delete side[key];
        else side[key] = changes[key];
      }
      return side;
    });
}

const scenario = entries.chain((base) => fc.tuple(fc.constant(base), edit(base), edit(base)));
const json = (v: unknown) => JSON.stringify(v);
/** An own value, so a key named __proto__ reads as that key, not as the prototype. */
const at = (side: Record<string, unknown>, key: string) =>
  Object.hasOwn(side, key) ? side[key] : undefined;

describe('threeWayMerge', () => {
  it('never drops a change only one side made', () => {
    fc.assert(
      fc.property(scenario, ([base, local, remote]) => {
        const { merged } = threeWayMerge(base, local, remote);
        for (const [mine, theirs] of [
          [local, remote],
          [remote, local],
        ] as const) {
          for (const key of new Set([...Object.keys(base), ...Object.keys(mine)])) {
            const changedHere = json(at(mine, key)) !== json(at(base, key));
            const changedThere = json(at(theirs, key)) !== json(at(base, key));
            if (changedHere && !changedThere) {
              expect(Object.hasOwn(merged, key)).toBe(Object.hasOwn(mine, key));
              expect(at(merged, key)).toEqual(at(mine, key));
            }
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reports every key changed differently on both sides, and only those', () => {
    fc.assert(
      fc.property(scenario, ([base, local, remote]) => {
        const { conflicts } = threeWayMerge(base, local, remote);
        const expected = [
          ...new Set([...Object.keys(base), ...Object.keys(local), ...Object.keys(remote)]),
        ].filter(
          (key) =>
            json(at(local, key)) !== json(at(base, key)) &&
            json(at(remote, key)) !== json(at(base, key)) &&
            json(at(local, key)) !== json(at(remote, key)),
        );
        expect(conflicts.map((c) => c.key).sort()).toEqual(expected.sort());
        for (const c of conflicts) {
          expect([c.base, c.local, c.remote]).toEqual([
            at(base, c.key),
            at(local, c.key),
            at(remote, c.key),
          ]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('merge(base, x, x) = x', () => {
    fc.assert(
      fc.property(
        entries.chain((base) => fc.tuple(fc.constant(base), edit(base))),
        ([base, x]) => {
          const { merged, conflicts } = threeWayMerge(base, x, x);
          expect(conflicts).toEqual([]);
          expect({ ...merged }).toEqual({ ...x });
          expect(Object.keys(merged).sort()).toEqual(Object.keys(x).sort());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reports changed here / deleted there as a conflict, not a silent delete', () => {
    const { merged, conflicts } = threeWayMerge({ cart: ['a'] }, { cart: ['a', 'b'] }, {});
    expect(conflicts).toEqual([{ key: 'cart', base: ['a'], local: ['a', 'b'], remote: undefined }]);
    expect(Object.hasOwn(merged, 'cart')).toBe(false);
  });

  it('takes both sides when they changed different keys, and one copy of an identical change', () => {
    const { merged, conflicts } = threeWayMerge(
      { a: 1, b: 1, c: 1 },
      { a: 2, b: 1, c: 5 },
      { a: 1, b: 3, c: 5 },
    );
    expect(conflicts).toEqual([]);
    expect({ ...merged }).toEqual({ a: 2, b: 3, c: 5 });
  });
});

describe('conflict policies', () => {
  const conflict = {
    id: 's',
    key: 'n',
    base: 1,
    local: 3,
    remote: 5,
    baseVersion: 1,
    remoteVersion: 2,
  };

  it("'fail' throws CONFLICT naming the key and its three values", () => {
    expect(() => settle([conflict], 'fail')).toThrow(/'n' \(base 1, local 3, remote 5\)/);
    try {
      settle([conflict], 'fail');
    } catch (error) {
      expect((error as { code: string }).code).toBe('CONFLICT');
      expect((error as { conflicts: unknown[] }).conflicts).toEqual([conflict]);
    }
  });

  it('last-write-wins takes local, higher-version-wins the committed value, a resolver its result', () => {
    expect(settle([conflict], 'last-write-wins').get('n')).toBe(3);
    expect(settle([conflict], 'higher-version-wins').get('n')).toBe(5);
    expect(settle([conflict], (c) => (c.local as number) * (c.remote as number)).get('n')).toBe(15);
  });

  it('merge-all adds both deltas, unions lists, merges objects and keeps a change over a delete', () => {
    expect(mergeAll(1, 3, 5)).toBe(7);
    expect(mergeAll(['a', 'b'], ['a', 'c'], ['a', 'b', 'd'])).toEqual(['a', 'd', 'c']);
    expect(mergeAll(new Set([1]), new Set([1, 2]), new Set([3]))).toEqual(new Set([3, 2]));
    expect(mergeAll({ x: 1, y: 1 }, { x: 2, y: 1 }, { x: 1, y: 4, z: 0 })).toEqual({
      x: 2,
      y: 4,
      z: 0,
    });
    expect(mergeAll({ n: 1 }, { n: 2 }, { n: 4 })).toEqual({ n: 5 });
    expect(mergeAll(['a'], ['a', 'b'], undefined)).toEqual(['a', 'b']);
    expect(mergeAll(['a'], undefined, ['a', 'c'])).toEqual(['a', 'c']);
    expect(mergeAll('x', 'y', 'z')).toBe('y');
  });
});
