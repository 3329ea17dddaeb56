/**
 * Lua sources of the inventory scripts. Each validates first and writes last (a Lua error keeps
 * writes made before it), and answers MISSING when the event's keys are gone (or not the ones
 * Postgres vouches for, see `trustedKeys`) so the caller reconciles from Postgres and retries.
 * KEYS: meta, slots, free, waitlist, waiting, the call's answer (see inventory.keys.ts).
 */

/** How long a script's answer is kept for a call sent again. */
export const ANSWER_RETENTION_SECONDS = 60;
/**
 * A call sent longer ago than this (by the sender's clock) is not run: had it run before, its
 * answer might be gone. Half the retention, so clocks may differ by up to that much.
 */
export const STALE_CALL_SECONDS = ANSWER_RETENTION_SECONDS / 2;

/**
 * Runs `body` once per call: KEYS[6] is the call's own answer key (named by an operation id) and
 * the last ARGV when it was sent (Unix seconds). The same call sent again gets the first run's
 * answer. The client re-sends the calls still unanswered when its connection to Redis drops and
 * comes back, and running a decision twice would take seats or a waitlist place (or promote
 * someone) that nobody records. A call that comes too late to be sure it never ran answers
 * STALE, running nothing. An answer expires ANSWER_RETENTION_SECONDS after it was given.
 */
const answeredOnce = (body: string) => `
local kept = redis.call('GET', KEYS[6])
if kept then return cjson.decode(kept) end
if tonumber(redis.call('TIME')[1]) - tonumber(ARGV[#ARGV]) > ${STALE_CALL_SECONDS} then
  return {'STALE'}
end
local function run()
${body}
end
local answer = run()
redis.call('SET', KEYS[6], cjson.encode(answer), 'EX', ${ANSWER_RETENTION_SECONDS})
return answer
`;

/**
 * Whether the keys are those Postgres records (`trusted`, the event's `redis_generation`, read
 * under the event lock, so no rebuild is under way): only keys of that generation are decided
 * on. A failed rebuild whose keys could not be dropped records a generation no keys carry, so
 * whatever Redis still holds is rebuilt before use. Keys of a rebuild Postgres records committed
 * even when their mark was not cleared yet: this clears it. '' (an event rebuilt before
 * generations were recorded) trusts keys whose rebuild marked them committed.
 */
const trustedKeys = `
local function trusted_keys(trusted)
  if trusted == '' then return not redis.call('HGET', KEYS[1], 'pending') end
  if redis.call('HGET', KEYS[1], 'gen') ~= trusted then return false end
  if redis.call('HGET', KEYS[1], 'pending') == trusted then redis.call('HDEL', KEYS[1], 'pending') end
  return true
end
`;

/**
 * Seats that may be sold: the free seats less `over`, the seats still booked beyond a lowered
 * capacity (lowering never cancels a booking, so the event may hold more than its total until
 * they are released).
 */
const sellable = `
local function sellable()
  local free = redis.call('ZCARD', KEYS[3]) - tonumber(redis.call('HGET', KEYS[1], 'over') or 0)
  if free < 0 then return 0 end
  return free
end
`;

/** Takes the `need` lowest free seats. */
const takeLowest = `
local function take_lowest(need)
  local picked = redis.call('ZRANGE', KEYS[3], 0, need - 1)
  redis.call('ZREM', KEYS[3], unpack(picked))
  return picked
end
`;

/**
 * How many wait for each seat count (meta fields `w<seats>`, and `wcount` for all of them), so
 * that first_fit need not walk a waitlist nobody in which fits. `wseq` is the `seq` the counts
 * were last known right at: a reserve by a replica of a release without counts moves `seq` but
 * not `wseq`, and its removals make `wcount` differ from the waitlist's size, so counts that
 * anything but these scripts touched are never trusted; the next rebuild makes them right again.
 */
