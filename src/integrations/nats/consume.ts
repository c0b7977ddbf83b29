/** A JetStream pull consumer whose every delivery runs through `handleWithContext`. */
import type { ConsumeOptions, JsMsg } from '@nats-io/jetstream';
import { describe, invalid, optionsObject } from '../http/check.js';
import { deliver, resolveHandling } from './handle.js';
import type { HandleOptions } from './types.js';

/** What `consumeWithContext` needs of a JetStream `Consumer`. */
export interface ConsumerLike {
  consume(opts?: ConsumeOptions): Promise<AsyncIterable<JsMsg> & { stop(err?: Error): void }>;
}

/** Options of {@link consumeWithContext}: those of `handleWithContext`, and how to pull. */
export interface ConsumeWithContextOptions extends HandleOptions<JsMsg> {
  /** How many deliveries are handled at once. Default 1 (in order). */
  readonly concurrency?: number;
  /** Options of the consumer's `consume()` (`max_messages`, `expires`, …); not `callback`. */
  readonly consume?: Omit<ConsumeOptions, 'callback'>;
}

/** The running consumer of {@link consumeWithContext}. */
export interface ContextConsumer {
  /**
   * Stops pulling, then waits for the handlers in flight and their post-settle hooks. Resolves
   * `true` when all are done, `false` when `timeout` (ms, default 30 000) passed first. Rejects
   * with `INVALID_ARGUMENT` when the options mean nothing (nothing is stopped then).
   */
  drain(options?: { readonly timeout?: number }): Promise<boolean>;
  /** How many deliveries (handler or hooks) are in flight. */
  readonly inFlight: number;
  /**
   * Settles when the consumer stops pulling: resolves after `drain()`, rejects with the error
   * that ended the consumer's message iterator (a deleted consumer, a closed connection).
   */
  readonly closed: Promise<void>;
}

/**
 * Consumes a JetStream pull consumer: each message goes through a `handleWithContext` of
 * `handler` with `options` (a fresh `nats:<subject>` scope, `use`, automatic settle, post-settle
 * hooks), at most `concurrency` at a time. Returns a handle whose `drain()` stops pulling and
 * waits for the deliveries in flight and their hooks.
 *
 * @example
 * const orders = await consumeWithContext(await js.consumers.get('ORDERS', 'billing'), bill, {
 *   afterAck: () => log.info('billed'), // with the message's request id
 * });
 * process.on('SIGTERM', () => orders.drain({ timeout: 10_000 }));
 */
export async function consumeWithContext(
  consumer: ConsumerLike,
  handler: (msg: JsMsg) => unknown,
  options?: ConsumeWithContextOptions,
): Promise<ContextConsumer> {
  if (typeof consumer?.consume !== 'function') {
    throw invalid(`consumeWithContext takes a JetStream pull consumer (got ${describe(consumer)})`);
  }
  if (typeof handler !== 'function') {
    throw invalid(`consumeWithContext takes a handler function (got ${describe(handler)})`);
  }
  const handling = resolveHandling<JsMsg>(options, 'consumeWithContext');
  const concurrency = options?.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw invalid(
      `consumeWithContext option concurrency must be an integer >= 1 (got ${describe(concurrency)})`,
    );
  }
  const consumeOptions = options?.consume;
  if (
    consumeOptions !== undefined &&
    (typeof consumeOptions !== 'object' ||
      consumeOptions === null ||
      Array.isArray(consumeOptions) ||
      'callback' in consumeOptions)
  ) {
    throw invalid('consumeWithContext option consume must be consume() options without a callback');
  }

  const inFlight = new Set<Promise<void>>();
  let freed: (() => void) | undefined;
  // Deliveries and the hooks of late settles (after their handler returned) alike: each frees a
  // slot when it ends.
  const track = (done: Promise<void>): void => {
    inFlight.add(done);
    void done.finally(() => {
      inFlight.delete(done);
      freed?.();
    });
  };
  const messages = await consumer.consume(consumeOptions);
  const loop = (async () => {
    for await (const msg of messages) {
      // Promises made here would inherit this loop's context: deliver() starts from an empty one.
      const done = deliver(handling, handler, msg, track);
      track(done);
      while (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          freed = resolve;
        });
      }
    }
  })();

  // Awaited by drain() and by whoever awaits `closed`; never an unhandled rejection.
  loop.catch(() => {});
  return {
    closed: loop,
    get inFlight() {
      return inFlight.size;
    },
    async drain(drainOptions?: { readonly timeout?: number }) {
      const { timeout = 30_000 } = optionsObject<{ timeout: number }>(drainOptions, 'drain');
      if (typeof timeout !== 'number' || !(timeout >= 0) || timeout > 2_147_483_647) {
        throw invalid(
          `drain option timeout must be a number of milliseconds >= 0 (got ${describe(timeout)})`,
        );
      }
      messages.stop();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
      });
      const finished = (async () => {
        await loop.catch(() => {});
        while (inFlight.size > 0) await Promise.all(inFlight);
        return true as const;
      })();
      try {
        return await Promise.race([finished, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
