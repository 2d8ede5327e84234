/*
 * On-chain int8 MLP classifier.
 *   constructor(bytes model)              model in the docs/ai.md format, checked, stored as Solidity `bytes`
 *   classify(int8[] input) view returns (uint256 class)   argmax of ai_mlp_forward(model, input)
 *   modelHash() view returns (bytes32)    keccak256 of the stored model
 *   modelSize() view returns (uint256)    its length in bytes
 *   inputSize() view returns (uint256)    the input length classify expects
 * Storage: 0 bytes model (32-byte chunks from keccak256(0)), 1 bytes32 modelHash, 2 uint256 inputSize.
 */
#include "../sdk/rustchain.h"

#define SEL_CLASSIFY RC_SEL("classify(int8[])", 0x6917602a)
#define SEL_MODEL_HASH RC_SEL("modelHash()", 0x1b2ccc09)
#define SEL_MODEL_SIZE RC_SEL("modelSize()", 0x091312e0)
#define SEL_INPUT_SIZE RC_SEL("inputSize()", 0x2b47809c)

static const uint8_t SLOT_MODEL[32] = {[31] = 0};
static const uint8_t SLOT_MODEL_HASH[32] = {[31] = 1};
static const uint8_t SLOT_INPUT_SIZE[32] = {[31] = 2};

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  rc_bytes model = abi_bytes(&args, 0);
  rc_mlp_info info;
  rc_require(mlp_model_check(model.ptr, model.len, &info), "Classifier: malformed model");

  sstore_bytes(SLOT_MODEL, model.ptr, model.len);
  uint8_t w[32];
  keccak256(model.ptr, model.len, w);
  sstore(SLOT_MODEL_HASH, w);
  word_from_u64(w, info.in_dim);
  sstore(SLOT_INPUT_SIZE, w);
}

static uint32_t classify(const rc_abi *args) {
  uint32_t n;
  int8_t *input = abi_int8_array(args, 0, &n);
  rc_bytes model = sload_bytes(SLOT_MODEL);
  rc_mlp_info info;
  if (!mlp_model_check(model.ptr, model.len, &info)) rc_trap(); /* checked at deploy */
  rc_require(n == info.in_dim, "Classifier: wrong input length");
  int8_t *out = (int8_t *)rc_alloc(info.max_dim);
  uint32_t out_len = ai_mlp_forward(model.ptr, model.len, input, out);
  if (out_len != info.out_dim) rc_trap();
  return ai_argmax_i8(out, out_len);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_CLASSIFY:
    return_u64(classify(&args));
  case SEL_MODEL_HASH: {
    uint8_t w[32];
    sload(SLOT_MODEL_HASH, w);
    return_word(w);
  }
  case SEL_MODEL_SIZE:
    return_u64(sload_bytes_len(SLOT_MODEL));
  case SEL_INPUT_SIZE: {
    uint8_t w[32];
    sload(SLOT_INPUT_SIZE, w);
    return_word(w);
  }
  default:
    rc_revert_empty();
  }
}