const countWaiting = `
local function count_waiting(seats, by)
  local field = 'w' .. seats
  if redis.call('HINCRBY', KEYS[1], field, by) <= 0 then redis.call('HDEL', KEYS[1], field) end
  redis.call('HINCRBY', KEYS[1], 'wcount', by)
end
local function nobody_fits(free)
  local m = redis.call('HMGET', KEYS[1], 'wseq', 'seq', 'wcount')
  if not m[1] or m[1] ~= m[2] or tonumber(m[3]) ~= redis.call('ZCARD', KEYS[4]) then
    return false
  end
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local seats = string.match(fields[i], '^w(%d+)$')
    if seats and tonumber(seats) <= free and tonumber(fields[i + 1]) > 0 then return false end
  end
  return true
end
`;

/**
 * Promotes waiting bookings into free seats per policy: fifo stops at a head that does not fit;
 * first_fit skips it, and looks no further when the counts say nobody waiting fits. A waiting
 * booking is never split. Returns "id:seat,seat" entries.
 */
const promote = `
local function promote(policy)
  local promotions = {}
  local free = sellable()
  local skipped = 0
  if policy ~= 'fifo' and free > 0 and nobody_fits(free) then
    redis.call('SET', KEYS[2], free)
    return promotions
  end
  while free > 0 do
    local batch = redis.call('ZRANGE', KEYS[4], skipped, skipped + 99)
    if #batch == 0 then break end
    local stop = false
    for _, id in ipairs(batch) do
      local need = tonumber(redis.call('HGET', KEYS[5], id))
      if need <= free then
        local picked = take_lowest(need)
        redis.call('ZREM', KEYS[4], id)
        redis.call('HDEL', KEYS[5], id)
        count_waiting(need, -1)
        free = free - need
        promotions[#promotions + 1] = id .. ':' .. table.concat(picked, ',')
      elseif policy == 'fifo' then
        stop = true
        break
      else
        skipped = skipped + 1
      end
      if free == 0 then break end
    end
    if stop then break end
  end
  redis.call('SET', KEYS[2], free)
  return promotions
end
`;

/**
 * ARGV: bookingId, seats, seatNumbers (comma-separated, may be empty), the generation Postgres
 * records for the event (`trusted`, read under the event lock; '' when it records none), sent at.
 * → {'confirmed', seq, generation, seat...} | {'waiting', seq, waitingNumber, position, generation}
 *   | {'SEATS_TAKEN'} | {'MISSING'}: no keys, keys of another generation than `trusted`, or (none
 *   trusted) keys whose rebuild has not marked them committed (see `REBUILD_LUA`).
 * `generation` names the rebuild that made the keys decided on (see `compensate`).
 */
export const RESERVE_LUA = answeredOnce(`
${trustedKeys}
${sellable}
${takeLowest}
${countWaiting}
-- Counts right before this call stay right after it: wseq follows seq.
local function next_seq()
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  if redis.call('HGET', KEYS[1], 'wseq') == tostring(seq - 1) then
    redis.call('HSET', KEYS[1], 'wseq', seq)
  end
  return seq
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'MISSING'} end
if not trusted_keys(ARGV[4]) then return {'MISSING'} end
local id = ARGV[1]
local seats = tonumber(ARGV[2])
local wanted = {}
for s in string.gmatch(ARGV[3], '%d+') do wanted[#wanted + 1] = s end
local policy = redis.call('HGET', KEYS[1], 'policy')
for _, s in ipairs(wanted) do
  if not redis.call('ZSCORE', KEYS[3], s) then return {'SEATS_TAKEN'} end
end
local free = sellable()
-- fifo: while anyone waits, a newcomer waits behind them. first_fit: waiting bookings were
-- already served by every release, so whatever is free now is the newcomer's to take.
local must_wait = policy == 'fifo' and redis.call('ZCARD', KEYS[4]) > 0
-- Seats are chosen to be held at once, never to wait for: free seats held back for the waitlist
-- (fifo, while anyone waits) or for bookings beyond a lowered capacity are not for sale by number.
if #wanted > 0 and (must_wait or seats > free) then return {'SEATS_TAKEN'} end
if not must_wait and seats <= free then
  local picked
  if #wanted > 0 then
    redis.call('ZREM', KEYS[3], unpack(wanted))
    picked = wanted
  else
    picked = take_lowest(seats)
  end
  redis.call('SET', KEYS[2], free - seats)
  local seq = next_seq()
  return {'confirmed', seq, redis.call('HGET', KEYS[1], 'gen') or '', unpack(picked)}
end
local number = redis.call('HINCRBY', KEYS[1], 'next', 1)
local seq = next_seq()
redis.call('ZADD', KEYS[4], number, id)
redis.call('HSET', KEYS[5], id, seats)
count_waiting(seats, 1)
return {'waiting', seq, number, redis.call('ZRANK', KEYS[4], id) + 1,
  redis.call('HGET', KEYS[1], 'gen') or ''}
`);

