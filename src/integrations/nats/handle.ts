/**
 * One delivery: its context read from the headers (all or nothing), a fresh `nats:<subject>`
 * scope, the middleware, the handler, then the settle and its hooks.
 */
import type { Msg, MsgHdrs, Payload } from '@nats-io/nats-core';
import { bind, type DContextError, isDContextError, Snapshot } from '../../index.js';
import {
  asContextError,
  checkedOptions,
  choice,
  type Receiver,
  readInbound,
  report,
  resolveReceiver,
  runFresh,
} from '../delivery/receive.js';
import { currentContext } from '../delivery/send.js';
import type { SendOptions } from '../delivery/types.js';
import { describe, invalid, keyListOption, optionalFunction } from '../http/check.js';
import { addHeader, contextHeaderOf, copyHeaders, headerOption, newHeaders } from './headers.js';
import { isSettleable, Settlement, settlingView } from './settle.js';
import { type HandleOptions, type Middleware, type MsgLike, REPLY_HEADER } from './types.js';

/** `HandleOptions` checked and resolved once. */
export interface Handling<M extends MsgLike> {
  readonly options: HandleOptions<M>;
  readonly header: string;
  readonly use: readonly Middleware<M>[];
  readonly reject: boolean;
  readonly autoSettle: boolean;
  readonly receiver: Receiver<M>;
  /** What a reply to `reply: true` carries (`send` options), or undefined for nothing. */
  readonly replySend: SendOptions | undefined;
  /** Reports an error of a delivery (never throws). */
  readonly fail: (error: unknown, msg: M) => void;
}

const HOOKS = ['afterAck', 'afterNak', 'afterTerm', 'afterSettle'] as const;

/** Checks `options` (`INVALID_ARGUMENT`) and resolves their defaults. */
export function resolveHandling<M extends MsgLike>(options: unknown, door: string): Handling<M> {
  const object = checkedOptions<HandleOptions<M>>(options, door);
  const use = object.use ?? [];
  if (!Array.isArray(use) || !use.every((step) => typeof step === 'function')) {
    throw invalid(`${door} option use must be a list of middleware functions (msg, next) => …`);
  }
  for (const hook of HOOKS) optionalFunction(object[hook], `${door} option ${hook}`);
  const onError = optionalFunction<(error: unknown, msg: M) => void>(
    object.onError,
    `${door} option onError`,
  );
  const receiver = resolveReceiver<M>(
    { ...object, ...(onError === undefined ? {} : { onError }) },
    door,
    'nats',
  );
  const fail = (error: unknown, msg: M): void => {
    if (isDContextError(error) || onError !== undefined) {
      // The receiver's onError is the user's (it takes any error) or the DContextError warning.
      report(receiver, error as DContextError, msg);
    } else {
      console.error(`dcontext/nats: a delivery on '${msg.subject}' failed:`, error);
    }
  };
  const replyKeys = keyListOption(object.reply, 'all', `${door} option reply`);
  return {
    replySend: replyKeys === 'none' ? undefined : { send: replyKeys },
    options: object,
    header: headerOption(object.header, `${door} option header`),
    use,
    reject:
      choice(object.onInvalid, ['drop', 'reject'], 'drop', `${door} option onInvalid`) === 'reject',
    autoSettle:
      choice(object.settle, ['auto', 'manual'], 'auto', `${door} option settle`) === 'auto',
    receiver,
    fail,
  };
}

/**
 * The promise `next()` returns: it notes whether the middleware looked at it (awaited, returned,
 * `then`/`catch`); derived promises are plain ones.
 */
