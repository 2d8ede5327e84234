/*
 * Trace callee (tests/traces.e2e.test.ts): the inner contract of the call-trace tests.
 *   echo(uint256 x) payable returns (uint256)  emits Echoed(x), calls pong() back on its caller, returns x + 1
 *   fail()                                     reverts with Error("callee says no")
 */
#include "../sdk/rustchain.h"

#define SEL_ECHO RC_SEL("echo(uint256)", 0x6279e43c)
#define SEL_FAIL RC_SEL("fail()", 0xa9cc4718)
/* pong() of the caller (trace_caller.c): not this contract's function, so not an RC_SEL. */
#define CALLER_PONG_SELECTOR 0xbc9748a1u

#define TOPIC_ECHOED                                                                                           \
  RC_TOPIC("Echoed(uint256)",                                                                                  \
           "\x77\x40\xd9\x44\xf2\x92\x11\xa5\x4f\x39\x84\x58\x3c\x3a\x7b\x6c"                                  \
           "\xca\x32\xe2\x25\x6b\x3a\x2d\x4a\x72\xb0\x5c\x32\x16\xf9\x6b\xd3")

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_ECHO: {
    u256 x = abi_u256(&args, 0);
    uint8_t data[32];
    u256_to_be(&x, data);
    emit_event0(TOPIC_ECHOED, data, 32);
    rc_address caller = msg_sender();
    uint8_t pong[4];
    rc_put_u32_be(pong, CALLER_PONG_SELECTOR);
    u256 zero = u256_zero();
    if (call_contract(&caller, &zero, 0, pong, 4) != 0) revert_with_error_string("pong failed");
    u256 one = u256_from_u64(1);
    u256 r = u256_add_checked(&x, &one);
    return_u256(&r);
  }
  case SEL_FAIL:
    revert_with_error_string("callee says no");
  default:
    rc_revert_empty();
  }
}
