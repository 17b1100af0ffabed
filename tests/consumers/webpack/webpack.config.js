// Nothing but entry, output and mode: webpack 5 ships oidc_wasm_bg.wasm by itself, as an asset, from the
// SDK's `new URL('./oidc_wasm_bg.wasm', import.meta.url)`.
const path = require('node:path');

module.exports = {
  mode: 'production',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'public/build'), filename: 'main.js', clean: true },
};
