// Compiled with `tsc --noEmit` against the packed package (tests/consumers/consumers.test.mjs), with
// moduleResolution bundler and NodeNext. Every `@ts-expect-error` below must be an error: the types
// are checked to be precise, not `any`.
import { createClient, handlePopupCallback, OidcError, type OidcClient, type OidcConfig, type OidcErrorCode, type SessionCheck, type User } from 'oidc-wasm';
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
      if (code === 'callback_not_for_this_client') return undefined; // another client of the page completes it
      // @ts-expect-error not an error code
      if (code === 'no_such_code') return undefined;
    }
    throw e;
  }
}

// Popup sign-in and the silent session check (issue #14).
export async function popupAndCheck(client: OidcClient): Promise<string | null> {
  const relayed: boolean = handlePopupCallback();
  const checked: OidcConfig = { ...config, checkSession: 'redirect' };
  // @ts-expect-error checkSession is 'redirect' or 'off'
  const wrongCheck: OidcConfig = { ...config, checkSession: 'iframe' };
  void [relayed, checked, wrongCheck];
  const check: SessionCheck | null = client.sessionCheck;
  const back: string | undefined = check?.returnTo;
  void back;
  try {
    const { user } = await client.loginWithPopup({ timeoutSeconds: 120, popup: window.open('', 'signin') ?? undefined });
    return user.sub;
  } catch (e) {
    if (e instanceof OidcError && (e.code === 'popup_blocked' || e.code === 'popup_closed' || e.code === 'popup_timeout')) return null;
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
  client.on('sessionExpiring', ({ secondsLeft }) => { const left: number = secondsLeft; void left; });
  const res: Response = await client.fetchWithToken('https://api.example.com/orders', { method: 'GET' });
  const info: Record<string, unknown> = await client.getUserInfo();
  void info;
  await client.refresh();
  await client.logout({ returnTo: 'https://app.example.com/' });
  return (exp ?? 0) + res.status;
}

// Several APIs, and the token string for other HTTP clients.
export async function apis(): Promise<string> {
  const client = await createClient({
    ...config,
    apis: [{ url: 'https://orders.example.com' }, { url: 'https://example.com/billing', resource: 'https://billing.example.com', scope: 'billing:read' }],
    exposeAccessToken: true,
  });
  // @ts-expect-error an API needs its url
  const bad: OidcConfig = { ...config, apis: [{ resource: 'https://billing.example.com' }] };
  void bad;
  const token: string = await client.getAccessToken({ api: 'https://example.com/billing/invoices' });
  // @ts-expect-error api is a URL string
  await client.getAccessToken({ api: 1 });
  return token + (await client.getAccessToken());
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

// A popup sign-in from the bindings, and the announced end of a session that cannot be extended.
function Popup() {
  const { isAuthenticated, loginWithPopup, sessionExpiresAt } = useReactAuth();
  const signIn = async () => {
    const { user } = await loginWithPopup({ returnTo: '/', timeoutSeconds: 120 });
    const sub: string = user.sub;
    void sub;
  };
  // @ts-expect-error timeoutSeconds is a number
  void (() => loginWithPopup({ timeoutSeconds: '120' }));
  const at: number | null = sessionExpiresAt;
  return isAuthenticated ? <p>{at === null ? 'signed in' : `ends at ${new Date(at).toISOString()}`}</p> : <button onClick={signIn}>Sign in</button>;
}

export function vuePopup(auth: VueAuth): Promise<string> {
  const at: number | null = auth.sessionExpiresAt.value;
  void at;
  return auth.loginWithPopup({ popup: window }).then((r) => r.user.sub);
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
    <Popup />
  </AuthProvider>
);

// @ts-expect-error config is required
export const reactBad = <AuthProvider><Profile /></AuthProvider>;

// Two providers on one page: each <AuthProvider> named, each read by its name.
function BothProviders() {
  const workforce = useReactAuth('workforce');
  const customers: ReactAuth = useReactAuth('customers');
  return <p>{workforce.user?.sub} / {customers.user?.sub}</p>;
}
export const reactTwoProviders = (
  <AuthProvider name="workforce" config={config}>
    <AuthProvider name="customers" config={{ ...config, clientId: 'customers' }}>
      <BothProviders />
    </AuthProvider>
  </AuthProvider>
);
// @ts-expect-error a name is a string
export const reactBadName = <AuthProvider name={1} config={config}><BothProviders /></AuthProvider>;

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

// Vue: one plugin per client, each with its name.
export const vueTwoProviders = createApp(VueProfile)
  .use(createAuth(config, { name: 'workforce' }))
  .use(createAuth({ ...config, clientId: 'customers' }, { name: 'customers' }));
export function vueNamed(): string | undefined {
  const customers: VueAuth = useVueAuth('customers');
  return customers.user.value?.sub;
}

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
    <RequireAuth name="customers" fallback={null}><Profile /></RequireAuth>
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
