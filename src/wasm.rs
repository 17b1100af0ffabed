//! The browser binding: the machine (`machine.rs`) behind a handful of raw wasm exports, and its `Sys`
//! services as wasm imports. No wasm-bindgen: `js/core.ts` writes events into this memory, calls
//! `oidc_handle`, and reads the effects back as JSON text.
//!
//! Exports: `oidc_alloc`/`oidc_free` (buffers JavaScript writes into), `oidc_create` (a machine for a
//! config), `oidc_handle` (an event), `oidc_query` (a synchronous read), `oidc_drop`. Results come back in
//! one output buffer, `[u32 length][bytes]`, valid until the next call.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::alloc::{alloc, dealloc, Layout};
use core::cell::UnsafeCell;

use crate::host::HttpResponse;
use crate::machine::{Answer, Event, Machine, Sys};

#[cfg(not(test))]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without threads runs on one thread only.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// A panic cannot happen in the parsers (see the lints in lib.rs); if one happens anyway, trap at once:
/// the call in flight throws in JavaScript, which reports `internal_error`.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn now() -> f64;
    fn random(ptr: *mut u8, len: usize);
    /// `[u32 length][bytes]` allocated with `oidc_alloc`, or null for none.
    fn storage_get(key: *const u8, key_len: usize) -> *mut u8;
    fn storage_set(key: *const u8, key_len: usize, value: *const u8, value_len: usize) -> i32;
    fn storage_remove(key: *const u8, key_len: usize);
    /// The keys that start with `prefix`, joined by newlines, as `storage_get` returns text.
    fn storage_keys(prefix: *const u8, prefix_len: usize) -> *mut u8;
    fn shared_get(name: *const u8, name_len: usize, ended: i32) -> f64;
    fn shared_set(name: *const u8, name_len: usize, generation: f64, ended: i32);
    fn replace_url(url: *const u8, url_len: usize) -> i32;
    fn trace(step: *const u8, step_len: usize) -> i32;
}

/// State of this single-threaded module.
struct Global<T>(UnsafeCell<T>);
// SAFETY: wasm32-unknown-unknown without threads: one thread, and no export re-enters another.
unsafe impl<T> Sync for Global<T> {}

static MACHINES: Global<Vec<Option<Machine<WasmSys>>>> = Global(UnsafeCell::new(Vec::new()));
static OUT: Global<Vec<u8>> = Global(UnsafeCell::new(Vec::new()));

fn out(bytes: &[u8]) -> *const u8 {
    // SAFETY: single-threaded; JavaScript reads the buffer before its next call.
    let o = unsafe { &mut *OUT.0.get() };
    o.clear();
    o.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    o.extend_from_slice(bytes);
    o.as_ptr()
}

/// Takes a `[u32 length][bytes]` buffer JavaScript allocated with `oidc_alloc`.
fn take_text(ptr: *mut u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: JavaScript wrote a little-endian length then that many bytes into a buffer of 4 + length
    // bytes it got from `oidc_alloc`; it is freed here with the same layout.
    unsafe {
        let len = u32::from_le_bytes([*ptr, *ptr.add(1), *ptr.add(2), *ptr.add(3)]) as usize;
        let text = String::from_utf8(core::slice::from_raw_parts(ptr.add(4), len).to_vec()).ok();
        oidc_free(ptr, len + 4);
        text
    }
}

struct WasmSys;

impl Sys for WasmSys {
    fn now(&self) -> f64 {
        // SAFETY: the imports are plain functions of `js/core.ts` that take and return numbers, and read
        // or write only the byte ranges given.
        unsafe { now() }
    }
    fn random(&self, out: &mut [u8]) {
        unsafe { random(out.as_mut_ptr(), out.len()) }
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        take_text(unsafe { storage_get(key.as_ptr(), key.len()) })
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        unsafe { storage_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) == 1 }
    }
    fn storage_remove(&self, key: &str) {
        unsafe { storage_remove(key.as_ptr(), key.len()) }
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        let all = take_text(unsafe { storage_keys(prefix.as_ptr(), prefix.len()) }).unwrap_or_default();
        all.split('\n').filter(|k| !k.is_empty()).map(String::from).collect()
    }
    fn shared_generation(&self, name: &str, ended: bool) -> f64 {
        unsafe { shared_get(name.as_ptr(), name.len(), i32::from(ended)) }
    }
    fn set_shared_generation(&self, name: &str, generation: f64, ended: bool) {
        unsafe { shared_set(name.as_ptr(), name.len(), generation, i32::from(ended)) }
    }
    fn replace_url(&self, url: &str) -> bool {
        unsafe { replace_url(url.as_ptr(), url.len()) == 1 }
    }
    fn trace(&self, step: &str) -> bool {
        unsafe { trace(step.as_ptr(), step.len()) == 1 }
    }
}

/// A buffer of `len` bytes for JavaScript to write into (or null when `len` is 0).
#[no_mangle]
pub extern "C" fn oidc_alloc(len: usize) -> *mut u8 {
    match Layout::from_size_align(len, 1) {
        // SAFETY: a non-zero size with alignment 1.
        Ok(l) if len > 0 => unsafe { alloc(l) },
        _ => core::ptr::null_mut(),
    }
}