/**
 * Returns a booking's hold (seats of a confirmed one, the place of a waiting one), then promotes.
 * ARGV: bookingId, previous status ('confirmed' | 'waiting' | '' to only promote), seats csv,
 * the mode ('' a cancellation's release, before it commits; '1' a give-back of a hold Postgres
 * never recorded, see `Inventory.compensate`; '2' a committed cancellation's seats beyond a
 * lowered capacity, see `Inventory.settleBeyondTotal`), a generation ('' for any): for a
 * cancellation the one Postgres records for the event (as `RESERVE_LUA`'s), otherwise the one
 * the hold was taken in; for a cancellation only, the token of the last release Postgres records
 * (`event_inventory.last_release`, '' for none) and its own transaction's token, which its
 * transaction records there and the keys keep as `lastrelease` (a rebuild's keys have none);
 * sent at.
 * → {'OK', generation, 'id:seat,seat', ...} | {'MISSING'}
 */
export const RELEASE_LUA = answeredOnce(`
${trustedKeys}
${sellable}
${takeLowest}
${countWaiting}
${promote}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'MISSING'} end
local generation = redis.call('HGET', KEYS[1], 'gen') or ''
if ARGV[4] == '' then
  -- A cancellation names the generation Postgres records: any other keys are as good as missing.
  if not trusted_keys(ARGV[5]) then return {'MISSING'} end
  -- It holds the release lock, so the release before it has committed or never will: keys whose
  -- last release is neither the one Postgres records nor this transaction's own hold what a
  -- failed cancellation released and promoted.
  local last = redis.call('HGET', KEYS[1], 'lastrelease')
  if last and last ~= ARGV[6] and last ~= ARGV[7] then return {'MISSING'} end
  redis.call('HSET', KEYS[1], 'lastrelease', ARGV[7])
else
  -- Taken before a rebuild: the rebuilt keys hold Postgres's state, which never had the hold, and
  -- its seats may be someone else's since. Nothing to return.
  if ARGV[5] ~= '' and ARGV[5] ~= generation then return {'OK', generation} end
  -- A settle names the keys its release was made on, even unnamed ones (from before generations).
  if ARGV[4] == '2' and ARGV[5] ~= generation then return {'OK', generation} end
  -- Keys whose rebuild has not committed are the rebuild's alone: only its own calls name them.
  if ARGV[5] ~= generation and redis.call('HGET', KEYS[1], 'pending') then
    return {'MISSING'}
  end
end
local id = ARGV[1]
local status = ARGV[2]
if status == 'confirmed' then
  local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
  for s in string.gmatch(ARGV[3], '%d+') do
    -- A seat beyond a lowered capacity does not come back. Booked in Postgres, it was counted in
    -- 'over' by the rebuild that lowered the capacity, which a cancellation lowers only once it
    -- has committed ('2'): lowered before, a seat within the capacity could be sold on it, and
    -- stay sold when the cancellation then failed. Given back, it never was counted.
    if tonumber(s) <= total then
      if ARGV[4] ~= '2' then redis.call('ZADD', KEYS[3], s, s) end
    elseif ARGV[4] == '2' and tonumber(redis.call('HGET', KEYS[1], 'over') or 0) > 0 then
      redis.call('HINCRBY', KEYS[1], 'over', -1)
    end
  end
elseif status == 'waiting' then
  local need = redis.call('HGET', KEYS[5], id)
  if redis.call('ZREM', KEYS[4], id) == 1 and need then count_waiting(tonumber(need), -1) end
  redis.call('HDEL', KEYS[5], id)
end
local promotions = promote(redis.call('HGET', KEYS[1], 'policy'))
table.insert(promotions, 1, generation)
table.insert(promotions, 1, 'OK')
return promotions
`);

