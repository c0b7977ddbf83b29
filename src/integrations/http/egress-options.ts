/** `EgressOptions` checked and resolved once, when the injector, fetch or interceptor is made. */
import type { KeyRef, SerializeOptions } from '../../index.js';
import {
  describe,
  headerMap,
  headerName,
  invalid,
  isKeyRef,
  keyListOption,
  optionalFunction,
  optionsObject,
} from './check.js';
import type { EgressOptions, EgressRequestIdOptions } from './types.js';

/** Everything an egress needs per call. */
export interface Egress {
  readonly header: string;
  /** `serialize`'s options; undefined when no context header is sent (`send: 'none'`). */
  readonly serialize: SerializeOptions | undefined;
  readonly to: ((url: URL) => boolean) | undefined;
  readonly headers: readonly (readonly [string, KeyRef])[];
  readonly requestId: { readonly key: KeyRef; readonly header: string } | undefined;
}

function requestIdOption(value: unknown): Egress['requestId'] {
  if (value === undefined) return undefined;
  const options = optionsObject<EgressRequestIdOptions>(value, 'requestId');
  if (!isKeyRef(options.key)) {
    throw invalid(
      `requestId.key must be a ContextKey or a key name (got ${describe(options.key)})`,
    );
  }
  return {
    key: options.key,
    header: headerName(options.header, 'x-request-id', 'requestId.header'),
  };
}

/** Checks `options` (`INVALID_ARGUMENT` on a value that means nothing) and resolves defaults. */
export function resolveEgress(options: unknown, door: string): Egress {
  const object = optionsObject<EgressOptions>(options, door);
  const send = keyListOption(object.send, 'all', `${door} option send`);
  const signing = object.signingKey === undefined ? {} : { signingKey: object.signingKey };
  return {
    header: headerName(object.header, 'x-dcontext', `${door} option header`),
    serialize: send === 'none' ? undefined : { ...signing, keys: send },
    to: optionalFunction<(url: URL) => boolean>(object.to, `${door} option to`),
    headers: headerMap(object.headers, `${door} option headers`),
    requestId: requestIdOption(object.requestId),
  };
}
