/*
 * The RustChain gateway of the Ethereum bridge (docs/bridge.md): core (publish, VAA verification, guardian sets) and
 * token bridge in one contract, with the same ABI as the Ethereum gateway where it applies.
 *
 * constructor(uint16 chainId, address[] guardians, uint64 guardianSetExpiry, uint16 remoteChain,
 *             bytes32 remoteGateway, bytes32 wrappedTokenCodeHash, uint32 guardianSetIndex,
 *             uint16 governanceChain, bytes32 governanceContract)
 *
 * Two deployments of this one contract (docs/bridge.md, "Wormhole"): the Ethereum bridge's, whose guardians are the
 * RustChain committee and whose governance emitter is (21075, 0x…04), and RustChain's Wormhole core + token bridge,
 * whose guardian set is Wormhole's (from genesis) and whose governance emitter is Wormhole's (1, 0x…04); it has no
 * remote gateway at deployment (remoteChain 0): Solana's, Ethereum's… token bridges come by RegisterChain.
 * Core as Wormhole's: publishMessage(nonce, payload, consistencyLevel) for any contract, with a sequence per emitter
 * and the message fee (Core action 3 SetMessageFee) paid with every message, the token bridge's included. The fees
 * collected are counted apart from the escrow (slot 18); Core action 4 TransferFees pays out of that count only, so
 * governance can never move escrowed RTC.
 *
 * Assets:
 *   - RTC, home here, is (chainId, 0): transferNative escrows msg.value in this contract. Payload amounts are
 *     normalised to 8 decimals: only floor(value / 10^10) × 10^10 is escrowed and the dust is sent back to the sender
 *     in the same call (it never leaves the sender). RTC coming home (completeTransfer of (chainId, 0)) releases
 *     amount × 10^10 from the escrow.
 *   - Assets from elsewhere (ETH, Ethereum ERC-20s) are wrapped_token.c contracts, deployed beforehand by anyone with
 *     this gateway as their gateway and registered by createWrapped(AssetMeta VAA, token): the token's code hash must
 *     be the wrappedTokenCodeHash of the constructor (code_hash host function), its gateway() this contract and the
 *     token not registered yet; the gateway then initialises its name, symbol and decimals (min(d, 8)).
 *     transferTokens burns (burnFrom, within the allowance the holder gave this gateway), completeTransfer mints.
 *   - RustChain-home ERC-20s are not bridged (transferTokens and attestToken refuse them with ASSET_UNKNOWN).
 *
 * VAA verification (verify_vaa), in this order, as bridge-relayer/contracts/GuardianSets.sol: VAA_MALFORMED (every
 * length is checked before the bytes are read; payload ≤ 64 KiB), VAA_VERSION, VAA_UNKNOWN_GUARDIAN_SET,
 * VAA_GUARDIAN_SET_EXPIRED (a replaced set is valid while block.timestamp <= its expiry = upgrade time +
 * guardianSetExpiry), VAA_QUORUM (n ≥ floor(2 × size / 3) + 1), VAA_SIGNATURE_ORDER (indices strictly ascending, in
 * the set), VAA_BAD_SIGNATURE (secp256k1_recover over keccak256(keccak256(body)): low s, recovery id 0/1, the key at
 * its index). Then VAA_UNKNOWN_EMITTER (not the registered gateway of its chain, or for governance not the
 * governance emitter of the constructor) and the function's own checks, in the order of the Ethereum gateway
 * (bridge-relayer/contracts/RustChainBridge.sol), so a VAA with several faults gets the same code on both chains:
 *   completeTransfer  VAA_PAYLOAD/VAA_MALFORMED (payload 1 or 3), VAA_WRONG_CHAIN, VAA_CONSUMED, VAA_PAYLOAD (to is
 *                     not a 20-byte address), NOT_RECIPIENT (payload 3), ASSET_PAUSED, FEE_TOO_HIGH, ASSET_UNKNOWN;
 *                     then consumed, and queued by the governor or paid out
 *   outbound          ASSET_PAUSED, AMOUNT_TOO_SMALL, VAA_PAYLOAD (over 2^96 normalised), FEE_TOO_HIGH,
 *                     VAA_WRONG_CHAIN (no gateway registered for toChain)
 *   governance        VAA_GUARDIAN_SET_EXPIRED (only the current set governs), VAA_UNKNOWN_EMITTER, VAA_CONSUMED,
 *                     GOVERNANCE (lengths, unknown action), VAA_WRONG_CHAIN (chain neither 0 nor this one)
 *
 * Where docs/bridge.md leaves a choice, this gateway does what the Ethereum gateway does:
 *   - TransferCompleted carries the payload's normalised amount and fee (the same figures on both chains);
 *   - an address that refuses RTC (recipient, fee payee, dust, refund) reverts the call with NOT_RECIPIENT;
 *   - released queued transfers do not count towards a day window; the pause is checked again at release, and a
 *     queued transfer of a paused asset may be cancelled; a transfer to a non-20-byte `to` may be cancelled too;
 *   - refunds are paid whether or not the asset is paused; a refund is once per outbound sequence (ALREADY_REFUNDED),
 *     the Refund VAA itself is not consumed by digest;
 *   - a second createWrapped for an asset is VAA_PAYLOAD, and so is an AssetMeta not emitted by its home chain;
 *   - only the current guardian set signs governance.
 * And where the C gateway differs by construction: createWrapped takes a pre-deployed token (a C contract cannot
 * CREATE2 another), and refuses with ASSET_UNKNOWN a token whose code hash is not wrappedTokenCodeHash (an address
 * without code included), whose gateway() is not this contract, or that is already registered.
 *
 * Storage (slots; mappings at keccak256(key ‖ slot) as Solidity):
 *   0 uint16 chainId                      7 mapping(bytes32 digest => bool) consumed
 *   1 uint32 guardianSetIndex             8 mapping(bytes32 digest => uint64) queuedUntil
 *   2 uint64 guardianSetExpiry            9 mapping(bytes32 assetKey => address) wrappedAsset
 *   3 bytes32 wrappedTokenCodeHash       10 mapping(address token => {1 << 16 | tokenChain, tokenAddress}) wrapped info
 *   4 uint64 nextSequence                11 mapping(bytes32 assetKey => bool) paused
 *   5 mapping(uint32 => {size, expiry, keys[size]}) guardian sets
 *   6 mapping(uint16 chain => bytes32 emitter) registered gateways
 *  12 mapping(bytes32 assetKey => {dailyLimit, threshold, delay, window, flow}) governor
 *  13 mapping(uint64 sequence => {toChain u16 ‖ refunded u8 ‖ sender, token, amount}) outbound transfers
  14 uint16 governanceChain            15 bytes32 governanceContract
  16 uint256 messageFee                17 mapping(address emitter => uint64) next sequence of other emitters
  18 uint256 message fees collected and not yet transferred (TransferFees)
 (the gateway's own messages, sender = this contract, count in slot 4)
 * assetKey = keccak256(tokenChain u16 ‖ tokenAddress 32), as the Ethereum gateway.
 */
#include "../sdk/rustchain.h"