/// Frees what `oidc_alloc(len)` gave.
///
/// # Safety
/// `ptr` must come from `oidc_alloc(len)` and not be freed before.
#[no_mangle]
pub unsafe extern "C" fn oidc_free(ptr: *mut u8, len: usize) {
    if let (false, Ok(l)) = (ptr.is_null(), Layout::from_size_align(len, 1)) {
        if len > 0 {
            dealloc(ptr, l)
        }
    }
}

/// The fields of an event: `[u32 length][bytes]` each.
fn fields(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let (Some(l), Some(tail)) = (rest.get(..4), rest.get(4..)) {
        let len = u32::from_le_bytes([l.first().copied().unwrap_or(0), l.get(1).copied().unwrap_or(0), l.get(2).copied().unwrap_or(0), l.get(3).copied().unwrap_or(0)]) as usize;
        let Some(f) = tail.get(..len) else { break };
        out.push(f);
        rest = tail.get(len..).unwrap_or(&[]);
    }
    out
}

fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: JavaScript wrote `len` bytes at `ptr` (a buffer from `oidc_alloc`) and frees it after the call.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

fn text(f: Option<&&[u8]>) -> Option<String> {
    f.and_then(|b| core::str::from_utf8(b).ok()).filter(|s| !s.is_empty()).map(String::from)
}

/// A machine for the config (JSON text at `ptr`); its id (from 1), or 0 with the error in the output.
#[no_mangle]
pub extern "C" fn oidc_create(ptr: *const u8, len: usize) -> u32 {
    // SAFETY: single-threaded (see `Global`).
    let machines = unsafe { &mut *MACHINES.0.get() };
    let config = core::str::from_utf8(input(ptr, len)).unwrap_or("");
    match Machine::new(config, WasmSys) {
        Ok(m) => {
            machines.push(Some(m));
            machines.len() as u32
        }
        Err(e) => {
            out(e.as_bytes());
            0
        }
    }
}

fn machine(id: u32) -> Option<&'static Machine<WasmSys>> {
    // SAFETY: single-threaded (see `Global`); machines are dropped only by `oidc_drop`.
    let machines = unsafe { &*MACHINES.0.get() };
    machines.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
}

/// An event for machine `id`: `kind` 1 a call (fields: method, args), 2 an HTTP answer (`status`, or
/// -1 network / -2 timeout / -3 too large / -4 redirect; fields: body, DPoP-Nonce, Retry-After, Date),
/// 3 a status, 4 bytes (`status` 1: the field; 0: refused), 5 text (`status` 1: the field; 0: none),
/// 6 a message from another tab (field: the text). Returns the effects (JSON array).
#[no_mangle]
pub extern "C" fn oidc_handle(id: u32, kind: u32, op: u32, status: i32, ptr: *const u8, len: usize) -> *const u8 {
    let Some(m) = machine(id) else { return out(b"[]") };
    let f = fields(input(ptr, len));
    let s = |i: usize| f.get(i).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or("");
    let effects = match kind {
        1 => m.handle(Event::Call { id: op, method: s(0), args: s(1) }),
        6 => m.handle(Event::Message(s(0))),
        _ => {
            let answer = match kind {
                2 if status >= 0 => Answer::Http(Ok(HttpResponse {
                    status: status as u16,
                    body: String::from(s(0)),
                    dpop_nonce: text(f.get(1)),
                    retry_after: text(f.get(2)),
                    date: text(f.get(3)),
                })),
                2 => Answer::Http(Err(status)),
                4 => Answer::Bytes((status == 1).then(|| f.first().map(|b| b.to_vec()).unwrap_or_default())),
                5 => Answer::Text((status == 1).then(|| String::from(s(0)))),
                _ => Answer::Status(status),
            };
            m.handle(Event::Answer { op, answer })
        }
    };
    out(effects.as_bytes())
}

/// A synchronous read of machine `id` (input: `what`, a newline, the argument); the answer as JSON text.
#[no_mangle]
pub extern "C" fn oidc_query(id: u32, ptr: *const u8, len: usize) -> *const u8 {
    let Some(m) = machine(id) else { return out(b"null") };
    let q = core::str::from_utf8(input(ptr, len)).unwrap_or("");
    let (what, arg) = q.split_once('\n').unwrap_or((q, ""));
    out(m.query(what, arg).as_bytes())
}

/// The output buffer as the last call left it (`oidc_create`'s error).
#[no_mangle]
pub extern "C" fn oidc_output() -> *const u8 {
    // SAFETY: single-threaded (see `Global`).
    unsafe { (*OUT.0.get()).as_ptr() }
}

/// Drops machine `id` (its page has no more use for it).
#[no_mangle]
pub extern "C" fn oidc_drop(id: u32) {
    // SAFETY: single-threaded (see `Global`).
    let machines = unsafe { &mut *MACHINES.0.get() };
    if let Some(slot) = machines.get_mut((id as usize).wrapping_sub(1)) {
        *slot = None;
    }
}
