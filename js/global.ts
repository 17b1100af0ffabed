// The script-tag build: `<script src="oidc-wasm.global.js"></script>` defines `OidcWasm` with the same
// API as the ES module (`OidcWasm.createClient(...)`), and loads `oidc_wasm_bg.wasm` from beside itself.
export { createClient, handlePopupCallback, OidcError, preload } from './index.js';
