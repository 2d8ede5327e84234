/*
 * rustchain.h: the RustChain contract SDK (C, freestanding, wasm32).
 *
 * One header, no libc. A contract is a single C file that includes this header and exports
 *   RC_EXPORT("call")   void call(void)     runs for every call, dispatches on the 4-byte selector
 *   RC_EXPORT("deploy") void deploy(void)   optional constructor, calldata = ABI-encoded constructor args
 * The contract ABI is Ethereum's (docs/runtime.md): calldata, return data, Error(string) reverts, logs.
 *
 * Conventions
 *   - A "word" is 32 bytes big-endian (values, storage keys and values, hashes, topics).
 *   - An address is 20 bytes.
 *   - u256 is 4 x uint64 limbs, least significant first; convert with u256_from_be / u256_to_be.
 *   - Every function that "returns" or "reverts" to the caller ends the call and never comes back.
 *   - Memory comes from a bump allocator (rc_alloc) that is never freed: a call is short-lived.
 *   - No floating point anywhere (the runtime rejects f32/f64).
 *
 * Selectors and event topics are hardcoded through RC_SEL / RC_TOPIC, which carry the signature as their first
 * argument; `npm run contracts:build` checks every one against keccak256(signature) and against the ABI JSON.
 */
#ifndef RUSTCHAIN_H
#define RUSTCHAIN_H

typedef __UINT8_TYPE__ uint8_t;
typedef __INT8_TYPE__ int8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT64_TYPE__ int64_t;
typedef __SIZE_TYPE__ size_t;

_Static_assert(sizeof(void *) == 4, "rustchain contracts are wasm32");
_Static_assert(sizeof(uint64_t) == 8, "uint64_t");

#ifndef NULL
#define NULL ((void *)0)
#endif

/* ------------------------------------------------------------------------------------------------------------ */
/* Attributes                                                                                                    */
/* ------------------------------------------------------------------------------------------------------------ */

#define RC_EXPORT(name) __attribute__((export_name(name), visibility("default")))
#define RC_IMPORT(name) __attribute__((import_module("rustchain"), import_name(name)))
#define RC_NORETURN __attribute__((noreturn))
#define RC_INLINE static inline __attribute__((always_inline))
#define RC_FN static inline
#define RC_NOINLINE static __attribute__((noinline, unused))

/* A 4-byte function selector, written as RC_SEL("transfer(address,uint256)", 0xa9059cbb).
   The signature is only for the build script, which verifies the value; the expression is the integer. */
#define RC_SEL(signature, value) (value##u)
/* A 32-byte event topic: RC_TOPIC("Transfer(address,address,uint256)", "\xdd\xf2...") with all 32 bytes
   escaped. Evaluates to a `const uint8_t *`. Verified by the build script. */
#define RC_TOPIC(signature, bytes) ((const uint8_t *)(bytes))

/* ------------------------------------------------------------------------------------------------------------ */
/* Host imports (module "rustchain", docs/runtime.md). Pointers are offsets into this module's memory.         */
/* ------------------------------------------------------------------------------------------------------------ */

RC_IMPORT("calldata_size") int32_t rc_host_calldata_size(void);
RC_IMPORT("calldata_copy") void rc_host_calldata_copy(void *dest, uint32_t offset, uint32_t len);
RC_IMPORT("finish") void rc_host_finish(const void *ptr, uint32_t len);
RC_IMPORT("revert") void rc_host_revert(const void *ptr, uint32_t len);
RC_IMPORT("storage_read") void rc_host_storage_read(const uint8_t *key, uint8_t *out);
RC_IMPORT("storage_write") void rc_host_storage_write(const uint8_t *key, const uint8_t *value);
RC_IMPORT("caller") void rc_host_caller(uint8_t *out20);
RC_IMPORT("origin") void rc_host_origin(uint8_t *out20);
RC_IMPORT("self_address") void rc_host_self_address(uint8_t *out20);
RC_IMPORT("call_value") void rc_host_call_value(uint8_t *out32);
RC_IMPORT("block_number") int64_t rc_host_block_number(void);
RC_IMPORT("block_timestamp") int64_t rc_host_block_timestamp(void);
RC_IMPORT("chain_id") int64_t rc_host_chain_id(void);
RC_IMPORT("gas_left") int64_t rc_host_gas_left(void);
RC_IMPORT("emit_log") void rc_host_emit_log(const uint8_t *topics, uint32_t topic_count, const void *data, uint32_t len);
RC_IMPORT("balance") void rc_host_balance(const uint8_t *addr20, uint8_t *out32);
RC_IMPORT("call")
int32_t rc_host_call(const uint8_t *addr20, const uint8_t *value32, int64_t gas, const void *data, uint32_t len);
RC_IMPORT("returndata_size") int32_t rc_host_returndata_size(void);
RC_IMPORT("returndata_copy") void rc_host_returndata_copy(void *dest, uint32_t offset, uint32_t len);
RC_IMPORT("keccak256") void rc_host_keccak256(const void *ptr, uint32_t len, uint8_t *out32);
RC_IMPORT("blake3") void rc_host_blake3(const void *ptr, uint32_t len, uint8_t *out32);
RC_IMPORT("ai_matmul_i8")
void rc_host_ai_matmul_i8(const int8_t *a, const int8_t *b, int32_t *out, uint32_t m, uint32_t k, uint32_t n);
RC_IMPORT("ai_requantize")
void rc_host_ai_requantize(const int32_t *in, int8_t *out, uint32_t len, uint32_t multiplier, uint32_t shift);
RC_IMPORT("ai_relu_i8") void rc_host_ai_relu_i8(int8_t *ptr, uint32_t len);
RC_IMPORT("ai_argmax_i8") int32_t rc_host_ai_argmax_i8(const int8_t *ptr, uint32_t len);
RC_IMPORT("ai_mlp_forward")
int32_t rc_host_ai_mlp_forward(const uint8_t *model, uint32_t model_len, const int8_t *input, int8_t *out);
RC_IMPORT("groth16_verify")
int32_t rc_host_groth16_verify(const uint8_t *vk, uint32_t vk_len, const uint8_t *proof, const uint8_t *inputs,
                               uint32_t input_count);
