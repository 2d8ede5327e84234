//! The AI primitives (int8 kernels and the MLP of docs/ai.md) and BN254 Groth16 verification (docs/runtime.md).
//! Lengths are checked here, so a wrong-sized buffer is a Rust panic (`Panic(0x01)`), never a read or write outside
//! a slice.

use crate::host;

/// `out` (m×n, int32) = `a` (m×k, int8) × `b` (k×n, int8).
pub fn matmul_i8(a: &[i8], b: &[i8], out: &mut [i32], m: usize, k: usize, n: usize) {
    assert!(a.len() >= m * k && b.len() >= k * n && out.len() >= m * n);
    // SAFETY: the lengths were just checked.
    unsafe { host::ai_matmul_i8(a.as_ptr(), b.as_ptr(), out.as_mut_ptr(), m as u32, k as u32, n as u32) };
}

/// int32 → int8: `clamp(round(x × multiplier / 2^shift))`, element-wise.
pub fn requantize(input: &[i32], out: &mut [i8], multiplier: u32, shift: u32) {
    assert!(out.len() >= input.len());
    // SAFETY: checked above.
    unsafe { host::ai_requantize(input.as_ptr(), out.as_mut_ptr(), input.len() as u32, multiplier, shift) };
}

/// In place: `max(x, 0)`.
pub fn relu_i8(data: &mut [i8]) {
    // SAFETY: the host touches exactly `data`.
    unsafe { host::ai_relu_i8(data.as_mut_ptr(), data.len() as u32) };
}

/// Index of the first maximum.
pub fn argmax_i8(data: &[i8]) -> usize {
    // SAFETY: the host reads exactly `data`.
    unsafe { host::ai_argmax_i8(data.as_ptr(), data.len() as u32) as usize }
}

/// Runs an int8 MLP (docs/ai.md) on `input`; writes its output to `out` and returns the output length. The host
/// traps on a malformed model or an input of the wrong length; `out` must hold the widest layer (see
/// `mlp_dimensions`).
pub fn mlp_forward(model: &[u8], input: &[i8], out: &mut [i8]) -> usize {
    let dims = match mlp_dimensions(model) {
        Some(d) => d,
        None => core::arch::wasm32::unreachable(),
    };
    assert!(input.len() >= dims.input && out.len() >= dims.widest);
    // SAFETY: the model's structure and both buffers were checked.
    unsafe { host::ai_mlp_forward(model.as_ptr(), model.len() as u32, input.as_ptr(), out.as_mut_ptr()) as usize }
}

/// The shape of an int8 MLP model.
#[derive(Clone, Copy)]
pub struct MlpDimensions {
    pub layers: usize,
    pub input: usize,
    pub output: usize,
    /// The largest dimension of any layer.
    pub widest: usize,
}

/// Checks a model's structure (docs/ai.md: layer count, headers, chained dimensions, exact length).
pub fn mlp_dimensions(model: &[u8]) -> Option<MlpDimensions> {
    let layers = *model.first()? as usize;
    if !(1..=16).contains(&layers) {
        return None;
    }
    let (mut at, mut prev, mut first, mut widest) = (1usize, 0usize, 0usize, 0usize);
    for l in 0..layers {
        let h = model.get(at..at + 8)?;
        let input = h[0] as usize | (h[1] as usize) << 8;
        let output = h[2] as usize | (h[3] as usize) << 8;
        if !(1..=1024).contains(&input) || !(1..=1024).contains(&output) || h[6] > 31 || h[7] > 1 {
            return None;
        }
        if l == 0 {
            first = input;
        } else if input != prev {
            return None;
        }
        at += 8 + input * output + 4 * output;
        prev = output;
        widest = widest.max(input).max(output);
    }
    if at != model.len() {
        return None;
    }
    Some(MlpDimensions { layers, input: first, output: prev, widest })
}

pub const G1_SIZE: usize = 64;
pub const G2_SIZE: usize = 128;
pub const GROTH16_PROOF_SIZE: usize = 256;
const VK_FIXED: usize = G1_SIZE + 3 * G2_SIZE + 4;
/// The host traps above this many public inputs.
pub const GROTH16_MAX_INPUTS: usize = 256;

/// The number of public inputs a verifying key expects (vk = α ‖ β ‖ γ ‖ δ ‖ u32 BE icCount ‖ IC[icCount]), or
/// `None` if its length does not match.
pub fn groth16_vk_input_count(vk: &[u8]) -> Option<usize> {
    let ic = vk.get(VK_FIXED - 4..VK_FIXED)?;
    let ic = u32::from_be_bytes([ic[0], ic[1], ic[2], ic[3]]) as usize;
    if ic < 1 || ic > GROTH16_MAX_INPUTS + 1 || vk.len() != VK_FIXED + ic * G1_SIZE {
        return None;
    }
    Some(ic - 1)
}

/// BN254 Groth16: whether `proof` (A ‖ B ‖ C) is valid for `vk` and the public `inputs` (32-byte big-endian).
pub fn groth16_verify(vk: &[u8], proof: &[u8; GROTH16_PROOF_SIZE], inputs: &[[u8; 32]]) -> bool {
    // SAFETY: the host reads vk, 256 proof bytes and inputs.len() words.
    unsafe {
        host::groth16_verify(vk.as_ptr(), vk.len() as u32, proof.as_ptr(), inputs.as_ptr() as *const u8, inputs.len() as u32)
            == 1
    }
}
