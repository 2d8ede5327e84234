/*
 * Groth16 (BN254) verifier with the key fixed at deploy.
 *   constructor(bytes vk)    vk = alpha(G1) || beta(G2) || gamma(G2) || delta(G2) || u32 BE icCount || IC[icCount]
 *                            (G1 = x||y, G2 = x_im||x_re||y_im||y_re, 32-byte big-endian coordinates)
 *   verify(bytes proof, uint256[] inputs) view returns (bool)
 *                            proof = A(G1) || B(G2) || C(G1), 256 bytes; icCount - 1 public inputs
 *   verifyAndRecord(bytes proof, uint256[] inputs) returns (bool)    same, and emits Verified(msg.sender, ok)
 *   inputCount() view returns (uint256)
 * A proof of the wrong size or the wrong number of inputs reverts; a well-formed but invalid proof returns false.
 * Storage: 0 bytes vk, 1 uint256 inputCount.
 */
#include "../sdk/rustchain.h"

#define SEL_VERIFY RC_SEL("verify(bytes,uint256[])", 0x9649daae)
#define SEL_VERIFY_AND_RECORD RC_SEL("verifyAndRecord(bytes,uint256[])", 0x8446e891)
#define SEL_INPUT_COUNT RC_SEL("inputCount()", 0xe7dc36ad)

#define TOPIC_VERIFIED                                                                                         \
  RC_TOPIC("Verified(address,bool)",                                                                           \
           "\x04\x88\x16\x82\x88\x03\x96\xc5\xd7\xf3\x30\xe1\x92\xfc\xd4\xf8"                                  \
           "\xb3\xd4\x64\x58\x42\x90\x87\x12\xb7\xa0\x05\x17\x0b\x31\x20\xcc")

static const uint8_t SLOT_VK[32] = {[31] = 0};
static const uint8_t SLOT_INPUT_COUNT[32] = {[31] = 1};

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  rc_bytes vk = abi_bytes(&args, 0);
  int32_t inputs = groth16_vk_input_count(vk.ptr, vk.len);
  rc_require(inputs >= 0, "Groth16: malformed verifying key");
  sstore_bytes(SLOT_VK, vk.ptr, vk.len);
  uint8_t w[32];
  word_from_u64(w, (uint64_t)inputs);
  sstore(SLOT_INPUT_COUNT, w);
}

static int verify(const rc_abi *args) {
  rc_bytes proof = abi_bytes(args, 0);
  uint32_t count;
  const uint8_t *inputs = abi_words(args, 1, &count);
  rc_require(proof.len == RC_GROTH16_PROOF_SIZE, "Groth16: proof must be 256 bytes");
  rc_bytes vk = sload_bytes(SLOT_VK);
  rc_require((int32_t)count == groth16_vk_input_count(vk.ptr, vk.len), "Groth16: wrong number of public inputs");
  return groth16_verify(vk.ptr, vk.len, proof.ptr, inputs, count);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();

  switch (selector) {
  case SEL_VERIFY:
    return_bool(verify(&args));
  case SEL_VERIFY_AND_RECORD: {
    int ok = verify(&args);
    rc_address by = msg_sender();
    uint8_t topic[32], data[32];
    word_from_address(topic, &by);
    word_from_u64(data, ok ? 1 : 0);
    emit_event1(TOPIC_VERIFIED, topic, data, 32);
    return_bool(ok);
  }
  case SEL_INPUT_COUNT: {
    uint8_t w[32];
    sload(SLOT_INPUT_COUNT, w);
    return_word(w);
  }
  default:
    rc_revert_empty();
  }
}
