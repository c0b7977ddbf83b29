/** The registry the golden vectors in test/vectors/ were written with (and are read back with). */
import { RegistryBuilder, type ValueCodec } from '../../../src/index.js';

export interface Point {
  x: number;
  y: number;
}

/** Two signed 16-bit big-endian integers. */
export const pointCodec: ValueCodec<Point> = {
  encode: ({ x, y }) => {
    const bytes = new Uint8Array(4);
    const view = new DataView(bytes.buffer);
    view.setInt16(0, x);
    view.setInt16(2, y);
    return bytes;
  },
  decode: (bytes) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { x: view.getInt16(0), y: view.getInt16(2) };
  },
};

export const TYPICAL = {
  request_id: 'req_01J9ZC4W8M3TQK7Y2XHB5N6RDV',
  tenant: 'acme-corp',
  user: { id: 'usr_8f2k3j9x', roles: ['admin', 'billing'] },
  flags: { newCheckout: true, darkMode: false, fastSearch: true },
  deadline: 1767225600000,
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  locale: 'en-US',
  sampled: true,
  retry_count: 2,
} as const;

export const CODECS = {
  bin: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  when: new Date('2025-06-01T12:30:00.250Z'),
  nums: [0, -1, -33, 200, -200, 70_000, -70_000, 5_000_000_000, 0.5, -1e-7],
  rich: {
    at: new Date('2025-06-01T12:30:00.250Z'),
    seen: new Set(['a', 'b']),
    counts: new Map([['x', 1n]]),
    gone: undefined,
  },
  point: { x: -3, y: 1200 },
};

export function vectorRegistry(): RegistryBuilder {
  const builder = new RegistryBuilder();
  for (const name of Object.keys(TYPICAL)) builder.register(name);
  // The versions vector sends 'profile' at version 1 and 'theme' from a newer sender (5).
  builder.register('profile', { version: 3 });
  builder.registerMigration('profile', 1, (id) => ({ id, roles: [] }));
  builder.registerMigration('profile', 2, (profile) => ({
    ...(profile as object),
    migrated: true,
  }));
  builder.register('theme', { version: 2, default: () => 'light' });
  builder.register('bin');
  builder.register('when');
  builder.register('nums');
  builder.register('rich', { codec: 'superjson' });
  builder.register('point', { codec: pointCodec });
  builder.register('ключ');
  // The hostile-superjson vector's third entry.
  builder.register('annotated', { codec: 'superjson' });
  return builder;
}