RC_IMPORT("secp256k1_recover")
int32_t rc_host_secp256k1_recover(const uint8_t *hash32, const uint8_t *sig65, uint8_t *out20);
RC_IMPORT("sha256") void rc_host_sha256(const void *ptr, uint32_t len, uint8_t *out32);
RC_IMPORT("code_hash") void rc_host_code_hash(const uint8_t *addr20, uint8_t *out32);

/* ------------------------------------------------------------------------------------------------------------ */
/* The few libc functions clang may call (struct copies, zero-initialisation). Weak, so a contract may bring    */
/* its own. `no_builtin` stops clang from turning these very loops back into calls to themselves.               */
/* ------------------------------------------------------------------------------------------------------------ */

/* wasm loads and stores may be unaligned: copy 8 bytes at a time. */
typedef uint64_t __attribute__((aligned(1), may_alias)) rc_u64_unaligned;

__attribute__((weak, no_builtin("memcpy"))) void *memcpy(void *dest, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dest;
  const uint8_t *s = (const uint8_t *)src;
  for (; n >= 8; n -= 8, d += 8, s += 8) *(rc_u64_unaligned *)d = *(const rc_u64_unaligned *)s;
  while (n--) *d++ = *s++;
  return dest;
}

__attribute__((weak, no_builtin("memmove"))) void *memmove(void *dest, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dest;
  const uint8_t *s = (const uint8_t *)src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else if (d > s) {
    while (n--) d[n] = s[n];
  }
  return dest;
}

__attribute__((weak, no_builtin("memset"))) void *memset(void *dest, int c, size_t n) {
  uint8_t *d = (uint8_t *)dest;
  uint64_t v = (uint8_t)c * 0x0101010101010101ull;
  for (; n >= 8; n -= 8, d += 8) *(rc_u64_unaligned *)d = v;
  while (n--) *d++ = (uint8_t)c;
  return dest;
}

__attribute__((weak, no_builtin("memcmp"))) int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = (const uint8_t *)a;
  const uint8_t *y = (const uint8_t *)b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Ending a call                                                                                                */
/* ------------------------------------------------------------------------------------------------------------ */

/* Stop successfully with return data. */
RC_NORETURN RC_FN void rc_finish(const void *ptr, uint32_t len) {
  rc_host_finish(ptr, len);
  __builtin_trap(); /* the host never returns from finish */
}

/* Stop, undo this frame's state changes, revert data = ptr[0..len]. */
RC_NORETURN RC_FN void rc_revert(const void *ptr, uint32_t len) {
  rc_host_revert(ptr, len);
  __builtin_trap();
}

/* Revert with empty data (what Solidity does for bad calldata, a value sent to a non-payable function...). */
RC_NORETURN RC_FN void rc_revert_empty(void) { rc_revert(NULL, 0); }

/* Trap: all gas is consumed (use only for "cannot happen"). */
RC_NORETURN RC_INLINE void rc_trap(void) { __builtin_trap(); }

/* ------------------------------------------------------------------------------------------------------------ */
/* Memory                                                                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

extern uint8_t __heap_base; /* provided by wasm-ld: first byte after the stack and the data */
static uint32_t rc_heap_top;

/* Bump allocation, 8-byte aligned, growing the memory as needed (metered by the runtime). Never freed.
   Fresh pages are zero, but do not rely on that: use rc_alloc_zero. Traps when over 4 MiB. */
RC_NOINLINE void *rc_alloc(uint32_t size) {
  if (rc_heap_top == 0) rc_heap_top = (uint32_t)(size_t)&__heap_base;
  uint64_t start = ((uint64_t)rc_heap_top + 7u) & ~(uint64_t)7u;
  uint64_t end = start + size;
  uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    uint64_t pages = (end - have + 65535u) / 65536u;
    if (pages > 64u || __builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) rc_trap();
  }
  rc_heap_top = (uint32_t)end;
  return (void *)(size_t)start;
}

RC_FN void *rc_alloc_zero(uint32_t size) {
  void *p = rc_alloc(size);
  memset(p, 0, size);
  return p;
}

