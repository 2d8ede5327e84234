/*
 * Model registry: AI models registered on chain by their IPFS CID (docs/models.md), written in C++ over the SDK's
 * C++ layer (contracts/cpp/rustchain.hpp).
 *   registerModel(bytes cid, string name, uint32 inputs, uint32 outputs)
 *       cid: a binary CIDv1 with sha2-256 and codec raw or dag-pb (`rustchain model cid` prints its text form);
 *       each CID once; the caller becomes its owner. Emits ModelRegistered(keccak256(cid), owner, cid, name).
 *   modelOf(bytes cid) view returns (address owner, uint64 registeredAt, uint32 inputs, uint32 outputs, string name)
 *   modelCount() view returns (uint256)
 *   modelAt(uint256 index) view returns (bytes cid)       in registration order
 * The bytes themselves live in the content store (IPFS) and Filecoin; whoever fetches them checks them against the
 * CID, which is why the CID is all the chain needs to hold.
 * Storage: 0 uint256 count; 1 mapping(bytes32 keccak(cid) => Model{owner, registeredAt, inputs, outputs, name});
 * 2 mapping(uint256 index => bytes cid).
 */
#include "../rustchain.hpp"

#define SEL_REGISTER RC_SEL("registerModel(bytes,string,uint32,uint32)", 0x59d67cc3)
#define SEL_MODEL_OF RC_SEL("modelOf(bytes)", 0xd509e81f)
#define SEL_MODEL_COUNT RC_SEL("modelCount()", 0xc6a645fe)
#define SEL_MODEL_AT RC_SEL("modelAt(uint256)", 0x73b95010)

#define TOPIC_MODEL_REGISTERED                                                                                 \
  RC_TOPIC("ModelRegistered(bytes32,address,bytes,string)",                                                    \
           "\xca\x03\xeb\xe6\x1e\x3c\x8b\x36\xa0\xcc\x68\xef\x8e\xc5\x37\xbb"                                  \
           "\xc5\x54\x5d\x27\x1f\x07\x91\xaa\x05\x2d\x6f\xa0\x91\xd6\xdc\xc4")

namespace {

constexpr uint32_t CID_LEN = 36;  // 0x01 ‖ codec ‖ 0x12 0x20 ‖ sha2-256 digest
constexpr uint8_t CIDV1 = 0x01, RAW = 0x55, DAG_PB = 0x70, SHA2_256 = 0x12, DIGEST_LEN = 0x20;
constexpr uint32_t MAX_NAME = 64;
constexpr uint64_t MAX_DIM = 1024;  // the MLP format's limit (docs/ai.md)

// Fields of a Model record, as offsets from its mapping slot.
enum Field : uint32_t { OWNER = 0, REGISTERED_AT = 1, INPUTS = 2, OUTPUTS = 3, NAME = 4 };

// Functions, not globals: a global with a constructor would need __wasm_call_ctors, which nothing runs.
rc::Slot count_slot() { return rc::Slot::at(0); }
rc::Slot models_slot() { return rc::Slot::at(1); }
rc::Slot by_index_slot() { return rc::Slot::at(2); }

/** The record slot of a CID, after checking it is a model CID. */
rc::Slot model_slot(const rc::Bytes &cid) {
  rc::require(cid.len == CID_LEN && cid[0] == CIDV1 && (cid[1] == RAW || cid[1] == DAG_PB) && cid[2] == SHA2_256 &&
                  cid[3] == DIGEST_LEN,
              "ModelRegistry: not a CIDv1 sha2-256 (raw or dag-pb)");
  uint8_t h[32];
  cid.keccak(h);
  return models_slot().map(h);
}

uint64_t dimension(const rc::Args &args, uint32_t i) {
  uint64_t d = args.u64(i);
  rc::require(d >= 1 && d <= MAX_DIM, "ModelRegistry: inputs and outputs must be 1..1024");
  return d;
}

[[noreturn]] void register_model(const rc::Args &args) {
  rc::Bytes cid = args.bytes(0);
  rc::Bytes name = args.bytes(1);
  uint64_t inputs = dimension(args, 2);
  uint64_t outputs = dimension(args, 3);
  rc::require(name.len <= MAX_NAME, "ModelRegistry: name over 64 bytes");
  rc::Slot m = model_slot(cid);
  rc::require(m.plus(REGISTERED_AT).load_u256().is_zero(), "ModelRegistry: already registered");

  rc::Address owner = rc::msg_sender();
  uint8_t w[32];
  owner.to_word(w);
  m.plus(OWNER).store_word(w);
  m.plus(REGISTERED_AT).store(rc::U256(rc::timestamp()));
  m.plus(INPUTS).store(rc::U256(inputs));
  m.plus(OUTPUTS).store(rc::U256(outputs));
  m.plus(NAME).store_bytes(name);

  rc::U256 index = count_slot().load_u256();
  by_index_slot().map(index).store_bytes(cid);
  count_slot().store(index + 1);

  uint8_t cid_hash[32];
  cid.keccak(cid_hash);
  rc::Encoder data(2, rc::Encoder::tail_for(cid.len) + rc::Encoder::tail_for(name.len));
  data.bytes(0, cid).bytes(1, name);
  rc::emit(TOPIC_MODEL_REGISTERED, cid_hash, w, nullptr, data);
  rc::return_nothing();
}

[[noreturn]] void model_of(const rc::Args &args) {
  rc::Slot m = model_slot(args.bytes(0));
  rc::U256 registered_at = m.plus(REGISTERED_AT).load_u256();
  rc::require(!registered_at.is_zero(), "ModelRegistry: unknown model");
  uint8_t owner[32];
  m.plus(OWNER).load_word(owner);
  rc::Bytes name = m.plus(NAME).load_bytes();
  rc::Encoder out(5, rc::Encoder::tail_for(name.len));
  abi_enc_word(&out.e, 0, owner);
  out.u256(1, registered_at).u256(2, m.plus(INPUTS).load_u256()).u256(3, m.plus(OUTPUTS).load_u256());
  out.bytes(4, name).finish();
}

[[noreturn]] void model_at(const rc::Args &args) {
  rc::U256 index = args.u256(0);
  rc::require(index < count_slot().load_u256(), "ModelRegistry: index out of range");
  rc::return_value(by_index_slot().map(index).load_bytes());
}

}  // namespace

extern "C" RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc::nonpayable();
  rc::Args args = rc::Args::call();
  switch (selector) {
    case SEL_REGISTER:
      register_model(args);
    case SEL_MODEL_OF:
      model_of(args);
    case SEL_MODEL_COUNT:
      rc::return_value(count_slot().load_u256());
    case SEL_MODEL_AT:
      model_at(args);
    default:
      rc_revert_empty();
  }
}
