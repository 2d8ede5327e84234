/*
 * Test-only contract (not an example, not deployed): exposes the SDK's u256 arithmetic, ABI decoding/encoding and
 * storage helpers through calls, so contracts/sdk.test.ts can check them against BigInt and viem.
 * Its ABI lives in the test (viem parseAbi).
 */
#include "../sdk/rustchain.h"

#define SEL_ADD RC_SEL("add(uint256,uint256)", 0x771602f7)
#define SEL_SUB RC_SEL("sub(uint256,uint256)", 0xb67d77c5)
#define SEL_MUL RC_SEL("mul(uint256,uint256)", 0xc8a4ac9c)
#define SEL_DIVMOD RC_SEL("divmod(uint256,uint32)", 0x3ea75975)
#define SEL_CMP RC_SEL("cmp(uint256,uint256)", 0x3bce3e26)
#define SEL_ECHO RC_SEL("echo(bytes,string,address,bool,uint8)", 0x99426311)
#define SEL_SUM_INT8 RC_SEL("sumInt8(int8[])", 0x54579218)
#define SEL_SUM_WORDS RC_SEL("sumWords(uint256[])", 0x5a761098)
#define SEL_ECHO_WORDS RC_SEL("echoWords(uint256[],bytes)", 0xc83efc4d)
#define SEL_STORE_BYTES RC_SEL("storeBytes(uint256,bytes)", 0xf41741fa)
#define SEL_LOAD_BYTES RC_SEL("loadBytes(uint256)", 0x3cf6e4c6)
#define SEL_NESTED RC_SEL("nested(address,address)", 0x8d4b1061)
#define SEL_FAIL RC_SEL("fail(string)", 0x78122f3a)
#define SEL_PANIC RC_SEL("panic(uint256)", 0x72f40a6b)

/* (uint256 result, bool flag) */
RC_NORETURN static void return_u256_flag(const u256 *r, int flag) {
  abi_enc e = abi_enc_new(2, 0);
  abi_enc_u256(&e, 0, r);
  abi_enc_bool(&e, 1, flag);
  abi_enc_return(&e);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_ADD:
  case SEL_SUB:
  case SEL_MUL: {
    u256 a = abi_u256(&args, 0), b = abi_u256(&args, 1), r;
    int flag = selector == SEL_ADD ? u256_add(&r, &a, &b) : selector == SEL_SUB ? u256_sub(&r, &a, &b) : u256_mul(&r, &a, &b);
    return_u256_flag(&r, flag);
  }
  case SEL_DIVMOD: {
    u256 a = abi_u256(&args, 0), q;
    uint64_t d = abi_u64(&args, 1);
    if (d > 0xffffffffull) rc_revert_empty();
    u256 rem = u256_from_u64(u256_divmod_u32(&q, &a, (uint32_t)d));
    abi_enc e = abi_enc_new(2, 0);
    abi_enc_u256(&e, 0, &q);
    abi_enc_u256(&e, 1, &rem);
    abi_enc_return(&e);
  }
  case SEL_CMP: {
    u256 a = abi_u256(&args, 0), b = abi_u256(&args, 1);
    int c = u256_cmp(&a, &b);
    uint8_t w[32];
    memset(w, c < 0 ? 0xff : 0, 32); /* int256 */
    w[31] = (uint8_t)c;
    return_word(w);
  }
  case SEL_ECHO: {
    rc_bytes b = abi_bytes(&args, 0);
    rc_bytes s = abi_string(&args, 1);
    rc_address a = abi_address(&args, 2);
    int f = abi_bool(&args, 3);
    uint8_t u = abi_uint8(&args, 4);
    abi_enc e = abi_enc_new(5, abi_tail_size(b.len) + abi_tail_size(s.len));
    abi_enc_bytes(&e, 0, b.ptr, b.len);
    abi_enc_bytes(&e, 1, s.ptr, s.len);
    abi_enc_address(&e, 2, &a);
    abi_enc_bool(&e, 3, f);
    abi_enc_u64(&e, 4, u);
    abi_enc_return(&e);
  }
  case SEL_SUM_INT8: {
    uint32_t n;
    int8_t *xs = abi_int8_array(&args, 0, &n);
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += xs[i];
    uint8_t w[32];
    memset(w, sum < 0 ? 0xff : 0, 32); /* int256 */
    for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)((uint64_t)sum >> (8 * i));
    return_word(w);
  }
  case SEL_SUM_WORDS: {
    uint32_t n;
    const uint8_t *w = abi_words(&args, 0, &n);
    u256 sum = u256_zero();
    int overflow = 0;
    for (uint32_t i = 0; i < n; i++) {
      u256 x = u256_from_be(w + 32u * i);
      overflow |= u256_add(&sum, &sum, &x);
    }
    return_u256_flag(&sum, overflow);
  }
  case SEL_ECHO_WORDS: {
    uint32_t n;
    const uint8_t *w = abi_words(&args, 0, &n);
    rc_bytes b = abi_bytes(&args, 1);
    abi_enc e = abi_enc_new(2, abi_tail_size(32u * n) + abi_tail_size(b.len));
    uint32_t at = e.len;
    abi_enc_bytes(&e, 0, w, 32u * n); /* an array is laid out as bytes of 32n bytes... */
    word_from_u64(e.buf + at, n);     /* ...but its length word counts elements */
    abi_enc_bytes(&e, 1, b.ptr, b.len);
    abi_enc_return(&e);
  }
  case SEL_STORE_BYTES: {
    rc_bytes data = abi_bytes(&args, 1);
    sstore_bytes(abi_bytes32(&args, 0), data.ptr, data.len);
    return_void();
  }
  case SEL_LOAD_BYTES: {
    rc_bytes data = sload_bytes(abi_bytes32(&args, 0));
    return_bytes(data.ptr, data.len);
  }
  case SEL_NESTED: {
    rc_address a = abi_address(&args, 0), b = abi_address(&args, 1);
    uint8_t slot[32], out[32];
    slot_of(slot, 1);
    mapping2_slot_address(out, &a, &b, slot);
    return_word(out);
  }
  case SEL_FAIL: {
    rc_bytes msg = abi_string(&args, 0);
    revert_with_error_bytes((const char *)msg.ptr, msg.len);
  }
  case SEL_PANIC:
    revert_panic((uint32_t)abi_u64(&args, 0));
  default:
    rc_revert_empty();
  }
}