#define SEL_TRANSFER_NATIVE RC_SEL("transferNative(uint16,bytes32,uint256,uint32)", 0x5d7ed0d4)
#define SEL_TRANSFER_TOKENS RC_SEL("transferTokens(address,uint256,uint16,bytes32,uint256,uint32)", 0x0f5287b0)
#define SEL_ATTEST_TOKEN RC_SEL("attestToken(address,uint32)", 0xc48fa115)
#define SEL_CREATE_WRAPPED RC_SEL("createWrapped(bytes,address)", 0x768c447b)
#define SEL_COMPLETE_TRANSFER RC_SEL("completeTransfer(bytes)", 0xc6878519)
#define SEL_RELEASE_QUEUED RC_SEL("releaseQueued(bytes)", 0xae8c9643)
#define SEL_CANCEL_TRANSFER RC_SEL("cancelTransfer(bytes)", 0xc98acd03)
#define SEL_REFUND RC_SEL("refund(bytes)", 0x5eb7d946)
#define SEL_SUBMIT_GOVERNANCE RC_SEL("submitGovernance(bytes)", 0x5206bd1a)
#define SEL_CHAIN_ID RC_SEL("chainId()", 0x9a8a0592)
#define SEL_GUARDIAN_SET_INDEX RC_SEL("guardianSetIndex()", 0xcd788f52)
#define SEL_GUARDIAN_SET RC_SEL("guardianSet(uint32)", 0xfb3ac7a1)
#define SEL_IS_COMPLETED RC_SEL("isCompleted(bytes32)", 0x12cab545)
#define SEL_QUEUED_UNTIL RC_SEL("queuedUntil(bytes32)", 0x3236a0c8)
#define SEL_WRAPPED_ASSET RC_SEL("wrappedAsset(uint16,bytes32)", 0x1ff1e286)
#define SEL_OUTBOUND RC_SEL("outbound(uint64)", 0x90847f8e)
#define SEL_NEXT_SEQUENCE RC_SEL("nextSequence()", 0xb9a51a8e)
#define SEL_IS_PAUSED RC_SEL("isPaused(uint16,bytes32)", 0xb08bad39)
#define SEL_GUARDIAN_SET_EXPIRY RC_SEL("guardianSetExpiry()", 0x8cc0de7e)
#define SEL_WRAPPED_TOKEN_CODE_HASH RC_SEL("wrappedTokenCodeHash()", 0xa49feece)
#define SEL_REGISTERED_EMITTER RC_SEL("registeredEmitter(uint16)", 0xfebd0cb9)
#define SEL_PUBLISH_MESSAGE RC_SEL("publishMessage(uint32,bytes,uint8)", 0xb19a437e)
#define SEL_MESSAGE_FEE RC_SEL("messageFee()", 0x1a90a219)
#define SEL_NEXT_SEQUENCE_OF RC_SEL("nextSequence(address)", 0x4cf842b5)
#define SEL_GOVERNANCE_CHAIN_ID RC_SEL("governanceChainId()", 0xfbe3c2cd)
#define SEL_GOVERNANCE_CONTRACT RC_SEL("governanceContract()", 0xb172b222)

/* What the gateway calls on a wrapped token (wrapped_token.c); not functions of this contract's ABI. */
#define TOKEN_GATEWAY 0x116191b6u    /* gateway() */
#define TOKEN_INITIALIZE 0x1bcf0724u /* initialize(string,string,uint8,uint16,bytes32) */
#define TOKEN_MINT 0x40c10f19u       /* mint(address,uint256) */
#define TOKEN_BURN_FROM 0x79cc6790u  /* burnFrom(address,uint256) */

#define TOPIC_LOG_MESSAGE_PUBLISHED                                                                            \
  RC_TOPIC("LogMessagePublished(address,uint64,uint32,bytes,uint8)",                                           \
           "\x6e\xb2\x24\xfb\x00\x1e\xd2\x10\xe3\x79\xb3\x35\xe3\x5e\xfe\x88"                                  \
           "\x67\x2a\x8c\xe9\x35\xd9\x81\xa6\x89\x6b\x27\xff\xdf\x52\xa3\xb2")
#define TOPIC_TRANSFER_COMPLETED                                                                               \
  RC_TOPIC("TransferCompleted(bytes32,address,uint256,uint256)",                                               \
           "\x3f\x6a\xc8\x83\x71\xc5\xbe\x47\xa9\x21\xb7\x9d\x53\x64\x8f\x0f"                                  \
           "\xd3\x54\x8b\xb3\xb0\x9c\x86\xff\x8b\x43\xbe\xd4\x74\x3d\xa8\x11")
#define TOPIC_TRANSFER_QUEUED                                                                                  \
  RC_TOPIC("TransferQueued(bytes32,uint64)",                                                                   \
           "\xc0\x8f\x1b\xd1\x15\x43\xa4\x73\x20\xf4\x6e\x9c\x68\xf8\xa4\xdd"                                  \
           "\xdf\xb5\xc8\x85\x0d\x3b\x35\x75\xe7\x62\x1a\xad\x8e\xde\xae\xb2")
#define TOPIC_TRANSFER_CANCELLED                                                                               \
  RC_TOPIC("TransferCancelled(bytes32,uint64)",                                                                \
           "\x66\x29\x1c\xa0\x17\x32\x68\x94\xd0\xf2\x88\x49\x03\xa6\x0a\x05"                                  \
           "\x5e\x45\x73\x58\xad\x18\xd8\x6b\x91\x04\xd7\x4b\x57\x75\xe8\xde")
#define TOPIC_TRANSFER_REFUNDED                                                                                \
  RC_TOPIC("TransferRefunded(uint64,address,uint256)",                                                         \
           "\x27\x90\x7c\x3f\x21\x23\xb9\x14\x85\xc9\x39\xa6\x3b\xc6\x33\xdf"                                  \
           "\xd3\x27\x29\xda\x1c\x8c\x5e\x93\xfe\x27\x44\xdc\xbd\xcd\xae\x5a")
#define TOPIC_GOVERNANCE_EXECUTED                                                                              \
  RC_TOPIC("GovernanceExecuted(bytes32,bytes32,uint8)",                                                        \
           "\x39\x48\xc2\x41\xe1\x49\xae\x76\x33\x2c\x8f\xc8\x07\x74\x10\x0a"                                  \
           "\x23\xe8\x12\x13\x78\x7e\xdb\x33\xcc\xbd\x7a\x79\x7b\x40\x45\x05")

#define HEADER_BYTES 6u
#define SIGNATURE_BYTES 66u
#define BODY_FIXED_BYTES 51u
#define MAX_PAYLOAD_BYTES (64u * 1024u)
#define MAX_GUARDIANS 255u
#define CONSISTENCY_FINALIZED 1u
#define WINDOW_SECONDS 86400u
#define RTC_DECIMALS 18u
#define NORMALISED_DECIMALS 8u

#define PAYLOAD_TRANSFER 1u
#define PAYLOAD_ASSET_META 2u
#define PAYLOAD_TRANSFER_WITH_PAYLOAD 3u
#define PAYLOAD_REFUND 0x81u
#define TRANSFER_BYTES 133u
#define ASSET_META_BYTES 100u
#define REFUND_BYTES 41u
#define GOVERNANCE_HEADER_BYTES 35u

static const uint8_t SLOT_CHAIN_ID[32] = {[31] = 0};
static const uint8_t SLOT_GUARDIAN_SET_INDEX[32] = {[31] = 1};
static const uint8_t SLOT_GUARDIAN_SET_EXPIRY[32] = {[31] = 2};
static const uint8_t SLOT_WRAPPED_CODE_HASH[32] = {[31] = 3};
static const uint8_t SLOT_NEXT_SEQUENCE[32] = {[31] = 4};
static const uint8_t SLOT_GUARDIAN_SETS[32] = {[31] = 5};
static const uint8_t SLOT_EMITTERS[32] = {[31] = 6};
static const uint8_t SLOT_CONSUMED[32] = {[31] = 7};
static const uint8_t SLOT_QUEUED[32] = {[31] = 8};
static const uint8_t SLOT_WRAPPED_ASSET[32] = {[31] = 9};
static const uint8_t SLOT_WRAPPED_INFO[32] = {[31] = 10};
static const uint8_t SLOT_PAUSED[32] = {[31] = 11};
static const uint8_t SLOT_GOVERNOR[32] = {[31] = 12};
static const uint8_t SLOT_OUTBOUND[32] = {[31] = 13};
static const uint8_t SLOT_GOVERNANCE_CHAIN[32] = {[31] = 14};
static const uint8_t SLOT_GOVERNANCE_CONTRACT[32] = {[31] = 15};
static const uint8_t SLOT_MESSAGE_FEE[32] = {[31] = 16};
static const uint8_t SLOT_SEQUENCES[32] = {[31] = 17};
static const uint8_t SLOT_FEES_COLLECTED[32] = {[31] = 18};

