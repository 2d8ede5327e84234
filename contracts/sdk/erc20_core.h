/*
 * erc20_core.h: the ERC-20 (EIP-20) logic of the C contracts, behaving like OpenZeppelin's ERC20 with Error(string)
 * reasons. Included by contracts/examples/erc20.c and contracts/bridge/wrapped_token.c, so there is one copy.
 *
 * Storage layout is OpenZeppelin's, so eth_getStorageAt tooling reads it the same way:
 *   0 mapping(address => uint256) balances      3 string name
 *   1 mapping(address => mapping(address => uint256)) allowances
 *   2 uint256 totalSupply                        4 string symbol       5 uint8 decimals
 * A contract that includes it keeps its own state from slot 6 on.
 *
 * erc20_dispatch(selector, args) answers the nine EIP-20 functions and returns for any other selector, so the
 * including contract's call() handles its own functions after it.
 */
#ifndef RC_ERC20_CORE_H
#define RC_ERC20_CORE_H

#include "rustchain.h"

#define RC_ERC20_FN static __attribute__((unused))

#define SEL_NAME RC_SEL("name()", 0x06fdde03)
#define SEL_SYMBOL RC_SEL("symbol()", 0x95d89b41)
#define SEL_DECIMALS RC_SEL("decimals()", 0x313ce567)
#define SEL_TOTAL_SUPPLY RC_SEL("totalSupply()", 0x18160ddd)
#define SEL_BALANCE_OF RC_SEL("balanceOf(address)", 0x70a08231)
#define SEL_TRANSFER RC_SEL("transfer(address,uint256)", 0xa9059cbb)
#define SEL_ALLOWANCE RC_SEL("allowance(address,address)", 0xdd62ed3e)
#define SEL_APPROVE RC_SEL("approve(address,uint256)", 0x095ea7b3)
#define SEL_TRANSFER_FROM RC_SEL("transferFrom(address,address,uint256)", 0x23b872dd)

#define TOPIC_TRANSFER                                                                                         \
  RC_TOPIC("Transfer(address,address,uint256)",                                                                \
           "\xdd\xf2\x52\xad\x1b\xe2\xc8\x9b\x69\xc2\xb0\x68\xfc\x37\x8d\xaa"                                  \
           "\x95\x2b\xa7\xf1\x63\xc4\xa1\x16\x28\xf5\x5a\x4d\xf5\x23\xb3\xef")
#define TOPIC_APPROVAL                                                                                         \
  RC_TOPIC("Approval(address,address,uint256)",                                                                \
           "\x8c\x5b\xe1\xe5\xeb\xec\x7d\x5b\xd1\x4f\x71\x42\x7d\x1e\x84\xf3"                                  \
           "\xdd\x03\x14\xc0\xf7\xb2\x29\x1e\x5b\x20\x0a\xc8\xc7\xc3\xb9\x25")

static const uint8_t SLOT_BALANCES[32] = {[31] = 0};
static const uint8_t SLOT_ALLOWANCES[32] = {[31] = 1};
static const uint8_t SLOT_TOTAL_SUPPLY[32] = {[31] = 2};
static const uint8_t SLOT_NAME[32] = {[31] = 3};
static const uint8_t SLOT_SYMBOL[32] = {[31] = 4};
static const uint8_t SLOT_DECIMALS[32] = {[31] = 5};

RC_ERC20_FN u256 balance_get(const rc_address *owner, uint8_t slot[32]) {
  mapping_slot_address(slot, owner, SLOT_BALANCES);
  return sload_u256(slot);
}

RC_ERC20_FN u256 allowance_get(const rc_address *owner, const rc_address *spender, uint8_t slot[32]) {
  mapping2_slot_address(slot, owner, spender, SLOT_ALLOWANCES);
  return sload_u256(slot);
}

/* Transfer / Approval: two indexed addresses, the amount as data. */
RC_ERC20_FN void emit_pair_event(const uint8_t *topic0, const rc_address *a, const rc_address *b, const u256 *amount) {
  uint8_t ta[32], tb[32], data[32];
  word_from_address(ta, a);
  word_from_address(tb, b);
  u256_to_be(amount, data);
  emit_event2(topic0, ta, tb, data, 32);
}

RC_ERC20_FN void do_transfer(const rc_address *from, const rc_address *to, const u256 *amount) {
  rc_require(!address_is_zero(from), "ERC20: transfer from the zero address");
  rc_require(!address_is_zero(to), "ERC20: transfer to the zero address");
  uint8_t from_slot[32], to_slot[32];
  u256 from_balance = balance_get(from, from_slot);
  u256 rest;
  if (u256_sub(&rest, &from_balance, amount)) revert_with_error_string("ERC20: transfer amount exceeds balance");
  sstore_u256(from_slot, &rest);
  /* Cannot overflow: the sum of all balances is totalSupply, which is checked at mint. Read after the write so a
     self-transfer is a no-op. */
  u256 to_balance = balance_get(to, to_slot);
  u256_add(&to_balance, &to_balance, amount);
  sstore_u256(to_slot, &to_balance);
  emit_pair_event(TOPIC_TRANSFER, from, to, amount);
}

