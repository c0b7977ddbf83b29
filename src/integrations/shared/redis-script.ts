/**
 * The compare-and-set that makes a Redis commit atomic: one Lua script checks the version, writes
 * the record, pushes it onto the bounded history, sets the TTL and announces the commit, with no
 * other command in between (Redis runs a script alone).
 */
import { createHash } from 'node:crypto';

/**
 * KEYS: record hash (`v` version, `r` record bytes), history list.
 * ARGV: expected version, record bytes, history size, ttl ms (0: none), channel ('' : none), id.
 * Returns `{1}` when committed, else `{0, current record bytes or false}`.
 */
export const COMMIT_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'v')
if not current then current = '0' end
if current ~= ARGV[1] then
  return {0, redis.call('HGET', KEYS[1], 'r')}
end
local version = tostring(tonumber(ARGV[1]) + 1)
redis.call('HSET', KEYS[1], 'v', version, 'r', ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], version .. ' ' .. ARGV[6]) end
return {1}
`;

/** The script's SHA-1, for `EVALSHA` (`EVAL` loads it when the server does not have it yet). */
export const COMMIT_SHA = createHash('sha1').update(COMMIT_SCRIPT).digest('hex');
