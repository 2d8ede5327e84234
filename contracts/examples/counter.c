/*
 * Counter: the smallest useful contract.
 *   count() view returns (uint256)
 *   increment()            count += 1, emits Incremented(count)
 *   add(uint256 amount)    count += amount (Panic(0x11) on overflow), emits Incremented(count)
 * No constructor: the module exports no `deploy`.
 */
#include "../sdk/rustchain.h"

#define SEL_COUNT RC_SEL("count()", 0x06661abd)
#define SEL_INCREMENT RC_SEL("increment()", 0xd09de08a)
#define SEL_ADD RC_SEL("add(uint256)", 0x1003e2d2)

#define TOPIC_INCREMENTED                                                                                      \
  RC_TOPIC("Incremented(uint256)",                                                                             \
           "\x20\xd8\xa6\xf5\xa6\x93\xf9\xd1\xd6\x27\xa5\x98\xe8\x82\x0f\x7a"                                  \
           "\x55\xee\x74\xc1\x83\xaa\x8f\x1a\x30\xe8\xd4\xe8\xdd\x9a\x8d\x84")

static const uint8_t SLOT_COUNT[32] = {[31] = 0};

static void add_to_count(const u256 *amount) {
  u256 count = sload_u256(SLOT_COUNT);
  count = u256_add_checked(&count, amount);
  sstore_u256(SLOT_COUNT, &count);
  uint8_t data[32];
  u256_to_be(&count, data);
  emit_event0(TOPIC_INCREMENTED, data, 32); /* newValue is not indexed: it is the data */
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_COUNT: {
    uint8_t w[32];
    sload(SLOT_COUNT, w);
    return_word(w);
  }
  case SEL_INCREMENT: {
    u256 one = u256_from_u64(1);
    add_to_count(&one);
    return_void();
  }
  case SEL_ADD: {
    u256 amount = abi_u256(&args, 0);
    add_to_count(&amount);
    return_void();
  }
  default:
    rc_revert_empty();
  }
}
