import { createApp } from 'vue';
import { createAuth } from 'oidc-wasm/vue';
import App from './App.vue';
import './style.css';

// Build-time settings (Vite env): VITE_OIDC_ISSUER, VITE_OIDC_CLIENT_ID. The defaults match `npm run op`.
const auth = createAuth({
  issuer: import.meta.env.VITE_OIDC_ISSUER || 'http://127.0.0.1:3001',
  clientId: import.meta.env.VITE_OIDC_CLIENT_ID || 'vue-example',
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/`,
  scope: 'openid profile email',
});

createApp(App).use(auth).mount('#app');
