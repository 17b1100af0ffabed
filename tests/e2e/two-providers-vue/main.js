// A Vue app with two oidc-wasm/vue plugins on one page (tests/e2e/two-providers.test.mjs bundles it with
// esbuild): `createAuth(config, { name })` per client and `useAuth(name)` in the component, with the shared
// redirect URI /callback. Each client's state is shown as data attributes for the test. Render functions
// only (no template compiler); no inline script (the page runs under a CSP).

import { createApp, defineComponent, h } from 'vue';
import { createAuth, useAuth } from '../../../dist/vue.js';

const { clients } = await (await fetch('/config.json', { cache: 'no-store' })).json();

const Client = defineComponent({
  props: { name: { type: String, required: true } },
  setup(props) {
    const auth = useAuth(props.name);
    return () => {
      const s = auth.state.value;
      return h('section', {
        'data-client': props.name,
        'data-state': s.isLoading ? 'loading' : s.error ? 'error' : s.isAuthenticated ? 'signed-in' : 'signed-out',
        'data-error': s.error?.code ?? '',
      }, [
        h('h2', props.name),
        h('p', s.isAuthenticated ? `Signed in as ${s.user.sub}` : 'Signed out'),
        h('button', { class: 'sign-in', hidden: s.isLoading || s.isAuthenticated, onClick: () => auth.login({ returnTo: '/' }) }, 'Sign in'),
      ]);
    };
  },
});

const app = createApp({ render: () => clients.map((c) => h(Client, { name: c.name, key: c.name })) });
for (const c of clients) {
  app.use(createAuth({
    issuer: c.issuer,
    clientId: c.clientId,
    redirectUri: `${location.origin}/callback`,
    scope: c.scope,
    apiOrigins: [new URL(c.apiUrl).origin],
  }, { name: c.name }));
}
app.mount('#app');
document.body.dataset.state = 'ready';
