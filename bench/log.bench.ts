/**
 * Question: what does `dcontext/log` add to each log line?
 *
 * pino writing to a stream that discards, inside a scope with three logged keys set (request id,
 * tenant, user) and a two-name scope chain, so each line gets four context fields. Rows: pino
 * with no mixin and no context fields (the bare line); pino with no mixin and the same four
 * fields passed in each call (the same output line, written by hand at every call site); pino +
 * `pinoMixin()`; pino with a hand-written mixin reading the same fields from an
 * AsyncLocalStorage (the glue a user writes today). Writing four more fields costs pino itself
 * ~0.4 µs per line, whoever supplies them, so the target compares lines with the same content:
 * pino + pinoMixin ÷ pino given the same fields <= 1.3x.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { initialize, RegistryBuilder, scope, set } from '../src/index.js';
import { pinoMixin } from '../src/integrations/log/index.js';
import { type BatchTask, measure } from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

const BATCH = 50;
const PLAIN = 'pino, no mixin, bare line';
const SAME = 'pino, no mixin, same 4 fields in the call';
const MIXIN = 'pino + pinoMixin()';
const HAND = 'pino + hand-written ALS mixin';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id', { metadata: { log: true } });
const tenant = builder.register<string>('tenant', { metadata: { log: true } });
const user = builder.register<string>('user', { metadata: { log: 'user_id' } });
builder.register<string>('secret', { metadata: { log: true, sensitive: true } });
initialize(builder);

const sink = new Writable({
  write(_chunk, _encoding, callback) {
    callback();
  },
});
const plain = pino({ base: null }, sink);
const mixed = pino({ base: null, mixin: pinoMixin() }, sink);
interface Fields {
  request_id: string;
  tenant: string;
  user_id: string;
  scope: string;
}
const fields: Fields = {
  request_id: 'b7a1c3d2-4e5f-4a6b-9c8d-0e1f2a3b4c5d',
  tenant: 'acme',
  user_id: 'u-42',
  scope: 'http>handler',
};
const als = new AsyncLocalStorage<Fields>();
const hand = pino(
  {
    base: null,
    mixin: () => {
      const store = als.getStore();
      return store === undefined
        ? {}
        : {
            request_id: store.request_id,
            tenant: store.tenant,
            user_id: store.user_id,
            scope: store.scope,
          };
    },
  },
  sink,
);

const withFields: BatchTask = {
  name: SAME,
  batch: BATCH,
  fn: () => {
    for (let i = 0; i < BATCH; i++) {
      plain.info(
        {
          n: i,
          request_id: fields.request_id,
          tenant: fields.tenant,
          user_id: fields.user_id,
          scope: fields.scope,
        },
        'request handled',
      );
    }
  },
};

const task = (name: string, logger: pino.Logger): BatchTask => ({
  name,
  batch: BATCH,
  fn: () => {
    for (let i = 0; i < BATCH; i++) logger.info({ n: i }, 'request handled');
  },
});

const results = await scope('http', () =>
  scope('handler', () => {
    set(requestId, 'b7a1c3d2-4e5f-4a6b-9c8d-0e1f2a3b4c5d');
    set(tenant, 'acme');
    set(user, 'u-42');
    return als.run(fields, () =>
      measure([task(PLAIN, plain), withFields, task(MIXIN, mixed), task(HAND, hand)]),
    );
  }),
);
const rows: Row[] = results.map((m) => ({ label: m.name, nsPerOp: m.nsPerOp, spread: m.spread }));
console.log('\n### Log enrichment (per log line)\n');
printTable('pino, one line with 4 context fields', rows, {
  baseline: SAME,
  subject: MIXIN,
  ratioHeader: '× same fields by hand',
});
const ns = (label: string): number => rows.find((row) => row.label === label)!.nsPerOp;
target('pino + pinoMixin ÷ pino given the same fields by hand', ns(MIXIN) / ns(SAME), '<=', 1.3);
console.log(
  `(pino + pinoMixin ÷ the bare line without context: ${(ns(MIXIN) / ns(PLAIN)).toFixed(2)}x)`,
);
