import { beforeAll, describe, expect, it } from 'vitest';
import { initialize, RegistryBuilder } from '../../src/index.js';
import { runtime } from '../../src/internal/runtime.js';
import { currentRegistry } from '../../src/registry/registry.js';
import { childFrame, readValue, writeSlot } from '../../src/store/frame.js';
import { captureFrame, VALUES } from '../../src/store/snapshot.js';

const builder = new RegistryBuilder();
builder.register<string>('a');
builder.register<string>('b');
beforeAll(() => initialize(builder));

const definition = (name: string) => currentRegistry().byName(name)!;

describe('frames and copy-on-write', () => {
  it('sizes the root to one slot per registered key', () => {
    expect(runtime.root.values).toHaveLength(2);
    expect(runtime.root.isRoot).toBe(true);
  });

  it('shares the parent values on entry and copies only on the first write', () => {
    const parent = childFrame(runtime.root, 'p');
    writeSlot(parent, definition('a'), 'parent');
    const child = childFrame(parent, undefined);
    expect(child.values).toBe(parent.values);
    writeSlot(child, definition('a'), 'child');
    expect(child.values).not.toBe(parent.values);
    const copied = child.values;
    writeSlot(child, definition('b'), 'second write');
    expect(child.values).toBe(copied);
    expect(readValue(parent.values, definition('a'))).toBe('parent');
    expect(readValue(parent.values, definition('b'))).toBeUndefined();
  });

  it('makes a parent copy before writing once a child shares its values', () => {
    const parent = childFrame(runtime.root, undefined);
    writeSlot(parent, definition('a'), 'v1');
    const child = childFrame(parent, undefined);
    writeSlot(parent, definition('a'), 'v2');
    expect(readValue(child.values, definition('a'))).toBe('v1');
  });

  it('takes snapshots in O(1), sharing the array; later writes leave the snapshot unchanged', () => {
    const frame = childFrame(runtime.root, undefined);
    writeSlot(frame, definition('a'), 'before');
    const snap = captureFrame(frame);
    expect(snap[VALUES]).toBe(frame.values);
    writeSlot(frame, definition('a'), 'after');
    expect(snap.get('a')).toBe('before');
    expect(readValue(frame.values, definition('a'))).toBe('after');
  });
});
