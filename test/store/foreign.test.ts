/**
 * The frame's foreign context (`Frame.foreign`): the core carries another system's context with
 * its scopes without reading it — inherited by child scopes, captured by snapshots, restored by
 * re-entering them, never serialized.
 */
import { describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bind,
  deserialize,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  serialize,
  set,
  snapshot,
  withContext,
} from '../../src/index.js';
import { activeForeign, runWithForeign } from '../../src/store/foreign.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const other = { system: 'other' };
const inner = { system: 'inner' };

describe('the foreign context of a scope', () => {
  it('is null outside any scope, and set for the run of runWithForeign only', () => {
    expect(activeForeign()).toBeNull();
    expect(runWithForeign(other, () => activeForeign(), undefined, [])).toBe(other);
    expect(activeForeign()).toBeNull();
  });

  it('passes this and arguments, and opens a scope: values set inside stay inside', () => {
    scope('request', () => {
      set(requestId, 'outer');
      const seen = runWithForeign(
        other,
        function (this: unknown, a: number) {
          set(requestId, 'inner');
          return [this, a, asyncCtx.get(requestId)];
        },
        'self',
        [1],
      );
      expect(seen).toEqual(['self', 1, 'inner']);
      expect(asyncCtx.get(requestId)).toBe('outer');
    });
  });

  it('is inherited by child scopes (named or not) and follows awaits', async () => {
    await runWithForeign(
      other,
      () =>
        scope('a', async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          await asyncCtx.scope(async () => expect(activeForeign()).toBe(other));
          runWithForeign(
            inner,
            () => scope('b', () => expect(activeForeign()).toBe(inner)),
            undefined,
            [],
          );
          expect(activeForeign()).toBe(other);
        }),
      undefined,
      [],
    );
  });

  it('is captured by snapshot(), kept by Snapshot.with, restored by withContext and bind', () => {
    const snap = runWithForeign(other, () => scope('job', () => snapshot()), undefined, []);
    expect(withContext(snap, () => activeForeign())).toBe(other);
    expect(withContext(snap.with(requestId, 'x'), () => activeForeign())).toBe(other);
    const bound = runWithForeign(other, () => bind(() => activeForeign()), undefined, []);
    expect(bound()).toBe(other);
    // Captured as none: restored as none, even inside another.
    const none = scope('idle', () => snapshot());
    expect(
      runWithForeign(inner, () => withContext(none, () => activeForeign()), undefined, []),
    ).toBeNull();
  });

  it('never goes on the wire: a received snapshot keeps the foreign context of where it is entered', () => {
    const bytes = runWithForeign(
      other,
      () =>
        scope('job', () => {
          set(requestId, 'r-1');
          return serialize();
        }),
      undefined,
      [],
    );
    expect(serialize(deserialize(bytes))).toEqual(bytes);
    const received = deserialize(bytes);
    expect(withContext(received, () => activeForeign())).toBeNull();
    expect(
      runWithForeign(inner, () => withContext(received, () => activeForeign()), undefined, []),
    ).toBe(inner);
    expect(
      runWithForeign(
        inner,
        () => withContext(Snapshot.empty(), () => activeForeign()),
        undefined,
        [],
      ),
    ).toBe(inner);
  });
});
