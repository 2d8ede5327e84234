//! The host functions of the `rustchain` import module (docs/runtime.md, "Host API"), exactly as
//! validator/src/runtime/wasm/validateModule.ts types them: pointers and lengths are i32 offsets into this module's
//! memory, words are 32 bytes big-endian, addresses 20 bytes. Safe wrappers live in the other modules.
#![allow(missing_docs)]

#[link(wasm_import_module = "rustchain")]
extern "C" {
    pub fn calldata_size() -> i32;
    pub fn calldata_copy(dest: *mut u8, offset: u32, len: u32);
    pub fn finish(ptr: *const u8, len: u32);
    pub fn revert(ptr: *const u8, len: u32);
    pub fn storage_read(key: *const u8, out: *mut u8);
    pub fn storage_write(key: *const u8, value: *const u8);
    pub fn caller(out20: *mut u8);
    pub fn origin(out20: *mut u8);
    pub fn self_address(out20: *mut u8);
    pub fn call_value(out32: *mut u8);
    pub fn block_number() -> i64;
    pub fn block_timestamp() -> i64;
    pub fn chain_id() -> i64;
    pub fn gas_left() -> i64;
    pub fn emit_log(topics: *const u8, topic_count: u32, data: *const u8, len: u32);
    pub fn balance(addr20: *const u8, out32: *mut u8);
    /// The export `call` of a contract and this import share a name; the linker keeps them apart because the
    /// import lives in module `rustchain`.
    pub fn call(addr20: *const u8, value32: *const u8, gas: i64, data: *const u8, len: u32) -> i32;
    pub fn returndata_size() -> i32;
    pub fn returndata_copy(dest: *mut u8, offset: u32, len: u32);
    pub fn keccak256(ptr: *const u8, len: u32, out32: *mut u8);
    pub fn blake3(ptr: *const u8, len: u32, out32: *mut u8);
    pub fn ai_matmul_i8(a: *const i8, b: *const i8, out: *mut i32, m: u32, k: u32, n: u32);
    pub fn ai_requantize(input: *const i32, out: *mut i8, len: u32, multiplier: u32, shift: u32);
    pub fn ai_relu_i8(ptr: *mut i8, len: u32);
    pub fn ai_argmax_i8(ptr: *const i8, len: u32) -> i32;
    pub fn ai_mlp_forward(model: *const u8, model_len: u32, input: *const i8, out: *mut i8) -> i32;
    pub fn groth16_verify(vk: *const u8, vk_len: u32, proof: *const u8, inputs: *const u8, input_count: u32) -> i32;
    pub fn secp256k1_recover(hash32: *const u8, sig65: *const u8, out20: *mut u8) -> i32;
    pub fn sha256(ptr: *const u8, len: u32, out32: *mut u8);
    pub fn code_hash(addr20: *const u8, out32: *mut u8);
}
