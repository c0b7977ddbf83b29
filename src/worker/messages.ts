import type { Transferable } from 'node:worker_threads';
import { snapshot } from '../context-api.js';
import { causeText } from '../errors.js';
import { bothFrom, runInBoth } from '../internal/both-stores.js';
import { runtime } from '../internal/runtime.js';
import { captureFrame, type Snapshot } from '../store/snapshot.js';
import { unwrap, wrap } from './envelope.js';
import { attachContext } from './error-context.js';

/** Where a message can be posted: a `MessagePort`, a `Worker`, `parentPort`, a `BroadcastChannel`. */
export interface MessageTarget {
  postMessage(value: unknown, transferList?: readonly Transferable[]): void;
}

/** What messages can be received from: a `MessagePort`, a `Worker`, `parentPort`. */
export interface MessageSource {
  on(event: 'message', listener: (value: unknown) => void): unknown;
  off(event: 'message', listener: (value: unknown) => void): unknown;
}

/**
 * Posts `message` with the current context. The receiving side gets the context with
 * {@link onMessageWithContext}; `message` itself arrives unchanged (and `transferList` applies to
 * it as with `postMessage`). Throws `NOT_CLONEABLE` (naming the key) when a local-only value
 * cannot be structured-cloned; nothing is sent then.
 *
 * @example
 * postWithContext(worker, { type: 'resize', id });
 */
export function postWithContext(
  port: MessageTarget,
  message: unknown,
  transferList?: readonly Transferable[],
): void {
  const envelope = wrap(snapshot(), message);
  if (transferList === undefined) port.postMessage(envelope);
  else port.postMessage(envelope, transferList);
}

/**
 * Calls `handler` for each message on `port`, inside the context the message was posted with
 * (in both `asyncCtx` and `syncCtx`, as a fresh scope per message, so one message's context never
 * reaches the handling of the next). Messages posted without context reach `handler` as they
 * are, in this thread's root context; so does a message whose context cannot be read here (over
 * this thread's size limit, say), which is reported as a `DContextWarning`. An error thrown (or a promise rejected) by `handler` carries the message's context (see
 * `errorContext`). Returns a function that removes the listener.
 *
 * @example
 * onMessageWithContext(parentPort!, (job) => resize(job)); // get(requestId) is the sender's
 */
export function onMessageWithContext<T = unknown>(
  port: MessageSource,
  handler: (message: T) => unknown,
): () => void {
  const listener = (data: unknown): void => {
    let received: ReturnType<typeof unwrap>;
    try {
      received = unwrap(data);
    } catch (error) {
      // A context this thread cannot accept (over its size limit, malformed) must not crash the
      // thread: the message is still handled, in the thread's own root context, and reported.
      reportUnreadableContext(error);
      received = { snapshot: rootSnapshot(), payload: (data as unknown[])[1] };
    }
    if (received === undefined) {
      // A plain message: handled outside any scope (the thread's root), never in whatever
      // context was active where the listener was added.
      runAtRoot(handler, data as T);
      return;
    }
    runHandler(received.snapshot, handler, received.payload as T);
  };
  port.on('message', listener);
  return () => {
    port.off('message', listener);
  };
}

function runAtRoot<T>(handler: (message: T) => unknown, message: T): void {
  const previous = runtime.syncCurrent;
  runtime.syncCurrent = runtime.root;
  try {
    runtime.als.exit(() => handler(message));
  } finally {
    runtime.syncCurrent = previous;
  }
}

function rootSnapshot(): Snapshot {
  return captureFrame(runtime.root);
}

function reportUnreadableContext(error: unknown): void {
  const detail = causeText(error);
  process.emitWarning(
    `dcontext: a message's context could not be read and was dropped: ${detail}`,
    {
      type: 'DContextWarning',
      code: 'DCONTEXT_MESSAGE_CONTEXT',
    },
  );
}

function runHandler<T>(context: Snapshot, handler: (message: T) => unknown, message: T): void {
  let result: unknown;
  try {
    result = runInBoth(bothFrom(context), handler, undefined, [message]);
  } catch (error) {
    throw attachContext(error, context);
  }
  if (result instanceof Promise) {
    result.catch((error: unknown) => {
      attachContext(error, context);
      // Rethrown, so an unhandled rejection stays as visible as it would be without dcontext.
      throw error;
    });
  }
}
