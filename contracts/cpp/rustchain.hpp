/*
 * rustchain.hpp: a header-only C++17 layer over the C SDK (contracts/sdk/rustchain.h) for wasm32 contracts.
 *
 * Built with clang++ --target=wasm32 -fno-exceptions -fno-rtti -nostdlib (contracts/buildtools/cpp.ts): no standard
 * library, no exceptions (a failed check reverts the call and never returns), no RTTI, no floating point. Everything
 * here is inline and forwards to the C SDK, so a C++ contract costs what the same C contract costs.
 *
 *   rc::U256       checked arithmetic (+ - * revert with Panic(0x11) on overflow, like Solidity 0.8), comparisons
 *   rc::Address    20 bytes, rc::msg_sender(), rc::self()
 *   rc::Bytes      a byte slice (calldata, stored bytes)
 *   rc::Slot       a storage slot: Slot::at(n), .map(key), .load_u256()/.store(U256), load_bytes()/store_bytes()
 *   rc::Args       ABI-decoded arguments: args.u256(i), args.address(i), args.bytes(i), args.u64(i)
 *   rc::Encoder    ABI-encoded return data: Encoder(heads, tail).u256(0, v).bytes(1, b).finish()
 *   rc::require(cond, "reason")    Error(string) revert, as Solidity's require
 *   rc::emit(topic0, t1, t2, data) a log
 *
 * A contract defines `RC_EXPORT("call") void call()` (dispatching on rc_selector() with RC_SEL constants, which the
 * build checks against keccak256 and the ABI JSON) and optionally `RC_EXPORT("deploy") void deploy()`; both
 * `extern "C"` so the exports keep their names.
 */
#ifndef RUSTCHAIN_HPP
#define RUSTCHAIN_HPP

#include "../sdk/rustchain.h"

namespace rc {

/** require(cond, "reason"): reverts with Error(string) when cond is false. */
[[gnu::always_inline]] inline void require(bool cond, const char *reason) {
  if (!cond) revert_with_error_string(reason);
}

[[noreturn]] inline void revert(const char *reason) { revert_with_error_string(reason); }

class U256 {
 public:
  u256 v;

  constexpr U256() : v{{0, 0, 0, 0}} {}
  constexpr U256(uint64_t x) : v{{x, 0, 0, 0}} {}  // NOLINT: implicit from small integers, like Solidity literals
  explicit U256(const u256 &x) : v(x) {}

  static U256 from_be(const uint8_t *word) { return U256(u256_from_be(word)); }
  void to_be(uint8_t out[32]) const { u256_to_be(&v, out); }

  bool is_zero() const { return u256_is_zero(&v); }
  bool fits_u64() const { return u256_fits_u64(&v); }
  uint64_t low_u64() const { return v.w[0]; }

  friend U256 operator+(const U256 &a, const U256 &b) { return U256(u256_add_checked(&a.v, &b.v)); }
  friend U256 operator-(const U256 &a, const U256 &b) { return U256(u256_sub_checked(&a.v, &b.v)); }
  friend U256 operator*(const U256 &a, const U256 &b) { return U256(u256_mul_checked(&a.v, &b.v)); }
  U256 &operator+=(const U256 &b) { return *this = *this + b; }
  U256 &operator-=(const U256 &b) { return *this = *this - b; }

  friend bool operator==(const U256 &a, const U256 &b) { return u256_eq(&a.v, &b.v); }
  friend bool operator!=(const U256 &a, const U256 &b) { return !u256_eq(&a.v, &b.v); }
  friend bool operator<(const U256 &a, const U256 &b) { return u256_cmp(&a.v, &b.v) < 0; }
  friend bool operator>(const U256 &a, const U256 &b) { return u256_cmp(&a.v, &b.v) > 0; }
  friend bool operator<=(const U256 &a, const U256 &b) { return u256_cmp(&a.v, &b.v) <= 0; }
  friend bool operator>=(const U256 &a, const U256 &b) { return u256_cmp(&a.v, &b.v) >= 0; }
};

class Address {
 public:
  rc_address a;

  Address() : a{} {}
  explicit Address(const rc_address &x) : a(x) {}

  bool is_zero() const { return address_is_zero(&a); }
  void to_word(uint8_t out[32]) const { word_from_address(out, &a); }
  friend bool operator==(const Address &x, const Address &y) { return address_eq(&x.a, &y.a); }
  friend bool operator!=(const Address &x, const Address &y) { return !address_eq(&x.a, &y.a); }
};

inline Address msg_sender() { return Address(::msg_sender()); }
inline Address self() { return Address(self_address()); }
inline U256 msg_value() { return U256(::msg_value()); }
inline uint64_t timestamp() { return block_timestamp(); }
inline void nonpayable() { rc_require_nonpayable(); }

/** A read-only byte slice. */
struct Bytes {
  const uint8_t *ptr;
  uint32_t len;