#define fail(msg) revert_with_error_string(msg)

/* ------------------------------------------------------------------------------------------------------------ */
/* Small helpers                                                                                                */
/* ------------------------------------------------------------------------------------------------------------ */

static uint32_t be16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }
static uint64_t be64(const uint8_t *p) { return ((uint64_t)rc_get_u32_be(p) << 32) | rc_get_u32_be(p + 4); }
static void put_be16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put_be64(uint8_t *p, uint64_t v) {
  rc_put_u32_be(p, (uint32_t)(v >> 32));
  rc_put_u32_be(p + 4, (uint32_t)v);
}

static uint64_t sload_u64(const uint8_t slot[32]) {
  uint8_t w[32];
  sload(slot, w);
  return be64(w + 24);
}
static void sstore_u64(const uint8_t slot[32], uint64_t v) {
  uint8_t w[32];
  word_from_u64(w, v);
  sstore(slot, w);
}

static uint32_t abi_u16(const rc_abi *a, uint32_t i) {
  uint64_t v = abi_u64(a, i);
  if (v > 0xffffu) rc_revert_empty();
  return (uint32_t)v;
}
static uint32_t abi_u32(const rc_abi *a, uint32_t i) {
  uint64_t v = abi_u64(a, i);
  if (v > 0xffffffffu) rc_revert_empty();
  return (uint32_t)v;
}

/* mapping slot of a small integer key */
static void mapping_slot_u64(uint8_t out[32], uint64_t key, const uint8_t slot[32]) {
  uint8_t k[32];
  word_from_u64(k, key);
  mapping_slot(out, k, slot);
}

static uint16_t our_chain(void) { return (uint16_t)sload_u64(SLOT_CHAIN_ID); }
static uint64_t now(void) { return block_timestamp(); }

/* keccak256(tokenChain u16 ‖ tokenAddress 32) */
static void asset_key(uint8_t out[32], uint32_t token_chain, const uint8_t token_address[32]) {
  uint8_t b[34];
  put_be16(b, token_chain);
  memcpy(b + 2, token_address, 32);
  keccak256(b, 34, out);
}

static void digest_of(const uint8_t *body, uint32_t len, uint8_t out[32]) {
  uint8_t h[32];
  keccak256(body, len, h);
  keccak256(h, 32, out);
}

static const u256 *rtc_scale(void) {
  /* 10^(18 - 8) */
  static const u256 scale = {{10000000000ull, 0, 0, 0}};
  return &scale;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Calls to other accounts                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

/* Calls a contract without value; a failure reverts this call with the callee's revert data. */
static void call_or_bubble(const rc_address *to, const uint8_t *data, uint32_t len) {
  u256 zero = u256_zero();
  if (call_contract(to, &zero, 0, data, len) == 0) return;
  uint32_t n = returndata_size();
  uint8_t *buf = (uint8_t *)rc_alloc(n ? n : 1);
  returndata_copy(buf, 0, n);
  rc_revert(buf, n);
}

/* token.mint(to, amount) / token.burnFrom(from, amount) */
static void token_call_address_amount(uint32_t selector, const rc_address *token, const rc_address *who,
                                      const u256 *amount) {
  uint8_t data[68];
  rc_put_u32_be(data, selector);
  word_from_address(data + 4, who);
  u256_to_be(amount, data + 36);
  call_or_bubble(token, data, sizeof data);
}

static void send_rtc(const rc_address *to, const u256 *amount) {
  if (u256_is_zero(amount)) return;
  if (call_contract(to, amount, 0, NULL, 0) != 0) fail("NOT_RECIPIENT: the recipient refused RTC");
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Guardian sets and VAA verification                                                                           */
/* ------------------------------------------------------------------------------------------------------------ */

/* A guardian set lives at base = keccak256(index ‖ 5): base = size, base+1 = expiry, base+2+i = key i. */
static void guardian_set_base(uint8_t out[32], uint32_t index) { mapping_slot_u64(out, index, SLOT_GUARDIAN_SETS); }

static void store_guardian_set(uint32_t index, const uint8_t *keys, uint32_t n, uint32_t stride) {
  if (n == 0 || n > MAX_GUARDIANS) fail("GOVERNANCE: a guardian set has 1 to 255 keys");
  uint8_t base[32], s[32], w[32];
  guardian_set_base(base, index);
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *k = keys + i * stride;
    if (word_is_zero(k, 20)) fail("GOVERNANCE: zero guardian key");
    for (uint32_t j = 0; j < i; j++) {
      if (memcmp(k, keys + j * stride, 20) == 0) fail("GOVERNANCE: duplicate guardian key");
    }
    memset(w, 0, 12);
    memcpy(w + 12, k, 20);
    slot_add(s, base, 2 + i);
    sstore(s, w);
  }
  word_from_u64(w, n);
  sstore(base, w);
}

typedef struct {
  const uint8_t *body;
  uint32_t body_len;
  uint8_t digest[32];
  uint32_t set_index;
  /* body fields */
  uint32_t emitter_chain;
  const uint8_t *emitter_address; /* 32 bytes */
  uint64_t sequence;
  const uint8_t *payload;
  uint32_t payload_len;
} vaa_t;

/* The fixed fields of a body already known to be ≥ 51 bytes with a payload ≤ 64 KiB. */
static void parse_body(vaa_t *v) {
  const uint8_t *b = v->body;
  v->emitter_chain = be16(b + 8);
  v->emitter_address = b + 10;
  v->sequence = be64(b + 42);
  v->payload = b + BODY_FIXED_BYTES;
  v->payload_len = v->body_len - BODY_FIXED_BYTES;
  digest_of(v->body, v->body_len, v->digest);
}

static void set_body(vaa_t *v, const uint8_t *body, uint32_t len) {
  if (len < BODY_FIXED_BYTES) fail("VAA_MALFORMED: body shorter than 51 bytes");
  if (len - BODY_FIXED_BYTES > MAX_PAYLOAD_BYTES) fail("VAA_MALFORMED: payload over 64 KiB");
  v->body = body;
  v->body_len = len;
  parse_body(v);
}

/* Checks signatures, guardian set and quorum (see the header for the order) and parses the body. */
static void verify_vaa(rc_bytes raw, vaa_t *v) {
  const uint8_t *p = raw.ptr;
  uint32_t len = raw.len;
  if (len < HEADER_BYTES) fail("VAA_MALFORMED: shorter than the header");
  if (p[0] != 1) fail("VAA_VERSION: only VAA version 1");
  uint32_t set_index = rc_get_u32_be(p + 1);
  uint32_t n = p[5];
  uint32_t body_start = HEADER_BYTES + n * SIGNATURE_BYTES;
  if (len < body_start + BODY_FIXED_BYTES) fail("VAA_MALFORMED: truncated signatures or body");
  set_body(v, p + body_start, len - body_start);
  v->set_index = set_index;

  uint8_t base[32], s[32], w[32];
  guardian_set_base(base, set_index);
  sload(base, w);
  uint32_t size = (uint32_t)be64(w + 24);
  if (size == 0) fail("VAA_UNKNOWN_GUARDIAN_SET");
  if (set_index != (uint32_t)sload_u64(SLOT_GUARDIAN_SET_INDEX)) {
    slot_add(s, base, 1);
    if (now() > sload_u64(s)) fail("VAA_GUARDIAN_SET_EXPIRED");
  }
  if (n < (size * 2u) / 3u + 1u) fail("VAA_QUORUM: too few signatures");
  uint32_t next = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *sig = p + HEADER_BYTES + i * SIGNATURE_BYTES;
    uint32_t index = sig[0];
    if (index < next || index >= size) fail("VAA_SIGNATURE_ORDER");
    next = index + 1;
    rc_address signer;
    /* r 32 | s 32 | v 1 are contiguous in the VAA: the host's layout. It answers 0 for high s or v > 1. */
    if (!secp256k1_recover(v->digest, sig + 1, &signer)) fail("VAA_BAD_SIGNATURE: not a valid signature");
    slot_add(s, base, 2 + index);
    sload(s, w);
    if (memcmp(w + 12, signer.b, 20) != 0) fail("VAA_BAD_SIGNATURE");
  }
}

