import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// 127.0.0.1:5173 is the redirect URI registered at the local OP (`npm run op`), for `vite` and
// `vite preview` alike.
export default defineConfig({
  plugins: [react()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
});