  Bytes(const uint8_t *p, uint32_t n) : ptr(p), len(n) {}
  explicit Bytes(const rc_bytes &b) : ptr(b.ptr), len(b.len) {}

  uint8_t operator[](uint32_t i) const {
    if (i >= len) revert_panic(RC_PANIC_OUT_OF_BOUNDS);
    return ptr[i];
  }
  bool starts_with(const uint8_t *prefix, uint32_t n) const { return len >= n && memcmp(ptr, prefix, n) == 0; }
  void keccak(uint8_t out[32]) const { keccak256(ptr, len, out); }
};

/** A storage slot (Solidity layout). */
class Slot {
 public:
  uint8_t key[32];

  /** The slot of the state variable declared at position n. */
  static Slot at(uint64_t n) {
    Slot s;
    slot_of(s.key, n);
    return s;
  }
  /** mapping(key => …) declared at this slot: keccak256(key ‖ slot). */
  Slot map(const uint8_t word[32]) const {
    Slot s;
    mapping_slot(s.key, word, key);
    return s;
  }
  Slot map(const Address &k) const {
    Slot s;
    mapping_slot_address(s.key, &k.a, key);
    return s;
  }
  Slot map(const U256 &k) const {
    Slot s;
    mapping_slot_u256(s.key, &k.v, key);
    return s;
  }
  /** The k-th slot after this one (members of a struct stored in a mapping). */
  Slot plus(uint32_t k) const {
    Slot s;
    slot_add(s.key, key, k);
    return s;
  }

  U256 load_u256() const { return U256(sload_u256(key)); }
  void store(const U256 &x) const { sstore_u256(key, &x.v); }
  void load_word(uint8_t out[32]) const { sload(key, out); }
  void store_word(const uint8_t w[32]) const { sstore(key, w); }
  Bytes load_bytes() const { return Bytes(sload_bytes(key)); }
  uint32_t bytes_len() const { return sload_bytes_len(key); }
  void store_bytes(const Bytes &b) const { sstore_bytes(key, b.ptr, b.len); }
};

/** ABI-encoded arguments of a call (Args::call()) or of the constructor (Args::deploy()); bounds-checked. */
class Args {
 public:
  rc_abi a;

  static Args call() { return Args(rc_call_args()); }
  static Args deploy() { return Args(rc_deploy_args()); }

  U256 u256(uint32_t i) const { return U256(abi_u256(&a, i)); }
  uint64_t u64(uint32_t i) const { return abi_u64(&a, i); }
  bool boolean(uint32_t i) const { return abi_bool(&a, i) != 0; }
  Address address(uint32_t i) const { return Address(abi_address(&a, i)); }
  Bytes bytes(uint32_t i) const { return Bytes(abi_bytes(&a, i)); }

 private:
  explicit Args(const rc_abi &x) : a(x) {}
};

/** Builds ABI-encoded return data for a tuple of `heads` values; `tail` bytes reserved for dynamic ones. */
class Encoder {
 public:
  abi_enc e;

  Encoder(uint32_t heads, uint32_t tail = 0) : e(abi_enc_new(heads, tail)) {}
  /** The tail bytes a bytes/string of `len` bytes takes. */
  static uint32_t tail_for(uint32_t len) { return abi_tail_size(len); }

  Encoder &u256(uint32_t i, const U256 &v) {
    abi_enc_u256(&e, i, &v.v);
    return *this;
  }
  Encoder &u64(uint32_t i, uint64_t v) {
    abi_enc_u64(&e, i, v);
    return *this;
  }
  Encoder &boolean(uint32_t i, bool v) {
    abi_enc_bool(&e, i, v ? 1 : 0);
    return *this;
  }
  Encoder &address(uint32_t i, const Address &v) {
    abi_enc_address(&e, i, &v.a);
    return *this;
  }
  Encoder &bytes(uint32_t i, const Bytes &b) {
    abi_enc_bytes(&e, i, b.ptr, b.len);
    return *this;
  }
  [[noreturn]] void finish() const { abi_enc_return(&e); }
  const uint8_t *data() const { return e.buf; }
  uint32_t size() const { return e.len; }
};

[[noreturn]] inline void return_value(const U256 &v) { return_u256(&v.v); }
[[noreturn]] inline void return_value(uint64_t v) { return_u64(v); }
[[noreturn]] inline void return_value(bool v) { return_bool(v ? 1 : 0); }
[[noreturn]] inline void return_value(const Address &v) { return_address(&v.a); }
[[noreturn]] inline void return_value(const Bytes &v) { return_bytes(v.ptr, v.len); }
[[noreturn]] inline void return_nothing() { return_void(); }

/** A log: topic0 (an RC_TOPIC), up to three indexed words (nullptr when unused), and the ABI-encoded data. */
inline void emit(const uint8_t *topic0, const uint8_t *t1, const uint8_t *t2, const uint8_t *t3, const Encoder &data) {
  emit_event(topic0, t1, t2, t3, data.data(), data.size());
}

}  // namespace rc

#endif