class Watched extends Promise<undefined> {
  static override get [Symbol.species]() {
    return Promise;
  }
  seen = false;
  // biome-ignore lint/suspicious/noThenProperty: a Promise subclass that notes who awaits it
  override then<A = undefined, B = never>(
    onFulfilled?: ((value: undefined) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.seen = true;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * Runs the middleware chain, then the handler. A second `next()` throws `INVALID_ARGUMENT` where
 * it is called (the handler ran once). A middleware that calls `next()` without awaiting or
 * returning it still has the rest of the chain finish before the delivery settles, and what the
 * rest threw fails the delivery (it is never an unhandled rejection); one that awaited it decides
 * itself (it may catch).
 */
function chain<M extends MsgLike>(
  use: readonly Middleware<M>[],
  handler: (msg: M) => unknown,
  msg: M,
) {
  const step = async (index: number): Promise<void> => {
    const middleware = use[index];
    if (middleware === undefined) {
      await handler(msg);
      return;
    }
    let rest: Promise<void> | undefined;
    let watched: Watched | undefined;
    await middleware(msg, () => {
      if (rest !== undefined) throw invalid('a middleware called next() more than once');
      rest = step(index + 1);
      const started = rest;
      watched = new Watched((resolve, reject) => {
        started.then(() => resolve(undefined), reject);
      });
      // Surfaced by the middleware (if it looks) or below; never unhandled.
      Promise.prototype.then.call(watched, undefined, () => {});
      return watched;
    });
    if (rest !== undefined && watched?.seen !== true) await rest;
  };
  return step(0);
}

/** A `respond` that adds the responder's context, when the request asked for it. */
function replyWithContext(
  msg: MsgLike,
  send: SendOptions | undefined,
): ((data?: Payload, opts?: { headers?: MsgHdrs }) => unknown) | undefined {
  if (send === undefined) return undefined; // reply: 'none'
  const asked = msg.headers?.values(REPLY_HEADER)[0];
  const original = (msg as { respond?: (data?: Payload, opts?: object) => unknown }).respond;
  if (asked === undefined || typeof original !== 'function') return undefined;
  let header: string;
  try {
    header = headerOption(asked, 'the reply header');
  } catch {
    return undefined; // a requester asking for a header NATS cannot carry gets a plain reply
  }
  return (data, opts) => {
    if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
      throw invalid(`respond options must be an object (got ${describe(opts)})`);
    }
    const given = opts?.headers;
    const headers = addHeader(
      given === undefined ? newHeaders() : copyHeaders(given, 'respond option headers'),
      header,
      currentContext(send, 'respond'),
    );
    return original.call(msg, data, { ...opts, headers });
  };
}

/**
 * Handles `msg`: resolves when the handler, the automatic settle and every post-settle hook are
 * done. Never rejects: errors go to `fail`. `track` receives hooks a late settle starts (after
 * this promise resolved), for `drain`.
 */
export async function deliver<M extends MsgLike>(
  handling: Handling<M>,
  handler: (msg: M) => unknown,
  msg: M,
  track?: (done: Promise<void>) => void,
): Promise<void> {
  if (typeof msg !== 'object' || msg === null || typeof msg.subject !== 'string') {
    // A subscription callback gets (err, {}) when its subscription fails (a timeout, a permission
    // violation): that is no message, and the handler must not run with it.
    handling.fail(
      invalid(
        `a handleWithContext handler was called with ${describe(msg)} instead of a NATS message (a subscription error? check the callback's err)`,
      ),
      msg,
    );
    return;
  }
  let input: string | undefined;
  let refused = false;
  const what = () => `the context of a message on '${msg.subject}'`;
  try {
    input = contextHeaderOf(msg, handling.header);
  } catch (error) {
    report(handling.receiver, asContextError(error, what()), msg);
    refused = true;
  }
  const inbound = refused
    ? { ok: false as const }
    : readInbound(handling.receiver, input, msg, what);
  const snapshot = inbound.ok ? inbound.snapshot : Snapshot.empty();
  const settleable = isSettleable(msg);

  await runFresh(snapshot, `nats:${msg.subject}`, async () => {
    // Only a JetStream message can be settled: a core one needs no settlement (nor its closure).
    const settlement = settleable
      ? new Settlement<M>(
          handling.options,
          bind((fn: () => Promise<void>) => fn()),
          (error) => handling.fail(error, msg),
          track,
        )
      : undefined;
    const view = settlingView(msg, settlement, replyWithContext(msg, handling.replySend));
    const settle = (how: 'ack' | 'nak' | 'term'): void => {
      if (settlement?.state !== 'open') return;
      try {
        const v = view as unknown as { ack(): void; nak(): void; term(): void };
        // term() without a reason: servers before 2.11 leave a '+TERM reason' message pending.
        v[how]();
      } catch (error) {
        handling.fail(error, msg);
      }
    };

    if (!inbound.ok && handling.reject) {
      settle('term');
    } else {
      let failed = false;
      try {
        if (handling.use.length === 0) await handler(view);
        else await chain(handling.use, handler, view);
      } catch (error) {
        failed = true;
        handling.fail(error, msg);
      }
      if (handling.autoSettle) settle(failed ? 'nak' : 'ack');
    }
    // Hooks started during the handler (or by the automatic settle) finish before we do.
    if (settlement?.hooks !== undefined) await settlement.hooks;
  });
}

/**
 * Wraps a NATS message handler for core subscriptions and JetStream consumers. Each delivery
 * runs in a fresh scope named `nats:<subject>` holding the context from the message's headers
 * (bounded by `accept`) and nothing else, never the previous message's; then the `use`
 * middleware (which may enrich it), then the handler. For a JetStream message, the post-settle
 * hooks (`afterAck`, `afterNak`, `afterTerm`, `afterSettle`) run once, after the first settle call
 * succeeded, in that delivery's context; with `settle: 'auto'` (default) a message the handler
 * did not settle is acked when it returns and nak'd when it throws. A `msg.respond()` to a
 * `requestWithContext(…, { reply: true })` carries the responder's context back.
 *
 * The returned function resolves when the handler and the hooks are done and never rejects:
 * errors go to `onError`.
 *
 * @example
 * nc.subscribe('orders.*', { callback: (_err, msg) => void handle(msg) });
 * const handle = handleWithContext((msg) => process(msg.json()), {
 *   use: [(msg, next) => { set(tenant, msg.subject.split('.')[1]); return next(); }],
 * });
 */
export function handleWithContext<M extends MsgLike = Msg>(
  handler: (msg: M) => unknown,
  options?: HandleOptions<M>,
): (msg: M) => Promise<void> {
  if (typeof handler !== 'function') {
    throw invalid(`handleWithContext takes a handler function (got ${describe(handler)})`);
  }
  const handling = resolveHandling<M>(options, 'handleWithContext');
  return (msg: M) => deliver(handling, handler, msg);
}
