//! oidc-wasm: an OpenID Connect client core for single-page apps.
//!
//! One module per protocol step, named after the spec step, each pure and tested natively; the browser
//! is reached only through [`host::Host`] (implemented for the browser in `wasm.rs`). See ARCHITECTURE.md.
//!
//! Parsers of provider and URL input must not panic (a panic aborts the whole wasm instance): outside
//! tests, `unwrap`, `expect`, indexing and `panic!` are denied by the lints below.
// On wasm the core is `no_std` (alloc only) with a panic handler that just traps: this keeps Rust's
// formatting and panic-message machinery out of the shipped binary. Native builds and tests use std.
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable)
)]

extern crate alloc;

/// What `std`'s prelude would give every module; `no_std` on wasm needs it spelled out.
mod prelude {
    pub use crate::cell::Slot;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod alg;
pub mod authorization;
pub mod b64url;
mod cell;
pub mod bearer;
pub mod callback;
pub mod client;
pub mod config;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod host;
pub mod http_date;
pub mod id_token;
pub mod json;
pub mod jwks;
pub mod jws;
pub mod logout;
pub mod machine;
pub mod pkce;
pub mod popup;
pub mod refresh;
pub mod session;
pub mod session_check;
pub mod token;
pub mod trace;
pub mod transaction;
pub mod types;
pub mod url;
pub mod userinfo;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod sim;

// The shipped module's exports and imports. Not in the wasm tests: they drive the core through
// wasm-bindgen (src/wasm_tests.rs), whose runner would not satisfy the raw `env` imports.
#[cfg(all(target_arch = "wasm32", not(test)))]
mod wasm;
#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests;
