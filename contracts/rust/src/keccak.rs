//! Keccak-256 as a `const fn`, so selectors and event topics are computed by the compiler from their signatures
//! (`selector("transfer(address,uint256)")`) and can never disagree with them. At run time use `crate::keccak256`,
//! the host function, which is far cheaper than this code in wasm.

const ROUND_CONSTANTS: [u64; 24] = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
    0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
    0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
];
const ROTATIONS: [u32; 24] = [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44];
const LANES: [usize; 24] = [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1];
const RATE: usize = 136;

const fn keccak_f(mut st: [u64; 25]) -> [u64; 25] {
    let mut round = 0;
    while round < 24 {
        let mut bc = [0u64; 5];
        let mut i = 0;
        while i < 5 {
            bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
            i += 1;
        }
        i = 0;
        while i < 5 {
            let t = bc[(i + 4) % 5] ^ bc[(i + 1) % 5].rotate_left(1);
            let mut j = 0;
            while j < 25 {
                st[j + i] ^= t;
                j += 5;
            }
            i += 1;
        }
        let mut t = st[1];
        i = 0;
        while i < 24 {
            let lane = LANES[i];
            let next = st[lane];
            st[lane] = t.rotate_left(ROTATIONS[i]);
            t = next;
            i += 1;
        }
        let mut j = 0;
        while j < 25 {
            let mut k = 0;
            while k < 5 {
                bc[k] = st[j + k];
                k += 1;
            }
            k = 0;
            while k < 5 {
                st[j + k] ^= !bc[(k + 1) % 5] & bc[(k + 2) % 5];
                k += 1;
            }
            j += 5;
        }
        st[0] ^= ROUND_CONSTANTS[round];
        round += 1;
    }
    st
}

/// Keccak-256 (Ethereum's, not SHA3-256) evaluated by the compiler.
pub const fn const_keccak256(input: &[u8]) -> [u8; 32] {
    let mut st = [0u64; 25];
    let mut i = 0;
    // Absorb, padding the last block with 0x01 … 0x80.
    loop {
        let mut block = [0u8; RATE];
        let mut n = 0;
        while n < RATE && i + n < input.len() {
            block[n] = input[i + n];
            n += 1;
        }
        let last = n < RATE;
        if last {
            block[n] ^= 0x01;
            block[RATE - 1] ^= 0x80;
        }
        let mut lane = 0;
        while lane < RATE / 8 {
            let mut v = 0u64;
            let mut b = 0;
            while b < 8 {
                v |= (block[lane * 8 + b] as u64) << (8 * b);
                b += 1;
            }
            st[lane] ^= v;
            lane += 1;
        }
        st = keccak_f(st);
        i += n;
        if last {
            break;
        }
    }
    let mut out = [0u8; 32];
    let mut k = 0;
    while k < 32 {
        out[k] = (st[k / 8] >> (8 * (k % 8))) as u8;
        k += 1;
    }
    out
}

/// The 4-byte function selector of a signature such as `"transfer(address,uint256)"`, as a big-endian integer.
pub const fn selector(signature: &str) -> u32 {
    let h = const_keccak256(signature.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// The topic of an event signature such as `"Transfer(address,address,uint256)"`.
pub const fn event_topic(signature: &str) -> [u8; 32] {
    const_keccak256(signature.as_bytes())
}
