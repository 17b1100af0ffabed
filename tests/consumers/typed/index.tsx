// Compiled with `tsc --noEmit` against the packed package (tests/consumers/consumers.test.mjs), with
// moduleResolution bundler and NodeNext. Every `@ts-expect-error` below must be an error: the types
// are checked to be precise, not `any`.
import { createClient, OidcError, type OidcClient, type OidcConfig, type OidcErrorCode, type User } from 'oidc-wasm';
import { AuthProvider, RequireAuth, useAuth as useReactAuth, withAuthenticationRequired, type Auth as ReactAuth, type RequireAuthOptions } from 'oidc-wasm/react';
import { createAuth, createAuthGuard, useAuth as useVueAuth, type Auth as VueAuth, type AuthGuard, type AuthGuardOptions } from 'oidc-wasm/vue';
import { createApp, defineComponent, h } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';

const config: OidcConfig = {
  issuer: 'https://login.example.com',
  clientId: 'my-spa',
  redirectUri: 'https://app.example.com/callback',
  scope: 'openid profile email',
  apiOrigins: ['https://api.example.com'],
  debug: true,
  wasm: new URL('https://cdn.example.com/oidc_wasm_bg.wasm'),
};

// @ts-expect-error clientId is required
const incomplete: OidcConfig = { issuer: 'https://login.example.com', redirectUri: 'https://app.example.com/' };
void incomplete;

export async function core(): Promise<string | undefined> {
  const client: OidcClient = await createClient(config);
  await client.login({ returnTo: '/orders', extraParams: { prompt: 'login' } });
  try {
    const { user, returnTo } = await client.handleCallback();
    const sub: string = user.sub;
    void sub;
    return returnTo;
  } catch (e) {
    if (e instanceof OidcError) {
      const code: OidcErrorCode = e.code;
      if (code === 'authorization_error') return e.error;
      // @ts-expect-error not an error code
      if (code === 'no_such_code') return undefined;
    }
    throw e;
  }
}

export async function session(client: OidcClient): Promise<number> {
  const user: User | null = client.getUser();
  const exp: number | undefined = user?.exp;
  const off = client.on('userChanged', (u) => { const s: string | undefined = u?.sub; void s; });
  off();
  // @ts-expect-error not an event
  client.on('tokenExpired', () => {});
  const res: Response = await client.fetchWithToken('https://api.example.com/orders', { method: 'GET' });
  const info: Record<string, unknown> = await client.getUserInfo();
  void info;
  await client.refresh();
  await client.logout({ returnTo: 'https://app.example.com/' });
  return (exp ?? 0) + res.status;
}

// React: a provider around the app, and a component reading the state.
function Profile() {
  const auth: ReactAuth = useReactAuth();
  const { isLoading, isAuthenticated, user, error, login, logout, fetchWithToken } = auth;
  if (isLoading) return <p>Loading…</p>;
  if (error) return <p>{error.code}: {error.message}</p>;
  if (!isAuthenticated || !user) return <button onClick={() => login({ returnTo: '/' })}>Sign in</button>;
  const load = async () => (await fetchWithToken('/api/orders')).json();
  void load;
  return (
    <>
      <h2>Signed in as {String(user.name ?? user.sub)}</h2>
      <button onClick={() => logout()}>Sign out</button>
    </>
  );
}

// The standard claims are typed; `isAuthenticated` narrows `user`, also when destructured.
function Narrowed() {
  const auth = useReactAuth();
  // @ts-expect-error signed out or loading: user is null
  void auth.user.sub;
  if (!auth.isAuthenticated) return <button onClick={() => auth.login()}>Sign in</button>;
  const name: string | undefined = auth.user.name;
  const verified: boolean | undefined = auth.user.email_verified;
  const locality: string | undefined = auth.user.address?.locality;
  // @ts-expect-error a standard claim has its standard type
  const wrong: number | undefined = auth.user.email;
  const other: unknown = auth.user['https://example.com/roles'];
  void [verified, locality, wrong, other];
  return <p>{name ?? auth.user.sub}</p>;
}

