/**
 * Settling a JetStream message through dcontext: the first settle call wins; its hooks run once,
 * only when the call succeeded, in the delivery's context, and a hook that throws is reported.
 */
import type { HandleOptions, MsgLike, SettleOutcome } from './types.js';

/** What a JetStream `JsMsg` has beyond a core message. */
export interface Settleable {
  ack(): void;
  nak(millis?: number): void;
  term(reason?: string): void;
  ackAck?(opts?: Partial<{ timeout: number }>): Promise<boolean>;
}

/** True for a JetStream message (it can be settled). */
export function isSettleable(msg: object): msg is MsgLike & Settleable {
  const m = msg as Partial<Settleable>;
  return typeof m.ack === 'function' && typeof m.nak === 'function' && typeof m.term === 'function';
}

/**
 * Whether the connection `msg` came on is closed. Reads nats.js internals (a `JsMsg` holds its
 * core message, which holds its protocol handler); a client without them counts as open.
 */
function connectionClosed(msg: object): boolean {
  const publisher = (msg as { msg?: { publisher?: { isClosed?: () => unknown } } }).msg?.publisher;
  return typeof publisher?.isClosed === 'function' && publisher.isClosed() === true;
}

/** The error reported when a settle could not go out. */
class ClosedConnection extends Error {
  override readonly name = 'ClosedConnectionError';
}

/** One delivery's settle state and the hooks its settle started. */
export class Settlement<M extends MsgLike> {
  /** `'open'` until the first settle call; `'failed'` when that call threw: no hooks ever. */
  state: 'open' | 'settled' | 'failed' = 'open';
  /** The hooks started by the settle (awaited before the delivery counts as done). */
  hooks: Promise<void> | undefined;

  constructor(
    private readonly options: HandleOptions<M>,
    /** Runs `fn` in the delivery's context. */
    private readonly inContext: (fn: () => Promise<void>) => Promise<void>,
    private readonly report: (error: unknown) => void,
    private readonly track: ((done: Promise<void>) => void) | undefined,
  ) {}

  /**
   * Calls `settle` if this is the first settle; starts the hooks when it succeeded: it did not
   * throw and the message's connection is open (nats.js writes ack/nak/term without waiting and
   * without an error on a closed connection: the settle is then lost, and so are the hooks).
   */
  run<R>(outcome: SettleOutcome, msg: M, original: object, settle: () => R): R {
    if (this.state !== 'open') return settle(); // nats.js ignores repeats; so do the hooks
    let result: R;
    try {
      result = settle();
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
    if (connectionClosed(original)) {
      this.state = 'failed';
      this.report(
        new ClosedConnection(
          `the ${outcome} of a message on '${msg.subject}' was not sent: its connection is closed`,
        ),
      );
      return result;
    }
    this.state = 'settled';
    this.startHooks(outcome, msg);
    return result;
  }

  /** `ackAck`: settled (and hooks started) only when the server confirms the ack. */
  async confirm(msg: M, settle: () => Promise<boolean>): Promise<boolean> {
    if (this.state !== 'open') return settle();
    this.state = 'settled';
    let confirmed = false;
    try {
      confirmed = await settle();
    } finally {
      if (!confirmed) this.state = 'failed';
    }
    if (confirmed) this.startHooks('ack', msg);
    return confirmed;
  }

  private startHooks(outcome: SettleOutcome, msg: M): void {
    const specific =
      outcome === 'ack'
        ? this.options.afterAck
        : outcome === 'nak'
          ? this.options.afterNak
          : this.options.afterTerm;
    const all = this.options.afterSettle;
    if (specific === undefined && all === undefined) return;
    this.hooks = this.inContext(async () => {
      // After the settle call has returned: never inside the handler's own call stack.
      await Promise.resolve();
      for (const hook of [specific && (() => specific(msg)), all && (() => all(outcome, msg))]) {
        if (hook === undefined) continue;
        try {
          await hook();
        } catch (error) {
          this.report(error);
        }
      }
    });
    this.track?.(this.hooks);
  }
}

/**
 * `msg` with `ack`, `nak`, `term` and `ackAck` going through `settlement`, and (for a request
 * that asked for it) `respond` adding the responder's context. Everything else reads through to
 * `msg` itself (its getters, `working()`, `json()`).
 */
export function settlingView<M extends MsgLike>(
  msg: M,
  settlement: Settlement<M> | undefined,
  respond: ((...args: never[]) => unknown) | undefined,
): M {
  if (settlement === undefined && respond === undefined) return msg;
  const view = Object.create(msg) as M & Settleable & { respond?: unknown };
  if (settlement !== undefined && isSettleable(msg)) {
    view.ack = () => settlement.run('ack', view, msg, () => msg.ack());
    view.nak = (millis?: number) => settlement.run('nak', view, msg, () => msg.nak(millis));
    view.term = (reason?: string) => settlement.run('term', view, msg, () => msg.term(reason));
    const ackAck = msg.ackAck;
    if (typeof ackAck === 'function') {
      view.ackAck = (opts) => settlement.confirm(view, () => ackAck.call(msg, opts));
    }
  }
  if (respond !== undefined) view.respond = respond;
  return view;
}
