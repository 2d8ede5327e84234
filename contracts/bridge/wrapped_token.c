/*
 * WrappedToken: an asset whose home is another chain (ETH, an Ethereum ERC-20) as an ERC-20 on RustChain
 * (docs/bridge.md). The RustChain twin of bridge-relayer/contracts/WrappedToken.sol.
 *
 * Rules:
 *   - constructor(address gateway): deployed by anyone, naming the gateway that will own it; the gateway registers it
 *     with createWrapped(vaa, token) after checking its code hash, its gateway() and that it is not yet initialised;
 *   - initialize(name, symbol, decimals, tokenChain, tokenAddress): once, by the gateway only, from the AssetMeta;
 *     `decimals` = min(home decimals, 8), so one unit is exactly one unit of a bridge payload amount;
 *   - only the gateway mints (inbound transfers, refunds) and burns (outbound transfers);
 *   - the gateway burns from a holder only within the allowance the holder gave it, like an escrowed transferFrom.
 *
 * Storage: the ERC-20's slots 0-5 (sdk/erc20_core.h), then
 *   6 address gateway   7 bool initialized   8 uint16 tokenChain   9 bytes32 tokenAddress
 */
#include "../sdk/erc20_core.h"

#define SEL_GATEWAY RC_SEL("gateway()", 0x116191b6)
#define SEL_INITIALIZED RC_SEL("initialized()", 0x158ef93e)
#define SEL_TOKEN_CHAIN RC_SEL("tokenChain()", 0x72915725)
#define SEL_TOKEN_ADDRESS RC_SEL("tokenAddress()", 0x9d76ea58)
#define SEL_INITIALIZE RC_SEL("initialize(string,string,uint8,uint16,bytes32)", 0x1bcf0724)
#define SEL_MINT RC_SEL("mint(address,uint256)", 0x40c10f19)
#define SEL_BURN_FROM RC_SEL("burnFrom(address,uint256)", 0x79cc6790)

static const uint8_t SLOT_GATEWAY[32] = {[31] = 6};
static const uint8_t SLOT_INITIALIZED[32] = {[31] = 7};
static const uint8_t SLOT_TOKEN_CHAIN[32] = {[31] = 8};
static const uint8_t SLOT_TOKEN_ADDRESS[32] = {[31] = 9};

static rc_address gateway_get(void) {
  uint8_t w[32];
  sload(SLOT_GATEWAY, w);
  rc_address a;
  memcpy(a.b, w + 12, 20);
  return a;
}

static void only_gateway(void) {
  rc_address sender = msg_sender();
  rc_address gw = gateway_get();
  rc_require(address_eq(&sender, &gw), "WrappedToken: caller is not the gateway");
}

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  rc_address gw = abi_address(&args, 0);
  rc_require(!address_is_zero(&gw), "WrappedToken: zero gateway");
  uint8_t w[32];
  word_from_address(w, &gw);
  sstore(SLOT_GATEWAY, w);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();
  erc20_dispatch(selector, &args);

  switch (selector) {
  case SEL_GATEWAY: {
    rc_address gw = gateway_get();
    return_address(&gw);
  }
  case SEL_INITIALIZED: {
    uint8_t w[32];
    sload(SLOT_INITIALIZED, w);
    return_word(w);
  }
  case SEL_TOKEN_CHAIN: {
    uint8_t w[32];
    sload(SLOT_TOKEN_CHAIN, w);
    return_word(w);
  }
  case SEL_TOKEN_ADDRESS: {
    uint8_t w[32];
    sload(SLOT_TOKEN_ADDRESS, w);
    return_word(w);
  }
  case SEL_INITIALIZE: {
    only_gateway();
    uint8_t w[32];
    sload(SLOT_INITIALIZED, w);
    rc_require(word_is_zero(w, 32), "WrappedToken: already initialized");
    rc_bytes name = abi_string(&args, 0);
    rc_bytes symbol = abi_string(&args, 1);
    uint8_t decimals = abi_uint8(&args, 2);
    uint64_t token_chain = abi_u64(&args, 3);
    rc_require(token_chain <= 0xffff, "WrappedToken: tokenChain is a uint16");
    const uint8_t *token_address = abi_bytes32(&args, 4);
    erc20_set_metadata(name.ptr, name.len, symbol.ptr, symbol.len, decimals);
    word_from_u64(w, token_chain);
    sstore(SLOT_TOKEN_CHAIN, w);
    sstore(SLOT_TOKEN_ADDRESS, token_address);
    word_from_u64(w, 1);
    sstore(SLOT_INITIALIZED, w);
    return_void();
  }
  case SEL_MINT: {
    only_gateway();
    rc_address to = abi_address(&args, 0);
    u256 amount = abi_u256(&args, 1);
    mint(&to, &amount);
    return_void();
  }
  case SEL_BURN_FROM: {
    only_gateway();
    rc_address from = abi_address(&args, 0);
    u256 amount = abi_u256(&args, 1);
    rc_address gw = gateway_get();
    spend_allowance(&from, &gw, &amount);
    burn(&from, &amount);
    return_void();
  }
  default:
    rc_revert_empty();
  }
}