/**
 * Replaces an event's keys with the state Postgres holds, then promotes whoever now fits. The
 * keys are left `pending` (the new generation) until the rebuild's transaction has committed
 * (`COMMITTED_LUA`): meanwhile no call but the rebuild's own decides on them (they answer MISSING),
 * so a transaction that fails to commit, its locks gone before its caller can drop the keys,
 * leaves nothing anyone decides on — its caller or the next request rebuilds them from Postgres.
 * A booking or cancellation naming the generation recorded in Postgres (the rebuild committed)
 * marks them committed itself (`trustedKeys`).
 * ARGV: total, policy, next, seq, booked seats csv, waiting entries csv of "id:seats:number",
 * generation (new and unique: names these keys), sent at.
 * → {'OK', generation, 'id:seat,seat', ...}
 */
export const REBUILD_LUA = answeredOnce(`
${sellable}
${takeLowest}
${countWaiting}
${promote}
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
local total = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'total', total, 'policy', ARGV[2], 'next', ARGV[3], 'seq', ARGV[4],
  'gen', ARGV[7], 'wseq', ARGV[4], 'wcount', 0, 'pending', ARGV[7])
local booked = {}
local over = 0
for s in string.gmatch(ARGV[5], '%d+') do
  booked[tonumber(s)] = true
  if tonumber(s) > total then over = over + 1 end
end
redis.call('HSET', KEYS[1], 'over', over)
local batch = {}
for s = 1, total do
  if not booked[s] then
    batch[#batch + 1] = s
    batch[#batch + 1] = s
    if #batch >= 2000 then
      redis.call('ZADD', KEYS[3], unpack(batch))
      batch = {}
    end
  end
end
if #batch > 0 then redis.call('ZADD', KEYS[3], unpack(batch)) end
for id, seats, number in string.gmatch(ARGV[6], '([^:,]+):(%d+):(%d+)') do
  redis.call('ZADD', KEYS[4], number, id)
  redis.call('HSET', KEYS[5], id, seats)
  count_waiting(tonumber(seats), 1)
end
local promotions = promote(ARGV[2])
table.insert(promotions, 1, ARGV[7])
table.insert(promotions, 1, 'OK')
return promotions
`);

/**
 * Whether a decision whose transaction failed still holds, to be written again as it was: the
 * keys are still those it was taken on (same generation, committed) and, for a waiting booking,
 * it is still on the waitlist at its number (a release may have promoted it meanwhile). A
 * confirmed booking's seats go back only through its own give-back or a rebuild, so the
 * generation says they are still its. KEYS: meta, waitlist. ARGV: generation, bookingId, waiting
 * number ('' for a confirmed booking). → 1 | 0
 */
export const HOLDS_LUA = `
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'pending') then
  return 0
end
if ARGV[3] == '' then return 1 end
local number = redis.call('ZSCORE', KEYS[2], ARGV[2])
if number and tonumber(number) == tonumber(ARGV[3]) then return 1 end
return 0
`;

/** The rebuild that made the keys committed: they may be decided on. ARGV: its generation. */
export const COMMITTED_LUA = `
if redis.call('HGET', KEYS[1], 'pending') == ARGV[1] then redis.call('HDEL', KEYS[1], 'pending') end
return 1
`;

/** Deletes the lock only when it still holds our token. ARGV: token. */
export const UNLOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
