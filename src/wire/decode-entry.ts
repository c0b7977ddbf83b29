/**
 * Turns one located entry into the value a key reads: decode the payload, migrate it step by step
 * from the sender's version, check the key's `validate`. Every failure is a `DECODE_FAILED` that
 * names the key; the caller decides whether it drops the entry or fails the whole call.
 */
import { causeText, DContextError } from '../errors.js';
import type { KeyDefinition } from '../registry/types.js';
import { validationFailure } from '../store/write-checks.js';
import { codecTag, readPayload } from './codecs.js';
import { CODEC_NAMES, headerCodec, headerVersion } from './format.js';
import type { RawEntry } from './parse.js';

/** The `DECODE_FAILED` error for an entry of `name` that cannot be used. */
export function entryError(name: string, problem: string, cause?: unknown): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `context entry '${name}' from the wire is unusable: ${problem}`,
    name,
    cause === undefined ? undefined : { cause },
  );
}

/** Decodes, migrates and validates `entry` for `definition`; throws `DECODE_FAILED`. */
export function decodeEntry(
  bytes: Uint8Array,
  entry: RawEntry,
  definition: KeyDefinition,
): unknown {
  const name = definition.name;
  const version = headerVersion(entry.header);
  const tag = headerCodec(entry.header);
  // The receiver's registration decides the codec: a key registered with MessagePack must not
  // hand a sender's payload to superjson (or a custom codec), whatever the entry's tag says.
  const expected = codecTag(definition.codec);
  if (tag !== expected) {
    throw entryError(
      name,
      `it was sent with codec '${CODEC_NAMES[tag]}' but is registered here with codec '${CODEC_NAMES[expected]}'; register the key with the same codec on both sides`,
    );
  }
  let value: unknown;
  try {
    value = readPayload(bytes, entry.payload, entry.end, tag, definition.codec);
  } catch (cause) {
    throw entryError(
      name,
      `its ${CODEC_NAMES[tag]} payload (version ${version}) could not be decoded: ${causeText(cause)}`,
      cause,
    );
  }
  for (let from = version; from < definition.version; from++) {
    const migrate = definition.migrations.get(from);
    if (migrate === undefined) {
      throw entryError(
        name,
        `it was sent at version ${version}, this process has version ${definition.version}, and no migration from version ${from} is registered; add builder.registerMigration('${name}', ${from}, fn)`,
      );
    }
    try {
      value = migrate(value);
    } catch (cause) {
      throw entryError(
        name,
        `the migration from version ${from} threw: ${causeText(cause)}`,
        cause,
      );
    }
  }
  const failure = validationFailure(definition, value);
  if (failure !== undefined) {
    throw entryError(name, 'the value was rejected by its validate()', failure.cause);
  }
  return value;
}