static void consumed_slot(uint8_t out[32], const uint8_t digest[32]) { mapping_slot(out, digest, SLOT_CONSUMED); }
static int is_consumed(const uint8_t digest[32]) {
  uint8_t s[32], w[32];
  consumed_slot(s, digest);
  sload(s, w);
  return !word_is_zero(w, 32);
}
static void consume(const uint8_t digest[32]) {
  uint8_t s[32];
  consumed_slot(s, digest);
  sstore_u64(s, 1);
}

static void require_registered_emitter(const vaa_t *v) {
  uint8_t s[32], w[32];
  mapping_slot_u64(s, v->emitter_chain, SLOT_EMITTERS);
  sload(s, w);
  if (word_is_zero(w, 32) || memcmp(w, v->emitter_address, 32) != 0) fail("VAA_UNKNOWN_EMITTER");
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Publishing                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------ */

/* The slot holding an emitter's next sequence: slot 4 for this gateway, sequences[emitter] for any other. */
static void sequence_slot(uint8_t out[32], const rc_address *emitter) {
  rc_address self = self_address();
  if (address_eq(emitter, &self)) memcpy(out, SLOT_NEXT_SEQUENCE, 32);
  else mapping_slot_address(out, emitter, SLOT_SEQUENCES);
}

/* Emits LogMessagePublished(emitter, sequence, nonce, payload, consistencyLevel) and returns the emitter's sequence.
   The committee (or Wormhole's guardians) build the body from the log and this block's timestamp
   (shared/src/bridge/messageLog.ts) once the block is at the consistency level's tag (consistencyTag). */
static uint64_t publish_as(const rc_address *emitter, uint32_t nonce, const uint8_t *payload, uint32_t len,
                           uint32_t consistency) {
  uint8_t slot[32];
  sequence_slot(slot, emitter);
  uint64_t seq = sload_u64(slot);
  sstore_u64(slot, seq + 1);

  abi_enc e = abi_enc_new(4, abi_tail_size(len));
  abi_enc_u64(&e, 0, seq);
  abi_enc_u64(&e, 1, nonce);
  abi_enc_bytes(&e, 2, payload, len);
  abi_enc_u64(&e, 3, consistency);
  uint8_t sender[32];
  word_from_address(sender, emitter);
  emit_event1(TOPIC_LOG_MESSAGE_PUBLISHED, sender, e.buf, e.len);
  return seq;
}

/* The token bridge's own messages: emitter this gateway, signed only once final. */
static uint64_t publish(uint32_t nonce, const uint8_t *payload, uint32_t len) {
  rc_address self = self_address();
  return publish_as(&self, nonce, payload, len, CONSISTENCY_FINALIZED);
}

/* The fees in this contract's balance that TransferFees may pay out (the rest of the balance is escrow). */
static void collect_fee(const u256 *fee) {
  if (u256_is_zero(fee)) return;
  u256 collected = sload_u256(SLOT_FEES_COLLECTED);
  collected = u256_add_checked(&collected, fee);
  sstore_u256(SLOT_FEES_COLLECTED, &collected);
}

/* Every message pays the message fee (0 unless governance set one), which stays in this contract. */
static void require_message_fee(const u256 *paid) {
  u256 fee = sload_u256(SLOT_MESSAGE_FEE);
  if (!u256_eq(paid, &fee)) fail("MESSAGE_FEE: the value must be the message fee");
  collect_fee(&fee);
}

/* Transfer (1): amount u256 · tokenAddress 32 · tokenChain u16 · to 32 · toChain u16 · fee u256 */
static uint64_t publish_transfer(const u256 *amount, const uint8_t token_address[32], uint32_t token_chain,
                                 const uint8_t to[32], uint32_t to_chain, const u256 *fee, uint32_t nonce) {
  uint8_t p[TRANSFER_BYTES];
  p[0] = PAYLOAD_TRANSFER;
  u256_to_be(amount, p + 1);
  memcpy(p + 33, token_address, 32);
  put_be16(p + 65, token_chain);
  memcpy(p + 67, to, 32);
  put_be16(p + 99, to_chain);
  u256_to_be(fee, p + 101);
  return publish(nonce, p, sizeof p);
}

/* outbound[seq] at base = keccak256(seq ‖ 13): base = toChain u16 (bytes 8-9) ‖ refunded (byte 11) ‖ sender (12-31),
   base+1 = token (0 for RTC, not written then), base+2 = amount escrowed or burned. Three slots, two for an RTC
   deposit: each new slot costs 20,000 gas. */
#define OUTBOUND_TO_CHAIN 8
#define OUTBOUND_REFUNDED 11
static void record_outbound(uint64_t seq, const rc_address *sender, const rc_address *token, const u256 *amount,
                            uint32_t to_chain) {
  uint8_t base[32], s[32], w[32];
  mapping_slot_u64(base, seq, SLOT_OUTBOUND);
  word_from_address(w, sender);
  put_be16(w + OUTBOUND_TO_CHAIN, to_chain);
  sstore(base, w);
  if (!address_is_zero(token)) {
    slot_add(s, base, 1);
    word_from_address(w, token);
    sstore(s, w);
  }
  slot_add(s, base, 2);
  sstore_u256(s, amount);
}

static int asset_paused(const uint8_t key[32]) {
  uint8_t s[32], w[32];
  mapping_slot(s, key, SLOT_PAUSED);
  sload(s, w);
  return !word_is_zero(w, 32);
}

/* The checks every outbound transfer passes, in the Ethereum gateway's order. */
static void check_outbound(uint32_t token_chain, const uint8_t token_address[32], const u256 *amount, const u256 *fee,
                           uint32_t to_chain) {
  uint8_t key[32], s[32], w[32];
  asset_key(key, token_chain, token_address);
  if (asset_paused(key)) fail("ASSET_PAUSED");
  if (u256_is_zero(amount)) fail("AMOUNT_TOO_SMALL");
  /* as the Ethereum gateway, whose outbound records hold 96 bits */
  if (amount->w[2] != 0 || amount->w[3] != 0 || (amount->w[1] >> 32) != 0)
    fail("VAA_PAYLOAD: amount above 2^96 normalised units");
  if (u256_lt(amount, fee)) fail("FEE_TOO_HIGH");
  /* a transfer to a chain without a registered gateway could never complete nor be cancelled */
  mapping_slot_u64(s, to_chain, SLOT_EMITTERS);
  sload(s, w);
  if (to_chain == our_chain() || word_is_zero(w, 32)) fail("VAA_WRONG_CHAIN: no gateway registered for toChain");
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Token bridge payloads                                                                                        */
/* ------------------------------------------------------------------------------------------------------------ */

typedef struct {
  uint32_t payload_id; /* 1 or 3 */
  u256 amount;
  const uint8_t *token_address;
  uint32_t token_chain;
  const uint8_t *to;
  uint32_t to_chain;
  u256 fee; /* 0 for payload 3 */
} transfer_t;

static void decode_transfer(const uint8_t *p, uint32_t len, transfer_t *t) {
  if (len == 0) fail("VAA_PAYLOAD: empty payload");
  t->payload_id = p[0];
  if (t->payload_id == PAYLOAD_TRANSFER) {
    if (len != TRANSFER_BYTES) fail("VAA_MALFORMED: a Transfer payload is 133 bytes");
  } else if (t->payload_id == PAYLOAD_TRANSFER_WITH_PAYLOAD) {
    if (len < TRANSFER_BYTES) fail("VAA_MALFORMED: a TransferWithPayload is at least 133 bytes");
  } else {
    fail("VAA_PAYLOAD: not a Transfer or TransferWithPayload");
  }
  t->amount = u256_from_be(p + 1);
  t->token_address = p + 33;
  t->token_chain = be16(p + 65);
  t->to = p + 67;
  t->to_chain = be16(p + 99);
  t->fee = t->payload_id == PAYLOAD_TRANSFER ? u256_from_be(p + 101) : u256_zero();
}

/* What an inbound transfer pays out with: RTC coming home, or a registered wrapped token. */
typedef struct {
  int native;          /* RTC: released from the escrow, amounts × 10^10 */
  rc_address token;    /* the wrapped token otherwise */
  uint8_t key[32];     /* assetKey */
  rc_address to;       /* the recipient */
} inbound_t;

static int is_evm_address(const uint8_t w[32]) { return word_is_zero(w, 12); }

/* The checks every inbound transfer passes after its VAA (completeTransfer, releaseQueued), in the Ethereum
   gateway's order: VAA_PAYLOAD (to), NOT_RECIPIENT (payload 3), ASSET_PAUSED, FEE_TOO_HIGH, ASSET_UNKNOWN. */
static void resolve_inbound(const transfer_t *t, inbound_t *in) {
  if (!is_evm_address(t->to)) fail("VAA_PAYLOAD: to is not a 20-byte address");
  memcpy(in->to.b, t->to + 12, 20);
  if (t->payload_id == PAYLOAD_TRANSFER_WITH_PAYLOAD) {
    rc_address sender = msg_sender();
    if (!address_eq(&sender, &in->to)) fail("NOT_RECIPIENT");
  }
  asset_key(in->key, t->token_chain, t->token_address);
  if (asset_paused(in->key)) fail("ASSET_PAUSED");
  if (u256_lt(&t->amount, &t->fee)) fail("FEE_TOO_HIGH");
  in->native = 0;
  if (t->token_chain == our_chain()) {
    if (!word_is_zero(t->token_address, 32)) fail("ASSET_UNKNOWN: RustChain tokens other than RTC are not bridged");
    in->native = 1;
    return;
  }
  uint8_t s[32], w[32];
  mapping_slot(s, in->key, SLOT_WRAPPED_ASSET);
  sload(s, w);
  if (word_is_zero(w, 32)) fail("ASSET_UNKNOWN");
  memcpy(in->token.b, w + 12, 20);
}

/* Pays out a verified, admitted transfer: `to` gets amount − fee, msg.sender the fee (RTC: × 10^10). The event
   carries the payload's normalised amount and fee, the same figures as on Ethereum. */
static void pay_out(const transfer_t *t, const inbound_t *in, const uint8_t digest[32]) {
  rc_address sender = msg_sender();
  u256 amount = t->amount, fee = t->fee;
  if (in->native) {
    amount = u256_mul_checked(&amount, rtc_scale());
    fee = u256_mul_checked(&fee, rtc_scale());
  }
  u256 net = u256_sub_checked(&amount, &fee);
  if (in->native) {
    send_rtc(&in->to, &net);
    send_rtc(&sender, &fee);
  } else {
    if (!u256_is_zero(&net)) token_call_address_amount(TOKEN_MINT, &in->token, &in->to, &net);
    if (!u256_is_zero(&fee)) token_call_address_amount(TOKEN_MINT, &in->token, &sender, &fee);
  }
  uint8_t to_word[32], data[64];
  word_from_address(to_word, &in->to);
  u256_to_be(&t->amount, data);
  u256_to_be(&t->fee, data + 32);
  emit_event2(TOPIC_TRANSFER_COMPLETED, digest, to_word, data, 64);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Governor (as bridge-relayer/contracts/BridgeGovernor.sol)                                                    */
/* ------------------------------------------------------------------------------------------------------------ */

/* governor[key] at base = keccak256(key ‖ 12): dailyLimit, threshold, delay, window, flow */
static void governor_base(uint8_t out[32], const uint8_t key[32]) { mapping_slot(out, key, SLOT_GOVERNOR); }

static void queued_slot(uint8_t out[32], const uint8_t digest[32]) { mapping_slot(out, digest, SLOT_QUEUED); }

/* 0 when the transfer may be paid now (its amount then counts in the day window), else its release time (queued). */
static uint64_t governor_admit(const uint8_t key[32], const uint8_t digest[32], const u256 *amount) {
  uint8_t base[32], s[32];
  governor_base(base, key);
  u256 daily = sload_u256(base);
  slot_add(s, base, 1);
  u256 threshold = sload_u256(s);
  if (u256_is_zero(&daily) && u256_is_zero(&threshold)) return 0;
  slot_add(s, base, 2);
  uint64_t delay = sload_u64(s);
  uint64_t t = now();
  uint64_t window = t / WINDOW_SECONDS;
  slot_add(s, base, 3);
  uint64_t flow_window = sload_u64(s);
  slot_add(s, base, 4);
  u256 flow = flow_window == window ? sload_u256(s) : u256_zero();
  uint64_t after_delay = t + delay;
  uint64_t release = 0;
  if (!u256_is_zero(&threshold) && !u256_lt(amount, &threshold)) {
    release = after_delay;
  } else if (!u256_is_zero(&daily)) {
    u256 room; /* dailyLimit − flow; a borrow means the window is already over its limit */
    if (u256_sub(&room, &daily, &flow) || u256_is_zero(&room) || u256_lt(&room, amount)) {
      uint64_t next_window = (window + 1) * WINDOW_SECONDS;
      release = after_delay > next_window ? after_delay : next_window;
    }
  }
  if (release != 0) {
    queued_slot(s, digest);
    sstore_u64(s, release);
    uint8_t data[32];
    word_from_u64(data, release);
    emit_event1(TOPIC_TRANSFER_QUEUED, digest, data, 32);
    return release;
  }
  if (!u256_is_zero(&daily)) {
    u256_add(&flow, &flow, amount); /* ≤ dailyLimit here */
    slot_add(s, base, 3);
    sstore_u64(s, window);
    slot_add(s, base, 4);
    sstore_u256(s, &flow);
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Functions                                                                                                    */
/* ------------------------------------------------------------------------------------------------------------ */

RC_NORETURN static void complete_transfer(rc_bytes raw) {
  vaa_t v;
  verify_vaa(raw, &v);
  require_registered_emitter(&v);
  transfer_t t;
  decode_transfer(v.payload, v.payload_len, &t);
  if (t.to_chain != our_chain()) fail("VAA_WRONG_CHAIN");
  if (is_consumed(v.digest)) fail("VAA_CONSUMED");
  inbound_t in;
  resolve_inbound(&t, &in);
  consume(v.digest);
  if (governor_admit(in.key, v.digest, &t.amount) != 0) return_void();
  pay_out(&t, &in, v.digest);
  return_void();
}

RC_NORETURN static void release_queued(rc_bytes body) {
  uint8_t digest[32], s[32];
  digest_of(body.ptr, body.len, digest);
  queued_slot(s, digest);
  uint64_t release = sload_u64(s);
  if (release == 0) fail("NOT_QUEUED");
  if (now() < release) fail("NOT_RELEASED");
  sstore_u64(s, 0);
  vaa_t v;
  set_body(&v, body.ptr, body.len);
  transfer_t t;
  decode_transfer(v.payload, v.payload_len, &t);
  inbound_t in;
  resolve_inbound(&t, &in); /* the pause is checked again: a paused queued transfer waits or is cancelled */
  pay_out(&t, &in, v.digest);
  return_void();
}

/* A transfer that cannot complete here (its asset is paused, or `to` is not a 20-byte address) is consumed, also
   when queued, and answered with a Refund (0x81) naming its sequence and digest. */
static uint64_t cancel_transfer(rc_bytes raw) {
  vaa_t v;
  verify_vaa(raw, &v);
  require_registered_emitter(&v);
  transfer_t t;
  decode_transfer(v.payload, v.payload_len, &t);
  if (t.to_chain != our_chain()) fail("VAA_WRONG_CHAIN");
  uint8_t key[32], s[32];
  queued_slot(s, v.digest);
  if (sload_u64(s) != 0) sstore_u64(s, 0); /* queued: consumed but not paid, so still cancellable */
  else if (is_consumed(v.digest)) fail("VAA_CONSUMED");
  asset_key(key, t.token_chain, t.token_address);
  if (!asset_paused(key) && is_evm_address(t.to)) fail("NOT_CANCELLABLE: the transfer can complete here");
  consume(v.digest);
  uint8_t p[REFUND_BYTES];
  p[0] = PAYLOAD_REFUND;
  put_be64(p + 1, v.sequence);
  memcpy(p + 9, v.digest, 32);
  uint64_t seq = publish(0, p, sizeof p);
  uint8_t data[32];
  word_from_u64(data, seq);
  emit_event1(TOPIC_TRANSFER_CANCELLED, v.digest, data, 32);
  return seq;
}

/* A Refund from the gateway of the chain a transfer went to pays its recorded sender the recorded amount, once. */
RC_NORETURN static void refund(rc_bytes raw) {
  vaa_t v;
  verify_vaa(raw, &v);
  require_registered_emitter(&v);
  const uint8_t *p = v.payload;
  if (v.payload_len == 0 || p[0] != PAYLOAD_REFUND) fail("VAA_PAYLOAD: not a Refund");
  if (v.payload_len != REFUND_BYTES) fail("VAA_MALFORMED: a Refund payload is 41 bytes");
  uint64_t seq = be64(p + 1);
  uint8_t base[32], s[32], w[32], record[32];
  mapping_slot_u64(base, seq, SLOT_OUTBOUND);
  sload(base, record);
  if (word_is_zero(record + 12, 20)) fail("VAA_PAYLOAD: no outbound transfer with this sequence");
  if (be16(record + OUTBOUND_TO_CHAIN) != v.emitter_chain)
    fail("VAA_PAYLOAD: the transfer did not go to the refunding chain");
  if (record[OUTBOUND_REFUNDED] != 0) fail("ALREADY_REFUNDED");
  record[OUTBOUND_REFUNDED] = 1;
  sstore(base, record);
  rc_address sender;
  memcpy(sender.b, record + 12, 20);
  slot_add(s, base, 1);
  sload(s, w);
  rc_address token;
  memcpy(token.b, w + 12, 20);
  slot_add(s, base, 2);
  u256 amount = sload_u256(s);
  if (address_is_zero(&token)) send_rtc(&sender, &amount);
  else token_call_address_amount(TOKEN_MINT, &token, &sender, &amount);
  uint8_t seq_word[32], sender_word[32], data[32];
  word_from_u64(seq_word, seq);
  word_from_address(sender_word, &sender);
  u256_to_be(&amount, data);
  emit_event2(TOPIC_TRANSFER_REFUNDED, seq_word, sender_word, data, 32);
  return_void();
}

static uint64_t transfer_native(const rc_abi *args) {
  uint32_t to_chain = abi_u16(args, 0);
  const uint8_t *to = abi_bytes32(args, 1);
  u256 fee = abi_u256(args, 2);
  uint32_t nonce = abi_u32(args, 3);
  u256 value = msg_value();
  /* the message fee first, as Wormhole's wrapAndTransferETH; the rest is the transfer */
  u256 message_fee = sload_u256(SLOT_MESSAGE_FEE);
  if (u256_sub(&value, &value, &message_fee)) fail("MESSAGE_FEE: the value is below the message fee");
  collect_fee(&message_fee);
  /* amount = value / 10^10 in two steps (the SDK divides by 32-bit numbers), dust = value mod 10^10 */
  u256 q1, amount;
  uint32_t r1 = u256_divmod_u32(&q1, &value, 100000u);
  uint32_t r2 = u256_divmod_u32(&amount, &q1, 100000u);
  u256 dust = u256_from_u64((uint64_t)r2 * 100000u + r1);
  uint16_t chain = our_chain();
  uint8_t zero[32] = {0};
  check_outbound(chain, zero, &amount, &fee, to_chain);
  rc_address sender = msg_sender();
  uint64_t seq = publish_transfer(&amount, zero, chain, to, to_chain, &fee, nonce);
  u256 escrowed = u256_sub_checked(&value, &dust);
  rc_address native = {{0}};
  record_outbound(seq, &sender, &native, &escrowed, to_chain);
  send_rtc(&sender, &dust); /* the dust never leaves the sender */
  return seq;
}

/* The home identity of a registered wrapped token (0 if the token is not one). */
static int wrapped_info(const rc_address *token, uint32_t *token_chain, uint8_t token_address[32]) {
  uint8_t base[32], s[32], w[32];
  mapping_slot_address(base, token, SLOT_WRAPPED_INFO);
  sload(base, w);
  if (word_is_zero(w, 32)) return 0;
  *token_chain = (uint32_t)(be64(w + 24) & 0xffffu);
  slot_add(s, base, 1);
  sload(s, token_address);
  return 1;
}

static uint64_t transfer_tokens(const rc_abi *args) {
  rc_address token = abi_address(args, 0);
  u256 amount = abi_u256(args, 1);
  uint32_t to_chain = abi_u16(args, 2);
  const uint8_t *to = abi_bytes32(args, 3);
  u256 fee = abi_u256(args, 4);
  uint32_t nonce = abi_u32(args, 5);
  u256 paid = msg_value();
  require_message_fee(&paid);
  uint32_t token_chain;
  uint8_t token_address[32];
  if (address_is_zero(&token)) fail("ASSET_UNKNOWN: RTC goes through transferNative");
  if (!wrapped_info(&token, &token_chain, token_address)) fail("ASSET_UNKNOWN: not a wrapped token of this gateway");
  /* Wrapped tokens have min(d, 8) decimals: the amount is already normalised. */
  check_outbound(token_chain, token_address, &amount, &fee, to_chain);
  rc_address sender = msg_sender();
  token_call_address_amount(TOKEN_BURN_FROM, &token, &sender, &amount);
  uint64_t seq = publish_transfer(&amount, token_address, token_chain, to, to_chain, &fee, nonce);
  record_outbound(seq, &sender, &token, &amount, to_chain);
  return seq;
}

static uint64_t attest_token(const rc_abi *args) {
  rc_address token = abi_address(args, 0);
  uint32_t nonce = abi_u32(args, 1);
  u256 paid = msg_value();
  require_message_fee(&paid);
  if (!address_is_zero(&token)) fail("ASSET_UNKNOWN: only RTC (address 0) is attested here");
  /* AssetMeta (2): tokenAddress 32 · tokenChain u16 · decimals u8 · symbol 32 · name 32 */
  uint8_t p[ASSET_META_BYTES];
  memset(p, 0, sizeof p);
  p[0] = PAYLOAD_ASSET_META;
  put_be16(p + 33, our_chain());
  p[35] = RTC_DECIMALS;
  memcpy(p + 36, "RTC", 3);
  memcpy(p + 68, "RustChain", 9);
  return publish(nonce, p, sizeof p);
}

/* Length of a zero-padded bytes32 string (trailing zeros dropped). */
static uint32_t padded_len(const uint8_t *b) {
  uint32_t n = 32;
  while (n > 0 && b[n - 1] == 0) n--;
  return n;
}

RC_NORETURN static void create_wrapped(rc_bytes raw, const rc_address *token) {
  vaa_t v;
  verify_vaa(raw, &v);
  require_registered_emitter(&v);
  const uint8_t *p = v.payload;
  if (v.payload_len == 0 || p[0] != PAYLOAD_ASSET_META) fail("VAA_PAYLOAD: not an AssetMeta");
  if (v.payload_len != ASSET_META_BYTES) fail("VAA_MALFORMED: an AssetMeta payload is 100 bytes");
  const uint8_t *token_address = p + 1;
  uint32_t token_chain = be16(p + 33);
  uint32_t decimals = p[35];
  if (token_chain == our_chain()) fail("VAA_PAYLOAD: an asset of this chain is not wrapped here");
  if (token_chain != v.emitter_chain) fail("VAA_PAYLOAD: AssetMeta not from the asset's home chain");
  if (is_consumed(v.digest)) fail("VAA_CONSUMED");
  uint8_t key[32], s[32], w[32];
  asset_key(key, token_chain, token_address);
  mapping_slot(s, key, SLOT_WRAPPED_ASSET);
  sload(s, w);
  if (!word_is_zero(w, 32)) fail("VAA_PAYLOAD: the wrapped asset exists");

  /* The token must be the wrapped-token code, owned by this gateway, and not registered yet. */
  uint8_t hash[32], want[32];
  code_hash_of(token, hash);
  sload(SLOT_WRAPPED_CODE_HASH, want);
  if (memcmp(hash, want, 32) != 0) fail("ASSET_UNKNOWN: the token's code is not the wrapped token's");
  uint32_t ignored_chain;
  uint8_t ignored_address[32];
  if (wrapped_info(token, &ignored_chain, ignored_address)) fail("ASSET_UNKNOWN: the token is already registered");
  uint8_t sel[4];
  rc_put_u32_be(sel, TOKEN_GATEWAY);
  call_or_bubble(token, sel, 4);
  rc_address self = self_address();
  uint8_t gw[32];
  if (returndata_size() < 32) fail("ASSET_UNKNOWN: the token has no gateway()");
  returndata_copy(gw, 0, 32);
  if (!word_is_zero(gw, 12) || memcmp(gw + 12, self.b, 20) != 0)
    fail("ASSET_UNKNOWN: the token's gateway is not this gateway");

  /* initialize(name, symbol, min(decimals, 8), tokenChain, tokenAddress) */
  const uint8_t *symbol = p + 36, *name = p + 68;
  uint32_t name_len = padded_len(name), symbol_len = padded_len(symbol);
  abi_enc e = abi_enc_new(5, abi_tail_size(name_len) + abi_tail_size(symbol_len));
  abi_enc_bytes(&e, 0, name, name_len);
  abi_enc_bytes(&e, 1, symbol, symbol_len);
  abi_enc_u64(&e, 2, decimals > NORMALISED_DECIMALS ? NORMALISED_DECIMALS : decimals);
  abi_enc_u64(&e, 3, token_chain);
  abi_enc_word(&e, 4, token_address);
  uint8_t *data = (uint8_t *)rc_alloc(4 + e.len);
  rc_put_u32_be(data, TOKEN_INITIALIZE);
  memcpy(data + 4, e.buf, e.len);
  call_or_bubble(token, data, 4 + e.len);

  consume(v.digest);
  word_from_address(w, token);
  sstore(s, w);
  uint8_t base[32];
  mapping_slot_address(base, token, SLOT_WRAPPED_INFO);
  sstore_u64(base, (1u << 16) | token_chain);
  slot_add(s, base, 1);
  sstore(s, token_address);
  return_void();
}

/* Left-padded ASCII module name compare. */
static int module_is(const uint8_t m[32], const char *name) {
  uint32_t n = rc_strlen(name);
  return word_is_zero(m, 32 - n) && memcmp(m + 32 - n, name, n) == 0;
}

RC_NORETURN static void submit_governance(rc_bytes raw) {
  vaa_t v;
  verify_vaa(raw, &v);
  if (v.set_index != (uint32_t)sload_u64(SLOT_GUARDIAN_SET_INDEX))
    fail("VAA_GUARDIAN_SET_EXPIRED: governance needs the current guardian set");
  uint8_t governance_contract[32];
  sload(SLOT_GOVERNANCE_CONTRACT, governance_contract);
  if (v.emitter_chain != (uint32_t)sload_u64(SLOT_GOVERNANCE_CHAIN) ||
      memcmp(v.emitter_address, governance_contract, 32) != 0)
    fail("VAA_UNKNOWN_EMITTER: not the governance emitter");
  if (is_consumed(v.digest)) fail("VAA_CONSUMED");
  const uint8_t *p = v.payload;
  uint32_t len = v.payload_len;
  if (len < GOVERNANCE_HEADER_BYTES) fail("GOVERNANCE: payload shorter than module, action and chain");
  const uint8_t *module = p;
  uint32_t action = p[32];
  uint32_t chain = be16(p + 33);
  if (chain != 0 && chain != our_chain()) fail("VAA_WRONG_CHAIN: governance for another chain");
  const uint8_t *f = p + GOVERNANCE_HEADER_BYTES;
  uint32_t flen = len - GOVERNANCE_HEADER_BYTES;
  uint8_t s[32], key[32];
  if (module_is(module, "Core") && action == 2) {
    /* GuardianSetUpgrade: newIndex u32 · n u8 · n × address 20 */
    if (flen < 5) fail("GOVERNANCE: GuardianSetUpgrade too short");
    uint32_t new_index = rc_get_u32_be(f);
    uint32_t n = f[4];
    if (flen != 5 + 20 * n) fail("GOVERNANCE: GuardianSetUpgrade length");
    uint32_t current = (uint32_t)sload_u64(SLOT_GUARDIAN_SET_INDEX);
    if (new_index != current + 1) fail("GOVERNANCE: new guardian set index must be current + 1");
    uint8_t base[32];
    guardian_set_base(base, current);
    slot_add(s, base, 1);
    sstore_u64(s, now() + sload_u64(SLOT_GUARDIAN_SET_EXPIRY));
    store_guardian_set(new_index, f + 5, n, 20);
    sstore_u64(SLOT_GUARDIAN_SET_INDEX, new_index);
  } else if (module_is(module, "Core") && action == 3) {
    /* SetMessageFee: fee u256 (Wormhole's core governance, action 3) */
    if (flen != 32) fail("GOVERNANCE: SetMessageFee length");
    sstore(SLOT_MESSAGE_FEE, f);
  } else if (module_is(module, "Core") && action == 4) {
    /* TransferFees: amount u256 · recipient 32 (Wormhole's core governance, action 4), for this chain by name; pays
       out of the fees collected, never out of the escrow */
    if (flen != 64) fail("GOVERNANCE: TransferFees length");
    if (chain == 0) fail("GOVERNANCE: TransferFees names this chain");
    if (!word_is_zero(f + 32, 12)) fail("GOVERNANCE: TransferFees recipient is not a 20-byte address");
    u256 amount = u256_from_be(f);
    u256 collected = sload_u256(SLOT_FEES_COLLECTED);
    if (u256_sub(&collected, &collected, &amount)) fail("GOVERNANCE: TransferFees is more than the fees collected");
    sstore_u256(SLOT_FEES_COLLECTED, &collected);
    rc_address recipient;
    memcpy(recipient.b, f + 44, 20);
    consume(v.digest); /* before the call out: the recipient cannot replay it */
    send_rtc(&recipient, &amount);
  } else if (module_is(module, "TokenBridge") && action == 1) {
    /* RegisterChain: emitterChain u16 · emitterAddress 32 */
    if (flen != 34) fail("GOVERNANCE: RegisterChain length");
    uint32_t emitter_chain = be16(f);
    if (emitter_chain == 0 || emitter_chain == our_chain()) fail("GOVERNANCE: cannot register this chain or chain 0");
    mapping_slot_u64(s, emitter_chain, SLOT_EMITTERS);
    sstore(s, f + 2);
  } else if (module_is(module, "RustChainBridge") && action == 1) {
    /* SetPaused: tokenChain u16 · tokenAddress 32 · paused u8 */
    if (flen != 35) fail("GOVERNANCE: SetPaused length");
    if (f[34] > 1) fail("GOVERNANCE: paused is 0 or 1");
    asset_key(key, be16(f), f + 2);
    mapping_slot(s, key, SLOT_PAUSED);
    sstore_u64(s, f[34] != 0);
  } else if (module_is(module, "RustChainBridge") && action == 2) {
    /* SetGovernor: tokenChain u16 · tokenAddress 32 · dailyLimit u256 · threshold u256 · delay u32 */
    if (flen != 102) fail("GOVERNANCE: SetGovernor length");
    asset_key(key, be16(f), f + 2);
    uint8_t base[32];
    governor_base(base, key);
    sstore(base, f + 34);
    slot_add(s, base, 1);
    sstore(s, f + 66);
    slot_add(s, base, 2);
    sstore_u64(s, rc_get_u32_be(f + 98));
  } else {
    fail("GOVERNANCE: unknown module or action");
  }
  consume(v.digest);
  uint8_t data[64];
  memcpy(data, module, 32);
  word_from_u64(data + 32, action);
  emit_event1(TOPIC_GOVERNANCE_EXECUTED, v.digest, data, 64);
  return_void();
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Entry points                                                                                                 */
/* ------------------------------------------------------------------------------------------------------------ */

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  uint32_t chain = abi_u16(&args, 0);
  uint32_t n;
  const uint8_t *guardians = abi_words(&args, 1, &n);
  uint64_t expiry = abi_u64(&args, 2);
  uint32_t remote_chain = abi_u16(&args, 3);
  const uint8_t *remote_gateway = abi_bytes32(&args, 4);
  const uint8_t *code_hash = abi_bytes32(&args, 5);
  uint32_t set_index = abi_u32(&args, 6);
  uint32_t governance_chain = abi_u16(&args, 7);
  const uint8_t *governance_contract = abi_bytes32(&args, 8);
  for (uint32_t i = 0; i < n; i++) {
    if (!word_is_zero(guardians + 32 * i, 12)) rc_revert_empty();
  }
  if (chain == 0) fail("GOVERNANCE: chain id 0");
  sstore_u64(SLOT_CHAIN_ID, chain);
  sstore_u64(SLOT_GUARDIAN_SET_EXPIRY, expiry);
  sstore(SLOT_WRAPPED_CODE_HASH, code_hash);
  if (governance_chain == 0 || word_is_zero(governance_contract, 32)) fail("GOVERNANCE: no governance emitter");
  sstore_u64(SLOT_GOVERNANCE_CHAIN, governance_chain);
  sstore(SLOT_GOVERNANCE_CONTRACT, governance_contract);
  sstore_u64(SLOT_GUARDIAN_SET_INDEX, set_index);
  store_guardian_set(set_index, guardians + 12, n, 32);
  if (remote_chain != 0) {
    if (remote_chain == chain) fail("GOVERNANCE: cannot register that chain");
    uint8_t s[32];
    mapping_slot_u64(s, remote_chain, SLOT_EMITTERS);
    sstore(s, remote_gateway);
  }
}

RC_NORETURN static void return_slot_word(const uint8_t slot[32]) {
  uint8_t w[32];
  sload(slot, w);
  return_word(w);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  /* the functions that publish take the message fee */
  if (selector != SEL_TRANSFER_NATIVE && selector != SEL_TRANSFER_TOKENS && selector != SEL_ATTEST_TOKEN &&
      selector != SEL_PUBLISH_MESSAGE)
    rc_require_nonpayable();
  rc_abi args = rc_call_args();
  uint8_t s[32], key[32];

  switch (selector) {
  case SEL_TRANSFER_NATIVE:
    return_u64(transfer_native(&args));
  case SEL_TRANSFER_TOKENS:
    return_u64(transfer_tokens(&args));
  case SEL_ATTEST_TOKEN:
    return_u64(attest_token(&args));
  case SEL_CREATE_WRAPPED: {
    rc_address token = abi_address(&args, 1);
    create_wrapped(abi_bytes(&args, 0), &token);
  }
  case SEL_COMPLETE_TRANSFER:
    complete_transfer(abi_bytes(&args, 0));
  case SEL_RELEASE_QUEUED:
    release_queued(abi_bytes(&args, 0));
  case SEL_CANCEL_TRANSFER:
    return_u64(cancel_transfer(abi_bytes(&args, 0)));
  case SEL_REFUND:
    refund(abi_bytes(&args, 0));
  case SEL_SUBMIT_GOVERNANCE:
    submit_governance(abi_bytes(&args, 0));
  case SEL_PUBLISH_MESSAGE: {
    /* Wormhole's core publishMessage: the emitter is the caller, with its own sequence */
    u256 paid = msg_value();
    require_message_fee(&paid);
    uint32_t nonce = abi_u32(&args, 0);
    rc_bytes payload = abi_bytes(&args, 1);
    uint64_t consistency = abi_u64(&args, 2);
    if (consistency > 0xffu) rc_revert_empty();
    if (payload.len > MAX_PAYLOAD_BYTES) fail("VAA_MALFORMED: payload over 64 KiB");
    rc_address sender = msg_sender();
    return_u64(publish_as(&sender, nonce, payload.ptr, payload.len, (uint32_t)consistency));
  }

  case SEL_CHAIN_ID:
    return_slot_word(SLOT_CHAIN_ID);
  case SEL_GUARDIAN_SET_INDEX:
    return_slot_word(SLOT_GUARDIAN_SET_INDEX);
  case SEL_GUARDIAN_SET_EXPIRY:
    return_slot_word(SLOT_GUARDIAN_SET_EXPIRY);
  case SEL_WRAPPED_TOKEN_CODE_HASH:
    return_slot_word(SLOT_WRAPPED_CODE_HASH);
  case SEL_NEXT_SEQUENCE:
    return_slot_word(SLOT_NEXT_SEQUENCE);
  case SEL_NEXT_SEQUENCE_OF: {
    rc_address emitter = abi_address(&args, 0);
    sequence_slot(s, &emitter);
    return_slot_word(s);
  }
  case SEL_MESSAGE_FEE:
    return_slot_word(SLOT_MESSAGE_FEE);
  case SEL_GOVERNANCE_CHAIN_ID:
    return_slot_word(SLOT_GOVERNANCE_CHAIN);
  case SEL_GOVERNANCE_CONTRACT:
    return_slot_word(SLOT_GOVERNANCE_CONTRACT);
  case SEL_GUARDIAN_SET: {
    /* (address[] keys, uint64 expiry) */
    uint8_t base[32], w[32];
    guardian_set_base(base, abi_u32(&args, 0));
    sload(base, w);
    uint32_t size = (uint32_t)be64(w + 24);
    uint32_t total = 64u + 32u + 32u * size;
    uint8_t *out = (uint8_t *)rc_alloc_zero(total);
    word_from_u64(out, 64);
    slot_add(s, base, 1);
    sload(s, out + 32);
    word_from_u64(out + 64, size);
    for (uint32_t i = 0; i < size; i++) {
      slot_add(s, base, 2 + i);
      sload(s, out + 96 + 32 * i);
    }
    rc_finish(out, total);
  }
  case SEL_IS_COMPLETED:
    consumed_slot(s, abi_bytes32(&args, 0));
    return_slot_word(s);
  case SEL_QUEUED_UNTIL:
    queued_slot(s, abi_bytes32(&args, 0));
    return_slot_word(s);
  case SEL_WRAPPED_ASSET:
    asset_key(key, abi_u16(&args, 0), abi_bytes32(&args, 1));
    mapping_slot(s, key, SLOT_WRAPPED_ASSET);
    return_slot_word(s);
  case SEL_IS_PAUSED:
    asset_key(key, abi_u16(&args, 0), abi_bytes32(&args, 1));
    mapping_slot(s, key, SLOT_PAUSED);
    return_slot_word(s);
  case SEL_REGISTERED_EMITTER:
    mapping_slot_u64(s, abi_u16(&args, 0), SLOT_EMITTERS);
    return_slot_word(s);
  case SEL_OUTBOUND: {
    /* (address sender, address token, uint256 amount, bool refunded) */
    uint8_t base[32], out[128], w[32];
    mapping_slot_u64(base, abi_u64(&args, 0), SLOT_OUTBOUND);
    sload(base, w);
    memset(out, 0, sizeof out);
    memcpy(out + 12, w + 12, 20);
    out[127] = w[OUTBOUND_REFUNDED];
    slot_add(s, base, 1);
    sload(s, out + 32);
    slot_add(s, base, 2);
    sload(s, out + 64);
    rc_finish(out, sizeof out);
  }
  default:
    rc_revert_empty();
  }
}