RC_FN uint32_t rc_strlen(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Errors                                                                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

#define RC_SEL_ERROR RC_SEL("Error(string)", 0x08c379a0)
#define RC_SEL_PANIC RC_SEL("Panic(uint256)", 0x4e487b71)

/* Solidity panic codes, for revert_panic. */
#define RC_PANIC_ASSERT 0x01
#define RC_PANIC_OVERFLOW 0x11
#define RC_PANIC_DIV_ZERO 0x12
#define RC_PANIC_OUT_OF_BOUNDS 0x32

RC_INLINE void rc_put_u32_be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

RC_INLINE uint32_t rc_get_u32_be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* A word holding a small integer (big-endian). */
RC_FN void word_from_u64(uint8_t out[32], uint64_t v) {
  memset(out, 0, 24);
  for (int i = 0; i < 8; i++) out[31 - i] = (uint8_t)(v >> (8 * i));
}

/* Revert with Error(string): 0x08c379a0 ++ abi.encode(string). viem/ethers show `message` as the reason. */
RC_NORETURN RC_NOINLINE void revert_with_error_bytes(const char *msg, uint32_t len) {
  uint32_t padded = (len + 31u) & ~31u;
  uint32_t total = 4u + 64u + padded;
  uint8_t *buf = (uint8_t *)rc_alloc_zero(total);
  rc_put_u32_be(buf, RC_SEL_ERROR);
  word_from_u64(buf + 4, 32);
  word_from_u64(buf + 36, len);
  memcpy(buf + 68, msg, len);
  rc_revert(buf, total);
}

RC_NORETURN RC_FN void revert_with_error_string(const char *msg) { revert_with_error_bytes(msg, rc_strlen(msg)); }

/* Revert with Panic(uint256 code), like Solidity's checked arithmetic (code 0x11) or assert (0x01). */
RC_NORETURN RC_NOINLINE void revert_panic(uint32_t code) {
  uint8_t buf[36];
  rc_put_u32_be(buf, RC_SEL_PANIC);
  word_from_u64(buf + 4, code);
  rc_revert(buf, sizeof buf);
}

/* require(cond, "message") */
#define rc_require(cond, msg)                                                                                  \
  do {                                                                                                         \
    if (!(cond)) revert_with_error_string(msg);                                                                \
  } while (0)

/* ------------------------------------------------------------------------------------------------------------ */
/* 256-bit unsigned arithmetic                                                                                  */
/* ------------------------------------------------------------------------------------------------------------ */

typedef struct {
  uint64_t w[4]; /* w[0] is the least significant limb */
} u256;

RC_FN u256 u256_from_u64(uint64_t v) {
  u256 r = {{v, 0, 0, 0}};
  return r;
}

RC_FN u256 u256_zero(void) { return u256_from_u64(0); }

RC_FN u256 u256_max(void) {
  u256 r = {{~0ull, ~0ull, ~0ull, ~0ull}};
  return r;
}

RC_FN int u256_is_zero(const u256 *a) { return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0; }

RC_FN int u256_eq(const u256 *a, const u256 *b) {
  return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3])) == 0;
}

/* -1 if a < b, 0 if equal, 1 if a > b */
RC_FN int u256_cmp(const u256 *a, const u256 *b) {
  for (int i = 3; i >= 0; i--) {
    if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
  }
  return 0;
}

RC_FN int u256_lt(const u256 *a, const u256 *b) { return u256_cmp(a, b) < 0; }

/* Does it fit in 64 bits? */
RC_FN int u256_fits_u64(const u256 *a) { return (a->w[1] | a->w[2] | a->w[3]) == 0; }

/* r = a + b mod 2^256; returns the carry (1 on overflow). r may alias a or b. */
RC_FN int u256_add(u256 *r, const u256 *a, const u256 *b) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t x = a->w[i];
    uint64_t s = x + b->w[i];
    uint64_t c1 = s < x;
    uint64_t t = s + carry;
    uint64_t c2 = t < s;
    r->w[i] = t;
    carry = c1 | c2;
  }
  return (int)carry;
}

/* r = a - b mod 2^256; returns the borrow (1 if b > a). r may alias a or b. */
RC_FN int u256_sub(u256 *r, const u256 *a, const u256 *b) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t x = a->w[i];
    uint64_t d = x - b->w[i];
    uint64_t b1 = x < b->w[i];
    uint64_t t = d - borrow;
    uint64_t b2 = d < borrow;
    r->w[i] = t;
    borrow = b1 | b2;
  }
  return (int)borrow;
}

/* r = a * b mod 2^256; returns 1 if the true product does not fit in 256 bits. r may alias a or b.
   Schoolbook on 32-bit digits, so no 128-bit helper (__multi3) is needed. */
RC_NOINLINE int u256_mul(u256 *r, const u256 *a, const u256 *b) {
  uint32_t x[8], y[8], z[16];
  for (int i = 0; i < 4; i++) {
    x[2 * i] = (uint32_t)a->w[i];
    x[2 * i + 1] = (uint32_t)(a->w[i] >> 32);
    y[2 * i] = (uint32_t)b->w[i];
    y[2 * i + 1] = (uint32_t)(b->w[i] >> 32);
  }
  for (int i = 0; i < 16; i++) z[i] = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t carry = 0;
    if (x[i] == 0) continue;
    for (int j = 0; j < 8; j++) {
      uint64_t t = (uint64_t)x[i] * y[j] + z[i + j] + carry;
      z[i + j] = (uint32_t)t;
      carry = t >> 32;
    }
    z[i + 8] = (uint32_t)carry;
  }
  int overflow = 0;
  for (int i = 8; i < 16; i++) overflow |= z[i] != 0;
  for (int i = 0; i < 4; i++) r->w[i] = (uint64_t)z[2 * i] | ((uint64_t)z[2 * i + 1] << 32);
  return overflow;
}

/* q = a / d, returns a % d. Traps with Panic(0x12) semantics left to the caller: d must not be 0. */
RC_NOINLINE uint32_t u256_divmod_u32(u256 *q, const u256 *a, uint32_t d) {
  if (d == 0) revert_panic(RC_PANIC_DIV_ZERO);
  uint64_t rem = 0;
  for (int i = 3; i >= 0; i--) {
    uint64_t hi = (rem << 32) | (a->w[i] >> 32);
    uint64_t qh = hi / d;
    rem = hi % d;
    uint64_t lo = (rem << 32) | (a->w[i] & 0xffffffffu);
    uint64_t ql = lo / d;
    rem = lo % d;
    q->w[i] = (qh << 32) | ql;
  }
  return (uint32_t)rem;
}