function Destructured() {
  const { isAuthenticated, user } = useReactAuth();
  if (isAuthenticated) return <p>{user.preferred_username ?? user.sub}</p>;
  const none: null = user;
  void none;
  return null;
}

export const reactApp = (
  <AuthProvider config={config} onRedirectCallback={(to) => history.replaceState(null, '', to ?? '/')}>
    <Profile />
    <Narrowed />
    <Destructured />
  </AuthProvider>
);

// @ts-expect-error config is required
export const reactBad = <AuthProvider><Profile /></AuthProvider>;

// Vue: the plugin and a component using the refs.
const VueProfile = defineComponent({
  setup() {
    const auth: VueAuth = useVueAuth();
    const { isLoading, isAuthenticated, user, error, login, logout } = auth;
    // @ts-expect-error the state is read-only
    isLoading.value = false;
    return () => isLoading.value ? h('p', 'Loading…')
      : error.value ? h('p', `${error.value.code}: ${error.value.message}`)
        : isAuthenticated.value && user.value ? h('button', { onClick: () => logout() }, `Sign out ${user.value.sub}`)
          : h('button', { onClick: () => login() }, 'Sign in');
  },
});

// Vue: `state` is one ref whose value narrows on isAuthenticated.
export function vueNarrowing(auth: VueAuth): string {
  const s = auth.state.value;
  // @ts-expect-error not known to be signed in
  void s.user.sub;
  return s.isAuthenticated ? (s.user.name ?? s.user.sub) : 'signed out';
}

export const vueApp = createApp(VueProfile).use(createAuth(config, { onRedirectCallback: (to) => void to }));

// React route guards: <RequireAuth> around content, withAuthenticationRequired around a component (its
// props kept).
function Order({ id }: { id: number }) {
  return <p>Order {id}</p>;
}
const GuardedOrder = withAuthenticationRequired(Order, { fallback: <p>Loading…</p>, returnTo: '/orders' });
const guardOptions: RequireAuthOptions = {
  errorFallback: (error, retry) => <button onClick={retry}>{error.code}: try again</button>,
  onError: (error) => { const code: string = error.code; void code; },
  loginOptions: { extraParams: { prompt: 'login' } },
};
export const guardedApp = (
  <AuthProvider config={config}>
    <RequireAuth fallback={<p>Loading…</p>} errorFallback={<p>Sign-in failed</p>}>
      <Profile />
    </RequireAuth>
    <RequireAuth {...guardOptions}><GuardedOrder id={7} /></RequireAuth>
  </AuthProvider>
);
// @ts-expect-error the wrapped component's props are required
export const guardedBad = <GuardedOrder />;
// @ts-expect-error returnTo comes from the guard (returnTo option), not loginOptions
export const guardBadOptions: RequireAuthOptions = { loginOptions: { returnTo: '/x' } };

// vue-router: the guard fits beforeEach and beforeEnter as vue-router types them.
const auth = createAuth(config, { onRedirectCallback: (to) => void router.replace(to ?? '/') });
const options: AuthGuardOptions = { onError: (error, to) => `/signin-failed?code=${error.code}&next=${encodeURIComponent(to.fullPath)}` };
const guard: AuthGuard = createAuthGuard(auth, options);
const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', component: VueProfile },
    { path: '/orders/:id', component: VueProfile, meta: { requiresAuth: true } },
    { path: '/admin', component: VueProfile, beforeEnter: createAuthGuard(auth, { requiresAuth: () => true }) },
  ],
});
router.beforeEach(guard);
router.beforeEach(createAuthGuard(useVueAuth()));
// @ts-expect-error onError answers true, false or a path
createAuthGuard(auth, { onError: () => 42 });
export const routedVueApp = createApp(VueProfile).use(auth).use(router);
