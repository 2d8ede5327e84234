/*
 * On-chain int8 MLP classifier, its model named by IPFS CID (docs/models.md, docs/ai.md).
 *   constructor(bytes modelCid, bytes model)  model in the docs/ai.md format; modelCid its CIDv1 (raw, sha2-256),
 *                                             i.e. 0x01 0x55 0x12 0x20 ‖ sha256(model): bytes that do not hash to it
 *                                             are refused, so the contract runs exactly the model the CID names
 *   classify(int8[] input) view returns (uint256 class)   argmax of ai_mlp_forward(model, input)
 *   modelCid() view returns (bytes)           the 36-byte binary CID (anyone can fetch and check the model by it)
 *   modelSize() view returns (uint256)        its length in bytes
 *   inputSize() view returns (uint256)        the input length classify expects
 * A model is one raw IPFS block, so at most 256 KiB: kubo's default layout (the one `rustchain model cid` and the
 * content store use) gives larger files a dag-pb root instead. Storing that much would cost most of a block anyway.
 * Storage: 0 bytes model (32-byte chunks from keccak256(0)), 1 bytes32 sha256(model), 2 uint256 inputSize.
 */
#include "../sdk/rustchain.h"

#define SEL_CLASSIFY RC_SEL("classify(int8[])", 0x6917602a)
#define SEL_MODEL_CID RC_SEL("modelCid()", 0x3b8d0e16)
#define SEL_MODEL_SIZE RC_SEL("modelSize()", 0x091312e0)
#define SEL_INPUT_SIZE RC_SEL("inputSize()", 0x2b47809c)

static const uint8_t SLOT_MODEL[32] = {[31] = 0};
static const uint8_t SLOT_MODEL_DIGEST[32] = {[31] = 1};

/* CIDv1 ‖ codec raw ‖ multihash sha2-256 ‖ digest length 32, then the digest. */
static const uint8_t CID_RAW_SHA256_PREFIX[4] = {0x01, 0x55, 0x12, 0x20};
#define CID_LEN 36
#define MAX_MODEL_BYTES (256u * 1024u)
static const uint8_t SLOT_INPUT_SIZE[32] = {[31] = 2};

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  rc_bytes cid = abi_bytes(&args, 0);
  rc_bytes model = abi_bytes(&args, 1);
  rc_require(cid.len == CID_LEN && memcmp(cid.ptr, CID_RAW_SHA256_PREFIX, 4) == 0,
             "Classifier: CID must be a CIDv1 raw sha2-256");
  rc_require(model.len <= MAX_MODEL_BYTES, "Classifier: model over 256 KiB (one raw block)");
  uint8_t digest[32];
  sha256(model.ptr, model.len, digest);
  rc_require(memcmp(cid.ptr + 4, digest, 32) == 0, "Classifier: model does not match its CID");
  rc_mlp_info info;
  rc_require(mlp_model_check(model.ptr, model.len, &info), "Classifier: malformed model");

  sstore_bytes(SLOT_MODEL, model.ptr, model.len);
  sstore(SLOT_MODEL_DIGEST, digest);
  uint8_t w[32];
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
  case SEL_MODEL_CID: {
    uint8_t cid[CID_LEN];
    memcpy(cid, CID_RAW_SHA256_PREFIX, 4);
    sload(SLOT_MODEL_DIGEST, cid + 4);
    return_bytes(cid, CID_LEN);
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
