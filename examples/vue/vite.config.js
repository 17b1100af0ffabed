import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// 127.0.0.1:5174 is the redirect URI registered at the local OP (`npm run op`), for `vite` and
// `vite preview` alike.
export default defineConfig({
  plugins: [vue()],
  server: { host: '127.0.0.1', port: 5174, strictPort: true },
  preview: { host: '127.0.0.1', port: 5174, strictPort: true },
});