RC_ERC20_FN void do_approve(const rc_address *owner, const rc_address *spender, const u256 *amount) {
  rc_require(!address_is_zero(owner), "ERC20: approve from the zero address");
  rc_require(!address_is_zero(spender), "ERC20: approve to the zero address");
  uint8_t slot[32];
  mapping2_slot_address(slot, owner, spender, SLOT_ALLOWANCES);
  sstore_u256(slot, amount);
  emit_pair_event(TOPIC_APPROVAL, owner, spender, amount);
}

/* An allowance of type(uint256).max is infinite and never decreases. No Approval event, as OpenZeppelin 5. */
RC_ERC20_FN void spend_allowance(const rc_address *owner, const rc_address *spender, const u256 *amount) {
  uint8_t slot[32];
  u256 current = allowance_get(owner, spender, slot);
  u256 max = u256_max();
  if (u256_eq(&current, &max)) return;
  u256 rest;
  if (u256_sub(&rest, &current, amount)) revert_with_error_string("ERC20: insufficient allowance");
  sstore_u256(slot, &rest);
}

RC_ERC20_FN void mint(const rc_address *to, const u256 *amount) {
  rc_require(!address_is_zero(to), "ERC20: mint to the zero address");
  u256 supply = sload_u256(SLOT_TOTAL_SUPPLY);
  supply = u256_add_checked(&supply, amount); /* Panic(0x11), as Solidity's checked arithmetic */
  sstore_u256(SLOT_TOTAL_SUPPLY, &supply);
  uint8_t slot[32];
  u256 balance = balance_get(to, slot);
  u256_add(&balance, &balance, amount);
  sstore_u256(slot, &balance);
  rc_address zero = {{0}};
  emit_pair_event(TOPIC_TRANSFER, &zero, to, amount);
}

RC_ERC20_FN void burn(const rc_address *from, const u256 *amount) {
  rc_require(!address_is_zero(from), "ERC20: burn from the zero address");
  uint8_t slot[32];
  u256 balance = balance_get(from, slot);
  u256 rest;
  if (u256_sub(&rest, &balance, amount)) revert_with_error_string("ERC20: burn amount exceeds balance");
  sstore_u256(slot, &rest);
  u256 supply = sload_u256(SLOT_TOTAL_SUPPLY);
  u256_sub(&supply, &supply, amount); /* cannot underflow: the balance was part of the supply */
  sstore_u256(SLOT_TOTAL_SUPPLY, &supply);
  rc_address zero = {{0}};
  emit_pair_event(TOPIC_TRANSFER, from, &zero, amount);
}

RC_ERC20_FN void erc20_set_metadata(const uint8_t *name, uint32_t name_len, const uint8_t *symbol, uint32_t symbol_len,
                                    uint8_t decimals) {
  sstore_bytes(SLOT_NAME, name, name_len);
  sstore_bytes(SLOT_SYMBOL, symbol, symbol_len);
  uint8_t w[32];
  word_from_u64(w, decimals);
  sstore(SLOT_DECIMALS, w);
}

/* The EIP-20 functions; returns (without ending the call) for any other selector. */
RC_INLINE void erc20_dispatch(uint32_t selector, const rc_abi *args) {
  switch (selector) {
  case SEL_NAME: {
    rc_bytes s = sload_bytes(SLOT_NAME);
    return_string(s.ptr, s.len);
  }
  case SEL_SYMBOL: {
    rc_bytes s = sload_bytes(SLOT_SYMBOL);
    return_string(s.ptr, s.len);
  }
  case SEL_DECIMALS: {
    uint8_t w[32];
    sload(SLOT_DECIMALS, w);
    return_word(w);
  }
  case SEL_TOTAL_SUPPLY: {
    uint8_t w[32];
    sload(SLOT_TOTAL_SUPPLY, w);
    return_word(w);
  }
  case SEL_BALANCE_OF: {
    rc_address owner = abi_address(args, 0);
    uint8_t slot[32];
    u256 b = balance_get(&owner, slot);
    return_u256(&b);
  }
  case SEL_TRANSFER: {
    rc_address to = abi_address(args, 0);
    u256 amount = abi_u256(args, 1);
    rc_address from = msg_sender();
    do_transfer(&from, &to, &amount);
    return_bool(1);
  }
  case SEL_ALLOWANCE: {
    rc_address owner = abi_address(args, 0);
    rc_address spender = abi_address(args, 1);
    uint8_t slot[32];
    u256 a = allowance_get(&owner, &spender, slot);
    return_u256(&a);
  }
  case SEL_APPROVE: {
    rc_address spender = abi_address(args, 0);
    u256 amount = abi_u256(args, 1);
    rc_address owner = msg_sender();
    do_approve(&owner, &spender, &amount);
    return_bool(1);
  }
  case SEL_TRANSFER_FROM: {
    rc_address from = abi_address(args, 0);
    rc_address to = abi_address(args, 1);
    u256 amount = abi_u256(args, 2);
    rc_address spender = msg_sender();
    spend_allowance(&from, &spender, &amount);
    do_transfer(&from, &to, &amount);
    return_bool(1);
  }
  default:
    return;
  }
}

#endif /* RC_ERC20_CORE_H */