/* Checked variants: revert with Panic(0x11) on overflow, like Solidity >= 0.8. */
RC_FN u256 u256_add_checked(const u256 *a, const u256 *b) {
  u256 r;
  if (u256_add(&r, a, b)) revert_panic(RC_PANIC_OVERFLOW);
  return r;
}
RC_FN u256 u256_sub_checked(const u256 *a, const u256 *b) {
  u256 r;
  if (u256_sub(&r, a, b)) revert_panic(RC_PANIC_OVERFLOW);
  return r;
}
RC_FN u256 u256_mul_checked(const u256 *a, const u256 *b) {
  u256 r;
  if (u256_mul(&r, a, b)) revert_panic(RC_PANIC_OVERFLOW);
  return r;
}

/* 32-byte big-endian <-> u256 */
RC_FN u256 u256_from_be(const uint8_t *be) {
  u256 r;
  for (int i = 0; i < 4; i++) {
    const uint8_t *p = be + 24 - 8 * i;
    uint64_t v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | p[j];
    r.w[i] = v;
  }
  return r;
}

RC_FN void u256_to_be(const u256 *a, uint8_t *be) {
  for (int i = 0; i < 4; i++) {
    uint8_t *p = be + 24 - 8 * i;
    uint64_t v = a->w[i];
    for (int j = 7; j >= 0; j--) {
      p[j] = (uint8_t)v;
      v >>= 8;
    }
  }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Words, addresses, hashes                                                                                     */
/* ------------------------------------------------------------------------------------------------------------ */

typedef struct {
  uint8_t b[20];
} rc_address;

RC_FN int word_is_zero(const uint8_t *w, uint32_t len) {
  uint8_t acc = 0;
  for (uint32_t i = 0; i < len; i++) acc |= w[i];
  return acc == 0;
}

RC_FN int address_is_zero(const rc_address *a) { return word_is_zero(a->b, 20); }
RC_FN int address_eq(const rc_address *a, const rc_address *b) { return memcmp(a->b, b->b, 20) == 0; }

/* Left-pad an address to a word (as ABI encoding, storage keys and topics do). */
RC_FN void word_from_address(uint8_t out[32], const rc_address *a) {
  memset(out, 0, 12);
  memcpy(out + 12, a->b, 20);
}

RC_FN void keccak256(const void *ptr, uint32_t len, uint8_t out[32]) { rc_host_keccak256(ptr, len, out); }
RC_FN void blake3(const void *ptr, uint32_t len, uint8_t out[32]) { rc_host_blake3(ptr, len, out); }
RC_FN void sha256(const void *ptr, uint32_t len, uint8_t out[32]) { rc_host_sha256(ptr, len, out); }

/* The Ethereum address that signed `hash` (no message prefix): sig = r 32 | s 32 | v 1 with v the recovery id 0 or 1.
   Returns 1 and writes the address, or 0 for an invalid signature (r or s out of range, s > n/2, v > 1, no point).
   Never traps on a bad signature. */
RC_FN int secp256k1_recover(const uint8_t hash[32], const uint8_t sig[65], rc_address *out) {
  return rc_host_secp256k1_recover(hash, sig, out->b) == 1;
}

/* EXTCODEHASH: keccak256 of the account's code as eth_getCode returns it; 32 zero bytes for an account without code.
   A call to an address without code succeeds with empty return data, so check this before trusting such a call. */
RC_FN void code_hash_of(const rc_address *a, uint8_t out[32]) { rc_host_code_hash(a->b, out); }
RC_FN int has_code(const rc_address *a) {
  uint8_t h[32];
  rc_host_code_hash(a->b, h);
  return !word_is_zero(h, 32);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Context                                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

RC_FN rc_address msg_sender(void) {
  rc_address a;
  rc_host_caller(a.b);
  return a;
}
RC_FN rc_address tx_origin(void) {
  rc_address a;
  rc_host_origin(a.b);
  return a;
}
RC_FN rc_address self_address(void) {
  rc_address a;
  rc_host_self_address(a.b);
  return a;
}
RC_FN u256 msg_value(void) {
  uint8_t w[32];
  rc_host_call_value(w);
  return u256_from_be(w);
}
RC_FN u256 balance_of_account(const rc_address *a) {
  uint8_t w[32];
  rc_host_balance(a->b, w);
  return u256_from_be(w);
}
RC_FN uint64_t block_number(void) { return (uint64_t)rc_host_block_number(); }
RC_FN uint64_t block_timestamp(void) { return (uint64_t)rc_host_block_timestamp(); }
RC_FN uint64_t chain_id(void) { return (uint64_t)rc_host_chain_id(); }
RC_FN uint64_t gas_left(void) { return (uint64_t)rc_host_gas_left(); }

/* Solidity's non-payable check: revert (empty data) if any value was sent. */
RC_FN void rc_require_nonpayable(void) {
  uint8_t w[32];
  rc_host_call_value(w);
  if (!word_is_zero(w, 32)) rc_revert_empty();
}

/* Call another account. Returns 0 success, 1 revert, 2 failure; read its output with returndata_*. */
RC_FN int32_t call_contract(const rc_address *to, const u256 *value, uint64_t gas, const void *data, uint32_t len) {
  uint8_t v[32];
  u256_to_be(value, v);
  return rc_host_call(to->b, v, (int64_t)gas, data, len);
}
RC_FN uint32_t returndata_size(void) { return (uint32_t)rc_host_returndata_size(); }
RC_FN void returndata_copy(void *dest, uint32_t offset, uint32_t len) { rc_host_returndata_copy(dest, offset, len); }

/* ------------------------------------------------------------------------------------------------------------ */
/* Calldata and ABI decoding                                                                                    */
/* ------------------------------------------------------------------------------------------------------------ */

/* A byte slice (calldata, stored bytes, strings). */
typedef struct {
  const uint8_t *ptr;
  uint32_t len;
} rc_bytes;

/* An ABI-encoded tuple: the arguments after the selector (call) or the constructor arguments (deploy).
   Every read is bounds-checked; a short or malformed calldata reverts with empty data, like Solidity. */
typedef struct {
  const uint8_t *data;
  uint32_t len;
} rc_abi;

static rc_bytes rc_calldata_cache;
static int rc_calldata_loaded;

/* The whole calldata, copied into memory once. */
RC_FN rc_bytes rc_calldata(void) {
  if (!rc_calldata_loaded) {
    uint32_t n = (uint32_t)rc_host_calldata_size();
    uint8_t *buf = (uint8_t *)rc_alloc(n);
    if (n) rc_host_calldata_copy(buf, 0, n);
    rc_calldata_cache.ptr = buf;
    rc_calldata_cache.len = n;
    rc_calldata_loaded = 1;
  }
  return rc_calldata_cache;
}

/* The 4-byte selector; calldata shorter than 4 bytes reverts (there is no fallback). */
RC_FN uint32_t rc_selector(void) {
  rc_bytes cd = rc_calldata();
  if (cd.len < 4) rc_revert_empty();
  return rc_get_u32_be(cd.ptr);
}

/* The arguments of a call (after the selector). */
RC_FN rc_abi rc_call_args(void) {
  rc_bytes cd = rc_calldata();
  if (cd.len < 4) rc_revert_empty();
  rc_abi a = {cd.ptr + 4, cd.len - 4};
  return a;
}

/* The constructor arguments (the whole calldata of deploy()). */
RC_FN rc_abi rc_deploy_args(void) {
  rc_bytes cd = rc_calldata();
  rc_abi a = {cd.ptr, cd.len};
  return a;
}

/* Pointer to `len` bytes at `offset`, or revert if out of bounds. */
RC_FN const uint8_t *abi_at(const rc_abi *a, uint64_t offset, uint64_t len) {
  if (offset + len > a->len) rc_revert_empty();
  return a->data + offset;
}

/* Head word `i` (the i-th argument, counted in 32-byte words). */
RC_FN const uint8_t *abi_word(const rc_abi *a, uint32_t i) { return abi_at(a, (uint64_t)i * 32u, 32); }

/* A word as a length/offset: must be < 2^32 (a bigger one cannot be in bounds anyway). */
RC_FN uint32_t abi_word_as_u32(const uint8_t *w) {
  if (!word_is_zero(w, 28)) rc_revert_empty();
  return rc_get_u32_be(w + 28);
}

RC_FN u256 abi_u256(const rc_abi *a, uint32_t i) { return u256_from_be(abi_word(a, i)); }

RC_FN const uint8_t *abi_bytes32(const rc_abi *a, uint32_t i) { return abi_word(a, i); }

/* address: the top 12 bytes must be zero (Solidity's decoder reverts otherwise). */
RC_FN rc_address abi_address(const rc_abi *a, uint32_t i) {
  const uint8_t *w = abi_word(a, i);
  if (!word_is_zero(w, 12)) rc_revert_empty();
  rc_address r;
  memcpy(r.b, w + 12, 20);
  return r;
}

/* uint8 / bool: must be in range. */
RC_FN uint8_t abi_uint8(const rc_abi *a, uint32_t i) {
  const uint8_t *w = abi_word(a, i);
  if (!word_is_zero(w, 31)) rc_revert_empty();
  return w[31];
}

RC_FN int abi_bool(const rc_abi *a, uint32_t i) {
  uint8_t v = abi_uint8(a, i);
  if (v > 1) rc_revert_empty();
  return v;
}

/* uint64 (for "small" uint256 arguments such as counts): reverts if the value does not fit. */
RC_FN uint64_t abi_u64(const rc_abi *a, uint32_t i) {
  u256 v = abi_u256(a, i);
  if (!u256_fits_u64(&v)) rc_revert_empty();
  return v.w[0];
}

/* The tail of a dynamic argument: its offset is in head word i; returns a pointer to its length word and
   checks that `elem_size * length` bytes follow. */
RC_FN const uint8_t *abi_dynamic(const rc_abi *a, uint32_t i, uint32_t elem_size, uint32_t *count) {
  uint32_t off = abi_word_as_u32(abi_word(a, i));
  uint32_t n = abi_word_as_u32(abi_at(a, off, 32));
  const uint8_t *data = abi_at(a, (uint64_t)off + 32u, (uint64_t)n * elem_size);
  *count = n;
  return data;
}

/* `bytes` or `string` argument, in place in the calldata. */
RC_FN rc_bytes abi_bytes(const rc_abi *a, uint32_t i) {
  rc_bytes r;
  r.ptr = abi_dynamic(a, i, 1, &r.len);
  return r;
}
#define abi_string abi_bytes

/* `uint256[]` / `bytes32[]` argument: `*count` big-endian words, in place in the calldata. */
RC_FN const uint8_t *abi_words(const rc_abi *a, uint32_t i, uint32_t *count) { return abi_dynamic(a, i, 32, count); }

/* `int8[]` argument, decoded into a fresh int8 buffer. Each element must be a sign-extended int8. */
RC_NOINLINE int8_t *abi_int8_array(const rc_abi *a, uint32_t i, uint32_t *count) {
  uint32_t n;
  const uint8_t *w = abi_dynamic(a, i, 32, &n);
  int8_t *out = (int8_t *)rc_alloc(n ? n : 1);
  for (uint32_t k = 0; k < n; k++, w += 32) {
    uint8_t v = w[31];
    uint8_t fill = (v & 0x80) ? 0xff : 0x00;
    for (int j = 0; j < 31; j++) {
      if (w[j] != fill) rc_revert_empty();
    }
    out[k] = (int8_t)v;
  }
  *count = n;
  return out;
}

/* `uint8[]` argument, decoded into a fresh byte buffer. */
RC_NOINLINE uint8_t *abi_uint8_array(const rc_abi *a, uint32_t i, uint32_t *count) {
  uint32_t n;
  const uint8_t *w = abi_dynamic(a, i, 32, &n);
  uint8_t *out = (uint8_t *)rc_alloc(n ? n : 1);
  for (uint32_t k = 0; k < n; k++, w += 32) {
    if (!word_is_zero(w, 31)) rc_revert_empty();
    out[k] = w[31];
  }
  *count = n;
  return out;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* ABI encoding (return data, event data)                                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

/* An encoder for a tuple of `heads` values. Static values go in their head word; dynamic ones (bytes/string)
   get an offset in their head word and their data in the tail. */
typedef struct {
  uint8_t *buf;
  uint32_t heads; /* number of head words */
  uint32_t len;   /* bytes written so far (head + tail) */
  uint32_t cap;
} abi_enc;

/* tail_capacity: the bytes reserved for dynamic data (use abi_tail_size to compute it). */
RC_FN abi_enc abi_enc_new(uint32_t heads, uint32_t tail_capacity) {
  abi_enc e;
  e.heads = heads;
  e.len = heads * 32u;
  e.cap = e.len + tail_capacity;
  e.buf = (uint8_t *)rc_alloc_zero(e.cap);
  return e;
}

/* Bytes a bytes/string of `len` bytes takes in the tail (length word + padded data). */
RC_FN uint32_t abi_tail_size(uint32_t len) { return 32u + ((len + 31u) & ~31u); }

RC_FN uint8_t *abi_enc_head(abi_enc *e, uint32_t i) {
  if (i >= e->heads) rc_trap();
  return e->buf + 32u * i;
}

RC_FN void abi_enc_word(abi_enc *e, uint32_t i, const uint8_t w[32]) { memcpy(abi_enc_head(e, i), w, 32); }
RC_FN void abi_enc_u256(abi_enc *e, uint32_t i, const u256 *v) { u256_to_be(v, abi_enc_head(e, i)); }
RC_FN void abi_enc_u64(abi_enc *e, uint32_t i, uint64_t v) { word_from_u64(abi_enc_head(e, i), v); }
RC_FN void abi_enc_bool(abi_enc *e, uint32_t i, int v) { word_from_u64(abi_enc_head(e, i), v ? 1 : 0); }
RC_FN void abi_enc_address(abi_enc *e, uint32_t i, const rc_address *a) { word_from_address(abi_enc_head(e, i), a); }

/* bytes or string value in head slot i. */
RC_FN void abi_enc_bytes(abi_enc *e, uint32_t i, const void *ptr, uint32_t len) {
  uint32_t need = abi_tail_size(len);
  if (e->len + need > e->cap) rc_trap();
  word_from_u64(abi_enc_head(e, i), e->len);
  uint8_t *t = e->buf + e->len;
  word_from_u64(t, len);
  memcpy(t + 32, ptr, len);
  memset(t + 32 + len, 0, need - 32u - len);
  e->len += need;
}

/* Finish the call with the encoded tuple as return data. */
RC_NORETURN RC_FN void abi_enc_return(const abi_enc *e) { rc_finish(e->buf, e->len); }

/* Single-value returns. */
RC_NORETURN RC_NOINLINE void return_word(const uint8_t w[32]) { rc_finish(w, 32); }
RC_NORETURN RC_NOINLINE void return_u256(const u256 *v) {
  uint8_t w[32];
  u256_to_be(v, w);
  rc_finish(w, 32);
}
RC_NORETURN RC_FN void return_u64(uint64_t v) {
  u256 x = u256_from_u64(v);
  return_u256(&x);
}
RC_NORETURN RC_FN void return_bool(int v) { return_u64(v ? 1 : 0); }
RC_NORETURN RC_FN void return_address(const rc_address *a) {
  uint8_t w[32];
  word_from_address(w, a);
  rc_finish(w, 32);
}
RC_NORETURN RC_NOINLINE void return_bytes(const void *ptr, uint32_t len) {
  abi_enc e = abi_enc_new(1, abi_tail_size(len));
  abi_enc_bytes(&e, 0, ptr, len);
  abi_enc_return(&e);
}
#define return_string return_bytes
/* Success with empty return data (a function without outputs). */
RC_NORETURN RC_FN void return_void(void) { rc_finish(NULL, 0); }

/* ------------------------------------------------------------------------------------------------------------ */
/* Storage (Solidity layout)                                                                                    */
/* ------------------------------------------------------------------------------------------------------------ */

/* The slot of a simple state variable declared at position n. */
RC_FN void slot_of(uint8_t out[32], uint64_t n) { word_from_u64(out, n); }

/* mapping(K => V) at `slot`: the value of key `key` (a word) lives at keccak256(key ++ slot). */
RC_FN void mapping_slot(uint8_t out[32], const uint8_t key[32], const uint8_t slot[32]) {
  uint8_t buf[64];
  memcpy(buf, key, 32);
  memcpy(buf + 32, slot, 32);
  keccak256(buf, 64, out);
}

/* mapping(address => V): the key is the left-padded address. */
RC_FN void mapping_slot_address(uint8_t out[32], const rc_address *key, const uint8_t slot[32]) {
  uint8_t k[32];
  word_from_address(k, key);
  mapping_slot(out, k, slot);
}

RC_FN void mapping_slot_u256(uint8_t out[32], const u256 *key, const uint8_t slot[32]) {
  uint8_t k[32];
  u256_to_be(key, k);
  mapping_slot(out, k, slot);
}

/* mapping(address => mapping(address => V)) at `slot`: keccak256(b ++ keccak256(a ++ slot)). */
RC_FN void mapping2_slot_address(uint8_t out[32], const rc_address *a, const rc_address *b, const uint8_t slot[32]) {
  uint8_t inner[32];
  mapping_slot_address(inner, a, slot);
  mapping_slot_address(out, b, inner);
}

RC_FN void sload(const uint8_t slot[32], uint8_t out[32]) { rc_host_storage_read(slot, out); }
RC_FN void sstore(const uint8_t slot[32], const uint8_t value[32]) { rc_host_storage_write(slot, value); }

RC_FN u256 sload_u256(const uint8_t slot[32]) {
  uint8_t w[32];
  rc_host_storage_read(slot, w);
  return u256_from_be(w);
}

RC_FN void sstore_u256(const uint8_t slot[32], const u256 *v) {
  uint8_t w[32];
  u256_to_be(v, w);
  rc_host_storage_write(slot, w);
}

/* slot + k, for consecutive slots (big-endian add with carry). */
RC_FN void slot_add(uint8_t out[32], const uint8_t slot[32], uint32_t k) {
  uint32_t carry = k;
  for (int i = 31; i >= 0; i--) {
    uint32_t s = (uint32_t)slot[i] + (carry & 0xffu);
    out[i] = (uint8_t)s;
    carry = (carry >> 8) + (s >> 8);
  }
}

/* Length of a `bytes`/`string` stored at `slot` with Solidity's layout:
   short (< 32 bytes): data left-aligned in the slot and 2*len in its last byte;
   long: 2*len+1 in the slot, data in consecutive slots from keccak256(slot). */
RC_FN uint32_t rc_decode_bytes_len(const uint8_t w[32]) {
  if ((w[31] & 1) == 0) return w[31] >> 1;
  u256 v = u256_from_be(w);
  if (!u256_fits_u64(&v) || v.w[0] > 0xffffffffull) rc_trap();
  return (uint32_t)(v.w[0] >> 1);
}

RC_FN uint32_t sload_bytes_len(const uint8_t slot[32]) {
  uint8_t w[32];
  sload(slot, w);
  return rc_decode_bytes_len(w);
}

/* Store `bytes`/`string` at `slot` (Solidity layout). Slots of a previous, longer value are cleared. */
RC_NOINLINE void sstore_bytes(const uint8_t slot[32], const uint8_t *ptr, uint32_t len) {
  uint8_t w[32], base[32], s[32];
  uint32_t old_len = sload_bytes_len(slot);
  uint32_t old_slots = old_len >= 32 ? (old_len + 31u) / 32u : 0;
  uint32_t new_slots = len >= 32 ? (len + 31u) / 32u : 0;
  if (len < 32) {
    memset(w, 0, 32);
    memcpy(w, ptr, len);
    w[31] = (uint8_t)(len * 2u);
    sstore(slot, w);
  } else {
    word_from_u64(w, (uint64_t)len * 2u + 1u);
    sstore(slot, w);
  }
  if (new_slots == 0 && old_slots == 0) return;
  keccak256(slot, 32, base);
  for (uint32_t i = 0; i < new_slots; i++) {
    uint32_t n = len - 32u * i;
    if (n > 32) n = 32;
    memset(w, 0, 32);
    memcpy(w, ptr + 32u * i, n);
    slot_add(s, base, i);
    sstore(s, w);
  }
  memset(w, 0, 32);
  for (uint32_t i = new_slots; i < old_slots; i++) {
    slot_add(s, base, i);
    sstore(s, w);
  }
}

/* Load `bytes`/`string` stored at `slot` into a fresh buffer. */
RC_NOINLINE rc_bytes sload_bytes(const uint8_t slot[32]) {
  uint8_t w[32], base[32], s[32];
  rc_bytes r;
  sload(slot, w);
  uint32_t len = rc_decode_bytes_len(w);
  uint8_t *out = (uint8_t *)rc_alloc(len ? len : 1);
  r.ptr = out;
  r.len = len;
  if (len < 32) {
    memcpy(out, w, len);
    return r;
  }
  keccak256(slot, 32, base);
  for (uint32_t i = 0; 32u * i < len; i++) {
    uint32_t n = len - 32u * i;
    if (n > 32) n = 32;
    slot_add(s, base, i);
    sload(s, w);
    memcpy(out + 32u * i, w, n);
  }
  return r;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Events                                                                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

/* Emit an Ethereum log. topic0 is the event signature hash (RC_TOPIC); t1..t3 are indexed arguments as words
   (use word_from_address / u256_to_be); pass NULL for the unused ones. `data` is the ABI-encoded tuple of the
   non-indexed arguments. Anonymous events: pass topic0 = NULL. */
RC_NOINLINE void emit_event(const uint8_t *topic0, const uint8_t *t1, const uint8_t *t2, const uint8_t *t3,
                            const void *data, uint32_t len) {
  uint8_t topics[128];
  const uint8_t *in[4] = {topic0, t1, t2, t3};
  uint32_t n = 0;
  for (int i = 0; i < 4; i++) {
    if (in[i]) {
      memcpy(topics + 32u * n, in[i], 32);
      n++;
    }
  }
  rc_host_emit_log(topics, n, data, len);
}

#define emit_event0(topic0, data, len) emit_event((topic0), NULL, NULL, NULL, (data), (len))
#define emit_event1(topic0, t1, data, len) emit_event((topic0), (t1), NULL, NULL, (data), (len))
#define emit_event2(topic0, t1, t2, data, len) emit_event((topic0), (t1), (t2), NULL, (data), (len))
#define emit_event3(topic0, t1, t2, t3, data, len) emit_event((topic0), (t1), (t2), (t3), (data), (len))

/* ------------------------------------------------------------------------------------------------------------ */
/* AI and ZK host functions (docs/ai.md, docs/runtime.md)                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

RC_FN void ai_matmul_i8(const int8_t *a, const int8_t *b, int32_t *out, uint32_t m, uint32_t k, uint32_t n) {
  rc_host_ai_matmul_i8(a, b, out, m, k, n);
}
RC_FN void ai_requantize(const int32_t *in, int8_t *out, uint32_t len, uint32_t multiplier, uint32_t shift) {
  rc_host_ai_requantize(in, out, len, multiplier, shift);
}
RC_FN void ai_relu_i8(int8_t *ptr, uint32_t len) { rc_host_ai_relu_i8(ptr, len); }
RC_FN uint32_t ai_argmax_i8(const int8_t *ptr, uint32_t len) { return (uint32_t)rc_host_ai_argmax_i8(ptr, len); }
/* Runs the whole MLP; returns the output length. A malformed model traps. */
RC_FN uint32_t ai_mlp_forward(const uint8_t *model, uint32_t model_len, const int8_t *input, int8_t *out) {
  return (uint32_t)rc_host_ai_mlp_forward(model, model_len, input, out);
}

/* Summary of an MLP model (docs/ai.md) after a structural check. Returns 0 if malformed. */
typedef struct {
  uint32_t layers;
  uint32_t in_dim;  /* input length of layer 0 */
  uint32_t out_dim; /* output length of the last layer */
  uint32_t max_dim; /* largest dimension of any layer */
} rc_mlp_info;

RC_INLINE uint32_t rc_get_u16_le(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

RC_NOINLINE int mlp_model_check(const uint8_t *m, uint32_t len, rc_mlp_info *info) {
  if (len < 1) return 0;
  uint32_t layers = m[0];
  if (layers < 1 || layers > 16) return 0;
  uint64_t off = 1;
  uint32_t prev_out = 0, max_dim = 0, first_in = 0;
  for (uint32_t l = 0; l < layers; l++) {
    if (off + 8 > len) return 0;
    const uint8_t *h = m + off;
    uint32_t in = rc_get_u16_le(h), out = rc_get_u16_le(h + 2), shift = h[6], relu = h[7];
    if (in < 1 || in > 1024 || out < 1 || out > 1024 || shift > 31 || relu > 1) return 0;
    if (l == 0) first_in = in;
    else if (in != prev_out) return 0;
    off += 8 + (uint64_t)in * out + 4ull * out;
    if (off > len) return 0;
    prev_out = out;
    if (in > max_dim) max_dim = in;
    if (out > max_dim) max_dim = out;
  }
  if (off != len) return 0;
  info->layers = layers;
  info->in_dim = first_in;
  info->out_dim = prev_out;
  info->max_dim = max_dim;
  return 1;
}

/* BN254 Groth16 (docs/runtime.md): G1 = x||y, G2 = x_im||x_re||y_im||y_re, 32-byte big-endian coordinates.
   vk = alpha(G1) || beta(G2) || gamma(G2) || delta(G2) || u32 BE icCount || IC[icCount](G1)
   proof = A(G1) || B(G2) || C(G1) = 256 bytes; inputs = input_count words (icCount - 1 of them). */
#define RC_G1_SIZE 64u
#define RC_G2_SIZE 128u
#define RC_GROTH16_PROOF_SIZE 256u
#define RC_GROTH16_VK_FIXED (RC_G1_SIZE + 3u * RC_G2_SIZE + 4u)
#define RC_GROTH16_MAX_INPUTS 256u /* the host traps above this */

/* The number of public inputs a vk expects, or -1 if its length does not match its icCount. */
RC_FN int32_t groth16_vk_input_count(const uint8_t *vk, uint32_t len) {
  if (len < RC_GROTH16_VK_FIXED) return -1;
  uint32_t ic = rc_get_u32_be(vk + RC_GROTH16_VK_FIXED - 4u);
  if (ic < 1 || ic > RC_GROTH16_MAX_INPUTS + 1u) return -1;
  if ((uint64_t)len != RC_GROTH16_VK_FIXED + (uint64_t)ic * RC_G1_SIZE) return -1;
  return (int32_t)(ic - 1);
}

RC_FN int groth16_verify(const uint8_t *vk, uint32_t vk_len, const uint8_t *proof, const uint8_t *inputs,
                         uint32_t input_count) {
  return rc_host_groth16_verify(vk, vk_len, proof, inputs, input_count) == 1;
}

#endif /* RUSTCHAIN_H */
