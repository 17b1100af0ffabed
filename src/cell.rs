//! `RefCell` access without the panic message. The client never holds a borrow across an `await` and
//! wasm is single-threaded, so a conflicting borrow cannot happen; `RefCell::borrow` would still link
//! Rust's formatting machinery for its panic message. `Slot` stops the program instead (a trap in wasm).

use core::cell::{Ref, RefCell, RefMut};

pub trait Slot<T> {
    fn get_ref(&self) -> Ref<'_, T>;
    fn get_mut_ref(&self) -> RefMut<'_, T>;
}

impl<T> Slot<T> for RefCell<T> {
    fn get_ref(&self) -> Ref<'_, T> {
        match self.try_borrow() {
            Ok(r) => r,
            Err(_) => stop(),
        }
    }
    fn get_mut_ref(&self) -> RefMut<'_, T> {
        match self.try_borrow_mut() {
            Ok(r) => r,
            Err(_) => stop(),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn stop() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn stop() -> ! {
    std::process::abort()
}
