/*
 * Trace caller (tests/traces.e2e.test.ts): the outer contract of the call-trace tests.
 *   callBoth(address b, uint256 x) payable returns (uint256)
 *       b.echo{value: 7}(x) (which calls pong() back), then b.fail(), whose revert it tolerates; emits Done(result)
 *   callAndRevert(address b, uint256 x) payable
 *       b.echo{value: 7}(x), then reverts with Error("caller gives up")
 *   pong()  emits Ponged()
 */
#include "../sdk/rustchain.h"

#define SEL_CALL_BOTH RC_SEL("callBoth(address,uint256)", 0xfb3ddc40)
#define SEL_CALL_AND_REVERT RC_SEL("callAndRevert(address,uint256)", 0x25065475)
#define SEL_PONG RC_SEL("pong()", 0xbc9748a1)
/* echo(uint256) and fail() of the callee (trace_callee.c): not this contract's functions, so not RC_SELs. */
#define CALLEE_ECHO_SELECTOR 0x6279e43cu
#define CALLEE_FAIL_SELECTOR 0xa9cc4718u

#define TOPIC_PONGED                                                                                           \
  RC_TOPIC("Ponged()",                                                                                         \
           "\x3d\x9f\x66\xdb\x2a\xc8\x46\xa0\xc9\xee\xbd\x82\xe8\xe3\xff\x2f"                                  \
           "\xce\x95\xe6\x67\xd4\x28\x21\x76\x58\x7c\xce\xf1\xdb\xcb\x5f\x9f")
#define TOPIC_DONE                                                                                             \
  RC_TOPIC("Done(uint256)",                                                                                    \
           "\x6b\xb8\x41\x34\x8c\x5a\x71\x16\x9a\x2d\xb8\x77\x9d\x29\x69\x9a"                                  \
           "\xfa\x57\x6c\x10\x7c\x1b\xf7\xc3\x3c\x31\x93\xae\x1e\x98\x0b\xa2")

/* b.echo{value: 7}(x) with all the gas left; its answer. */
static u256 echo_via(const rc_address *b, const u256 *x) {
  uint8_t data[36];
  rc_put_u32_be(data, CALLEE_ECHO_SELECTOR);
  u256_to_be(x, data + 4);
  u256 seven = u256_from_u64(7);
  if (call_contract(b, &seven, 0, data, 36) != 0 || returndata_size() != 32) revert_with_error_string("echo failed");
  uint8_t w[32];
  returndata_copy(w, 0, 32);
  return u256_from_be(w);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_CALL_BOTH: {
    rc_address b = abi_address(&args, 0);
    u256 x = abi_u256(&args, 1);
    u256 r = echo_via(&b, &x);
    uint8_t fail[4];
    rc_put_u32_be(fail, CALLEE_FAIL_SELECTOR);
    u256 zero = u256_zero();
    if (call_contract(&b, &zero, 0, fail, 4) != 1) revert_with_error_string("fail() did not revert");
    uint8_t data[32];
    u256_to_be(&r, data);
    emit_event0(TOPIC_DONE, data, 32);
    return_u256(&r);
  }
  case SEL_CALL_AND_REVERT: {
    rc_address b = abi_address(&args, 0);
    u256 x = abi_u256(&args, 1);
    echo_via(&b, &x);
    revert_with_error_string("caller gives up");
  }
  case SEL_PONG:
    rc_require_nonpayable();
    emit_event0(TOPIC_PONGED, NULL, 0);
    return_void();
  default:
    rc_revert_empty();
  }
}
