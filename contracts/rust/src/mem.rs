//! Memory: a bump allocator over the wasm memory (never freed: a call is short-lived and its instance is reset
//! afterwards), the calldata, the panic handler, and compact `memcpy`/`memset` (compiler_builtins' are larger).

use core::arch::wasm32;

extern "C" {
    /// First byte after the stack and the static data (defined by the linker).
    static __heap_base: u8;
}

static mut HEAP_TOP: usize = 0;
const PAGE: usize = 65536;
/// The chain's limit (docs/runtime.md): 64 pages of 64 KiB.
const MAX_PAGES: usize = 64;

/// `len` fresh zeroed bytes, 8-byte aligned, growing the memory as needed (each page grown is metered). Traps beyond
/// the chain's 4 MiB.
pub fn alloc(len: usize) -> &'static mut [u8] {
    // SAFETY: wasm contracts are single-threaded; HEAP_TOP only moves forward, so slices never overlap.
    unsafe {
        if HEAP_TOP == 0 {
            HEAP_TOP = &__heap_base as *const u8 as usize;
        }
        let start = (HEAP_TOP + 7) & !7;
        let end = match start.checked_add(len) {
            Some(end) if end <= MAX_PAGES * PAGE => end,
            _ => wasm32::unreachable(),
        };
        let have = wasm32::memory_size(0) * PAGE;
        if end > have && wasm32::memory_grow(0, (end - have + PAGE - 1) / PAGE) == usize::MAX {
            wasm32::unreachable();
        }
        HEAP_TOP = end;
        let out = core::slice::from_raw_parts_mut(start as *mut u8, len);
        // The runtime hands every frame a memory equal to a fresh instance's (docs/runtime.md), and the bump
        // never reuses bytes, so this is already zero; zeroing costs a few gas and keeps the promise on any host.
        out.fill(0);
        out
    }
}

/// A copy of `data` in fresh memory.
pub fn alloc_copy(data: &[u8]) -> &'static mut [u8] {
    let out = alloc(data.len());
    out.copy_from_slice(data);
    out
}

/// Copies as many bytes as both slices hold (no length check to fail, so no panic path in the module).
pub fn copy_prefix(dest: &mut [u8], src: &[u8]) {
    for (d, s) in dest.iter_mut().zip(src) {
        *d = *s;
    }
}

static mut CALLDATA: Option<&'static [u8]> = None;

/// The whole calldata, copied into memory once.
pub fn calldata() -> &'static [u8] {
    // SAFETY: single-threaded; CALLDATA is written once per call.
    unsafe {
        if let Some(data) = CALLDATA {
            return data;
        }
        let len = crate::host::calldata_size() as usize;
        let buf = alloc(len);
        if len > 0 {
            crate::host::calldata_copy(buf.as_mut_ptr(), 0, len as u32);
        }
        CALLDATA = Some(buf);
        buf
    }
}

/// A Rust panic (an index out of bounds, an `unwrap` of `None`, an `assert!`…) reverts with `Panic(0x01)`, Solidity's
/// assert code. The message is dropped: formatting it would link core::fmt into every contract.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    crate::revert::revert_panic(crate::revert::PANIC_ASSERT)
}

/// The C SDK's compact memcpy (8 bytes at a time), instead of compiler_builtins' larger one.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    while i + 8 <= n {
        (dest.add(i) as *mut u64).write_unaligned((src.add(i) as *const u64).read_unaligned());
        i += 8;
    }
    while i < n {
        *dest.add(i) = *src.add(i);
        i += 1;
    }
    dest
}

/// The C SDK's compact memset.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    let v = (c as u8 as u64) * 0x0101_0101_0101_0101;
    let mut i = 0;
    while i + 8 <= n {
        (dest.add(i) as *mut u64).write_unaligned(v);
        i += 8;
    }
    while i < n {
        *dest.add(i) = c as u8;
        i += 1;
    }
    dest
}
