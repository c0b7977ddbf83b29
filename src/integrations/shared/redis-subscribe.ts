/** Commit announcements of one store, over a Redis subscriber connection. */
import type { RedisClient } from './redis-client.js';
import { unavailable } from './redis-errors.js';
import type { CommitHandlers, CommitSubscription } from './types.js';

/**
 * Resolves once `client` accepts commands: a fresh `duplicate()` is still connecting, and with
 * `enableOfflineQueue: false` a command sent then fails instead of waiting.
 */
function whenReady(client: RedisClient): Promise<void> {
  const status = client.status;
  if (status === undefined || status === 'ready' || status === 'wait') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      stop();
      resolve();
    };
    const onEnd = () => {
      stop();
      reject(new Error('the subscriber connection ended before it was ready'));
    };
    const stop = () => {
      client.off('ready', onReady);
      client.off('end', onEnd);
    };
    client.on('ready', onReady);
    client.on('end', onEnd);
  });
}

/**
 * Subscribes `subscriber` to `channel` and reports each announcement (`<version> <id>`) to
 * `handlers`; a dropped connection is a gap until it is subscribed again. `owned`: the
 * connection was made for this subscription and is closed with it.
 */
export async function followCommits(
  subscriber: RedisClient,
  owned: boolean,
  channel: string,
  handlers: CommitHandlers,
): Promise<CommitSubscription> {
  let gap = false;
  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    const space = message.indexOf(' ');
    const version = Number(message.slice(0, space));
    if (space > 0 && Number.isSafeInteger(version))
      handlers.onCommit(message.slice(space + 1), version);
  };
  const onDown = () => {
    if (gap) return;
    gap = true;
    handlers.onGap?.();
  };
  const onReady = () => {
    if (!gap) return;
    // Announcements resume only once the channel is subscribed again.
    subscriber.subscribe(channel).then(
      () => {
        gap = false;
        handlers.onResume?.();
      },
      () => {},
    );
  };
  const unlisten = () => {
    subscriber.off('message', onMessage);
    subscriber.off('close', onDown);
    subscriber.off('ready', onReady);
  };
  subscriber.on('message', onMessage);
  subscriber.on('close', onDown);
  subscriber.on('ready', onReady);
  try {
    await whenReady(subscriber);
    await subscriber.subscribe(channel);
  } catch (error) {
    unlisten();
    if (owned) subscriber.disconnect();
    throw unavailable(error, 'subscribe');
  }
  return {
    close: async () => {
      unlisten();
      if (owned) subscriber.disconnect();
      else await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
