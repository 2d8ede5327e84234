/*
 * ERC-20 token (EIP-20), behaving like OpenZeppelin's ERC20 with Error(string) reasons (the logic and the storage
 * layout are in sdk/erc20_core.h, shared with the bridge's wrapped token).
 *
 * constructor(string name, string symbol, uint8 decimals, uint256 initialSupply): mints to the deployer.
 */
#include "../sdk/erc20_core.h"

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  rc_bytes name = abi_string(&args, 0);
  rc_bytes symbol = abi_string(&args, 1);
  uint8_t decimals = abi_uint8(&args, 2);
  u256 supply = abi_u256(&args, 3);
  erc20_set_metadata(name.ptr, name.len, symbol.ptr, symbol.len, decimals);
  rc_address deployer = msg_sender();
  mint(&deployer, &supply);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();
  erc20_dispatch(selector, &args);
  rc_revert_empty(); /* unknown selector and no fallback */
}
