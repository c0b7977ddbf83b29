import { Writable } from 'node:stream';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import { initialize, RegistryBuilder, Snapshot, scope, set } from '../../src/index.js';
import { TRACE_FIELDS_PROVIDER } from '../../src/integrations/log/fields.js';
import { logFields, pinoMixin, winstonFormat } from '../../src/integrations/log/index.js';
import { sleep } from '../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id', { metadata: { log: true } });
const tenant = builder.register<string>('tenant', { metadata: { log: 'tenant_id' } });
const password = builder.register<string>('password', { metadata: { log: true, sensitive: true } });
const unlogged = builder.register<string>('unlogged');
const proto = builder.register<string>('__proto__', { metadata: { log: true } });
builder.register<string>('region', {
  metadata: { log: true },
  default: () => 'eu',
});
beforeAll(() => initialize(builder));

/** A writable that keeps each JSON line a logger writes. */
function lines(): { stream: Writable; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') records.push(JSON.parse(line));
      callback();
    },
  });
  return { stream, records };
}

describe('logFields', () => {
  it('holds the keys registered for logs, under their field names, and the scope chain', async () => {
    await scope('http', () =>
      scope('handler', () => {
        set(requestId, 'r1');
        set(tenant, 'acme');
        set(password, 'hunter2');
        set(unlogged, 'x');
        expect({ ...logFields() }).toEqual({
          request_id: 'r1',
          tenant_id: 'acme',
          region: 'eu',
          scope: 'http>handler',
        });
      }),
    );
  });

  it('never logs a sensitive key, and a key named __proto__ stays a field', async () => {
    await scope(() => {
      set(password, 'hunter2');
      set(proto, 'p');
      const fields = logFields();
      expect(Object.values(fields)).not.toContain('hunter2');
      expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
      expect(Object.hasOwn(fields, '__proto__')).toBe(true);
      expect(JSON.stringify(fields)).toContain('"__proto__":"p"');
    });
  });

  it('reads a snapshot when given one, and outside every scope only defaults', () => {
    const snap = Snapshot.empty().with(requestId, 'from-snapshot');
    expect(logFields(snap).request_id).toBe('from-snapshot');
    expect({ ...logFields() }).toEqual({ region: 'eu' });
    expect({ ...logFields(undefined, { scopeField: false }) }).toEqual({ region: 'eu' });
  });

  it('adds trace ids from the provider dcontext/otel installs, unless told not to', () => {
    const holder = globalThis as { [TRACE_FIELDS_PROVIDER]?: () => unknown };
    holder[TRACE_FIELDS_PROVIDER] = () => ({ trace_id: 't'.repeat(32), span_id: 's'.repeat(16) });
    try {
      expect(logFields().trace_id).toBe('t'.repeat(32));
      expect(logFields(undefined, { traceFields: false }).trace_id).toBeUndefined();
    } finally {
      delete holder[TRACE_FIELDS_PROVIDER];
    }
  });
});

describe('pinoMixin', () => {
  it('puts each request’s own context on every pino line, across many interleaved requests', async () => {
    const { stream, records } = lines();
    const logger = pino({ mixin: pinoMixin(), base: null, timestamp: false }, stream);
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        scope('request', async () => {
          set(requestId, `r${i}`);
          set(tenant, `t${i % 7}`);
          await sleep(Math.random() * 5);
          logger.info({ n: i }, 'working');
          await new Promise((resolve) => setImmediate(resolve));
          logger.info({ n: i }, 'done');
        }),
      ),
    );
    logger.info({ n: -1 }, 'outside');
    expect(records).toHaveLength(601);
    const mismatches = records.filter(
      (r) => r.n !== -1 && (r.request_id !== `r${r.n}` || r.tenant_id !== `t${Number(r.n) % 7}`),
    );
    expect(mismatches).toEqual([]);
    expect(records.every((r) => r.password === undefined)).toBe(true);
    const outside = records.find((r) => r.n === -1)!;
    expect(outside.request_id).toBeUndefined();
    expect(outside.region).toBe('eu');
  });
});

describe('winstonFormat', () => {
  it('adds the context to every winston entry; the entry’s own fields win', async () => {
    const { stream, records } = lines();
    const logger = winston.createLogger({
      format: winston.format.combine(winstonFormat(), winston.format.json()),
      transports: [new winston.transports.Stream({ stream })],
    });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        scope('job', async () => {
          set(requestId, `w${i}`);
          await sleep(Math.random() * 5);
          logger.info('step', { n: i });
        }),
      ),
    );
    await scope(() => {
      set(requestId, 'ctx');
      logger.info('explicit', { n: -1, request_id: 'given' });
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(records).toHaveLength(101);
    expect(records.filter((r) => r.n !== -1 && r.request_id !== `w${r.n}`)).toEqual([]);
    expect(records.find((r) => r.n === -1)!.request_id).toBe('given');
    expect(records.every((r) => r.scope === 'job' || r.n === -1)).toBe(true);
  });
});

describe('bad arguments', () => {
  const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' });

  it('takes null options as no options, in every door', () => {
    scope(() => {
      set(requestId, 'r1');
      expect(logFields(undefined, null).request_id).toBe('r1');
      expect(pinoMixin(null)().request_id).toBe('r1');
      expect(winstonFormat(null).transform({}) as Record<string, unknown>).toMatchObject({
        request_id: 'r1',
      });
    });
  });

  it('refuses options that are not LogFieldOptions when the logger is set up, not per line', () => {
    for (const options of [5, 'scope', { scopeField: 5 }, { traceFields: 'no' }]) {
      expect(() => pinoMixin(options as never)).toThrow(invalid);
      expect(() => winstonFormat(options as never)).toThrow(invalid);
      expect(() => logFields(undefined, options as never)).toThrow(invalid);
    }
  });

  it('refuses a snapshot argument that is not a Snapshot with INVALID_ARGUMENT', () => {
    for (const snapshot of [null, {}, 'snap', 42]) {
      expect(() => logFields(snapshot as never)).toThrow(invalid);
    }
  });
});
