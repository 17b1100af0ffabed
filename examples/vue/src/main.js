import { createApp } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import { handlePopupCallback } from 'oidc-wasm';
import { createAuth, createAuthGuard } from 'oidc-wasm/vue';
import App from './App.vue';
import Home from './Home.vue';
import About from './About.vue';
import Order from './Order.vue';
import SigninFailed from './SigninFailed.vue';
import './style.css';

// `/` and `/callback` are public (the plugin handles the callback, on whatever route); `/orders/:id`
// needs a signed-in user (meta.requiresAuth, read by the guard).
const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', component: Home },
    { path: '/callback', component: Home },
    { path: '/about', component: About },
    { path: '/orders/:id', component: Order, meta: { requiresAuth: true } },
    { path: '/signin-failed', component: SigninFailed },
  ],
});

// Build-time settings (Vite env): VITE_OIDC_ISSUER, VITE_OIDC_CLIENT_ID. The defaults match `npm run op`.
const auth = createAuth({
  issuer: import.meta.env.VITE_OIDC_ISSUER || 'http://127.0.0.1:3001',
  clientId: import.meta.env.VITE_OIDC_CLIENT_ID || 'vue-example',
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/`,
  scope: 'openid profile email',
}, {
  // After the callback, back to the route the login started from, as a router navigation.
  onRedirectCallback: (returnTo) => router.replace(returnTo ?? '/'),
});

// Signed out on a route with meta.requiresAuth: login({ returnTo: to.fullPath }). After a failed callback
// (the error is in the auth state) no login, so no redirect loop: onError sends the navigation to a page
// that offers to try again (without onError it is cancelled); App.vue shows the error.
router.beforeEach(createAuthGuard(auth, {
  onError: (_error, to) => `/signin-failed?next=${encodeURIComponent(to.fullPath)}`,
}));

// In a sign-in popup back from the provider: hand its answer to the page that opened it (the window then
// closes), and start nothing else.
if (!handlePopupCallback()) createApp(App).use(auth).use(router).mount('#app');
