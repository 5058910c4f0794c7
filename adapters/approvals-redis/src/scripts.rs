//! The Lua scripts: every state change is one script, so Redis runs its checks and its writes
//! as one atomic step (no other command runs in between) and no client ever reads, decides and
//! writes back. Each script answers an array whose first element is an outcome code (`ok`,
//! `expired` when the script itself just expired the request, or an `approval.*` reason code)
//! followed by the request's fields as `HGETALL` gives them.
//!
//! Request keys are derived inside the scripts from the prefix (`ARGV`), because the token's
//! request id is only known once the token key is read. On Redis Cluster, all keys must then
//! share a slot: give the prefix a hash tag (`{mcppol}:approval:`).
//!
//! Times are the gateway's clock in milliseconds since the epoch, passed in (`now`), so one
//! injectable clock decides expiry for both stores; key TTLs are absolute (`PXAT`) and only
//! collect garbage, long after expiry.

use redis::Script;

/// A script's source and its SHA-1 (for `EVALSHA`).
#[derive(Debug)]
pub(crate) struct Lua {
    pub(crate) source: &'static str,
    pub(crate) hash: String,
}

impl Lua {
    fn new(source: &'static str) -> Self {
        Lua { source, hash: Script::new(source).get_hash().to_owned() }
    }
}

/// All scripts, hashed once per store.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) create: Lua,
    pub(crate) decide: Lua,
    pub(crate) consume: Lua,
    pub(crate) sweep: Lua,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Scripts {
            create: Lua::new(CREATE),
            decide: Lua::new(DECIDE),
            consume: Lua::new(CONSUME),
            sweep: Lua::new(SWEEP),
        }
    }
}

/// Opens a request. KEYS: request hash, token key, open set. ARGV: id, expires_at, keep_until
/// (absolute ms: when Redis drops the keys), then field/value pairs.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return {'approval.invalid'}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return {'ok'}
";

/// Approves or denies a pending request. KEYS: request hash, open set. ARGV: now, the new
/// state (`approved` or `denied`), who, the note (empty for none).
const DECIDE: &str = r"
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'approval.not_found'} end
local function reply(code)
  local all = redis.call('HGETALL', KEYS[1])
  table.insert(all, 1, code)
  return all
end
local id = redis.call('HGET', KEYS[1], 'id')
if (state == 'pending' or state == 'approved')
    and tonumber(ARGV[1]) >= tonumber(redis.call('HGET', KEYS[1], 'expires_at')) then
  redis.call('HSET', KEYS[1], 'state', 'expired', 'expired_at', ARGV[1])
  redis.call('ZREM', KEYS[2], id)
  return reply('expired')
end
if state ~= 'pending' then return reply('approval.not_pending') end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'decided_at', ARGV[1], 'decided_by', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'note', ARGV[4]) end
if ARGV[2] ~= 'approved' then redis.call('ZREM', KEYS[2], id) end
return reply('ok')
";

/// Uses a token. KEYS: token key, open set. ARGV: key prefix, now, then the presented binding:
/// policy_hash, principal, server, tool, args_digest, rule. Checks, in order: the token is
/// known; the request is not consumed, denied or expired (expiring it now if overdue); the
/// binding matches field by field; it is approved. Only then does it mark it consumed, so of
/// any number of concurrent consumers exactly one sees `approved`.
const CONSUME: &str = r"
local id = redis.call('GET', KEYS[1])
if not id then return {'approval.unknown_token'} end
local key = ARGV[1] .. 'req:' .. id
local state = redis.call('HGET', key, 'state')
if not state then return {'approval.unknown_token'} end
local function reply(code)
  local all = redis.call('HGETALL', key)
  table.insert(all, 1, code)
  return all
end
if state == 'consumed' then return reply('approval.consumed') end
if state == 'denied' then return reply('approval.denied') end
if state == 'expired' then return reply('approval.expired') end
if tonumber(ARGV[2]) >= tonumber(redis.call('HGET', key, 'expires_at')) then
  redis.call('HSET', key, 'state', 'expired', 'expired_at', ARGV[2])
  redis.call('ZREM', KEYS[2], id)
  return reply('expired')
end
local b = redis.call('HMGET', key, 'policy_hash', 'principal', 'server', 'tool', 'args_digest', 'rule')
if b[1] ~= ARGV[3] then return reply('approval.policy_changed') end
if b[2] ~= ARGV[4] then return reply('approval.principal_mismatch') end
if b[3] ~= ARGV[5] or b[4] ~= ARGV[6] then return reply('approval.tool_mismatch') end
if b[5] ~= ARGV[7] then return reply('approval.args_changed') end
if b[6] ~= ARGV[8] then return reply('approval.binding_mismatch') end
if state == 'pending' then return reply('approval.pending') end
if state ~= 'approved' then return reply('approval.malformed') end
redis.call('HSET', key, 'state', 'consumed', 'consumed_at', ARGV[2])
redis.call('ZREM', KEYS[2], id)
return reply('ok')
";

/// Expires overdue open requests. KEYS: open set. ARGV: key prefix, now, most to expire.
/// Answers one array per request it expired; ids whose request is gone (dropped by its TTL)
/// leave the set too, so the set never outgrows the open requests for long.
const SWEEP: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'req:' .. id
  local state = redis.call('HGET', key, 'state')
  redis.call('ZREM', KEYS[1], id)
  if state == 'pending' or state == 'approved' then
    redis.call('HSET', key, 'state', 'expired', 'expired_at', ARGV[2])
    table.insert(out, redis.call('HGETALL', key))
  end
end
return out
";
