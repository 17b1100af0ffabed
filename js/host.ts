// The browser side of the core's effects (src/machine.rs): fetch, WebCrypto, Web Locks, BroadcastChannel
// and the keys kept in IndexedDB. js/core.ts carries each effect out through these and feeds the answer
// back; the services the core needs at once (clock, random bytes, sessionStorage, the shared generation,
// history.replaceState) are its imports, in js/core.ts. It makes no protocol decision: the Rust core says
// what to fetch, which key and algorithm to verify with, and what to store.

export interface HttpResult { status: number; body: string; dpopNonce?: string; retryAfter?: string; date?: string }

// IndexedDB database `oidc-wasm`, opened only with `dpop` or `persistSession: 'sealed'`; two stores,
// neither holding a readable token (databases made by 0.1.0 also have an unused `generation` store):
//   keys        CryptoKey objects generated non-extractable (the DPoP key pair, the sealing key)
//   sealed      { iv, ciphertext } of a persisted session, AES-GCM under the sealing key
const STORES = ['keys', 'sealed'];

/** The largest response body the core is given (bytes): a hostile endpoint cannot fill the wasm's memory. */
export const MAX_BODY_BYTES = 1 << 20;
/** A request without an answer after this long is given up (ms): a hung endpoint cannot hold the tabs' lock. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Reads a body as text for the core, refusing (`'too_large'`) one over `MAX_BODY_BYTES`: unread when its
 * Content-Length says so, else once read (before any of it is copied into the wasm's memory). */
async function readCapped(res: Response): Promise<string> {
  if (Number(res.headers.get('content-length')) > MAX_BODY_BYTES) {
    res.body?.cancel().catch(() => {});
    throw 'too_large';
  }
  const text = await res.text();
  if (text.length > MAX_BODY_BYTES) throw 'too_large';
  return text;
}

/** A signal that aborts after `ms` (where the browser has AbortSignal.timeout). */
export function timeoutSignal(ms: number): AbortSignal | undefined {
  return typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal ? AbortSignal.timeout(ms) : undefined;
}

// The core's requests. A failure rejects with 'timeout', 'too_large' or 'network' (the core words the error).
// Status 0 means a redirect that was not followed.
function send(method: string, url: string, body?: string, authorization?: string, dpop?: string): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (authorization !== undefined) headers.authorization = authorization;
  if (dpop !== undefined) headers.dpop = dpop;
  const signal = timeoutSignal(REQUEST_TIMEOUT_MS);
  return fetch(url, {
    method,
    body,
    headers,
    credentials: 'omit', // the OP's cookies have no business on back-channel calls
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
    // A token request must not be redirected elsewhere with the code in its body; a request carrying a token
    // (UserInfo) is never redirected with it (the browser keeps a DPoP header across origins).
    redirect: method === 'POST' ? 'error' : authorization !== undefined || dpop !== undefined ? 'manual' : 'follow',
    signal,
  }).then(
    async (res) => res.type === 'opaqueredirect'
      ? { status: 0, body: '' }
      : {
        status: res.status,
        body: await readCapped(res),
        dpopNonce: res.headers.get('dpop-nonce') ?? undefined,
        // Readable cross-origin only when the provider exposes them (Access-Control-Expose-Headers).
        retryAfter: res.headers.get('retry-after') ?? undefined,
        date: res.headers.get('date') ?? undefined,
      },
    () => Promise.reject(signal?.aborted ? 'timeout' : 'network'),
  );
}
let db: Promise<IDBDatabase | undefined> | undefined;
function openDb(): Promise<IDBDatabase | undefined> {
  db ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open('oidc-wasm', 2);
      req.onupgradeneeded = () => {
        for (const s of STORES) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined); // no IndexedDB: DPoP and sealing keys then last as long as the page
    }
  });
  return db;
}
async function idb<T>(store: string, mode: IDBTransactionMode, use: (s: IDBObjectStore) => IDBRequest | undefined): Promise<T | undefined> {
  const d = await openDb();
  if (!d) return undefined;
  return new Promise((resolve) => {
    const tx = d.transaction(store, mode);
    const req = use(tx.objectStore(store));
    tx.oncomplete = () => resolve(req?.result as T);
    tx.onerror = tx.onabort = () => resolve(undefined);
  });
}

// A key made on first use and kept in IndexedDB as the CryptoKey object itself (non-extractable:
// its bytes can never be read, only used). Tabs that race to create it agree on the stored one.
const made = new Map<string, Promise<unknown>>();
function keyOnce<T>(name: string, generate: () => Promise<T>): Promise<T> {
  let p = made.get(name) as Promise<T> | undefined;
  if (!p) {
    p = (async () => {
      const stored = await idb<T>('keys', 'readonly', (s) => s.get(name));
      if (stored) return stored;
      const fresh = await generate();
      // `add` fails if another tab stored one meanwhile; then use that one.
      await idb('keys', 'readwrite', (s) => s.add(fresh, name));
      return (await idb<T>('keys', 'readonly', (s) => s.get(name))) ?? fresh;
    })();
    p.catch(() => made.delete(name));
    made.set(name, p);
  }
  return p;
}

/** A plain GET started ahead of the core's request for it; a failure is reported when the core reads it. */
function getAhead(url: string): Promise<HttpResult> {
  const answer = send('GET', url);
  answer.catch(() => {});
  return answer;
}

// GETs started before any client exists (`preload`), by URL; a client's `prefetch` of the same URL takes
// the answer over instead of asking again.
const early = new Map<string, Promise<HttpResult>>();
export function prefetchEarly(url: string): void {
  if (!early.has(url)) early.set(url, getAhead(url));
}

export function browserHost() {
  return {
    /** Set by the wrapper: this tab's BroadcastChannel for the app (it also listens on it). */
    channel: undefined as BroadcastChannel | undefined,
    /** Set by the wrapper when the app passed `trace`: receives each step as JSON text. */
    onTrace: undefined as ((step: string) => void) | undefined,
    /** `false` when the app's trace function threw (the core fails the call cleanly). */
    trace(step: string): boolean {
      try {
        this.onTrace?.(step);
        return true;
      } catch {
        return false;
      }
    },

    /** Plain GETs started before the core asks for them (`prefetch`), by URL; each answer is used once. */
    prefetched: new Map<string, Promise<HttpResult>>(),
    prefetch(url: string): void {
      if (this.prefetched.has(url)) return;
      this.prefetched.set(url, early.get(url) ?? getAhead(url));
      early.delete(url);
    },

    http(method: string, url: string, body?: string, authorization?: string, dpop?: string): Promise<HttpResult> {
      try {
        const ahead = method === 'GET' && authorization === undefined && dpop === undefined ? this.prefetched.get(url) : undefined;
        if (ahead) {
          this.prefetched.delete(url);
          return ahead;
        }
        return send(method, url, body, authorization, dpop);
      } catch {
        return Promise.reject('network');
      }
    },

    async digest(hash: string, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.digest(hash, data.slice()));
    },

    /** Keys imported for the core, by the handle the core gave them (it keeps the handle with the JWK). */
    keys: [] as { alg: { name: string; hash: string; namedCurve: string; saltLength: number }; key: Promise<CryptoKey>; ready?: CryptoKey }[],
    importKey(handle: number, name: string, hash: string, namedCurve: string, saltLength: number, jwk: string): void {
      const alg = { name, hash, namedCurve, saltLength };
      let key: Promise<CryptoKey>;
      try {
        key = crypto.subtle.importKey('jwk', JSON.parse(jwk), alg, false, ['verify']);
      } catch (e) {
        key = Promise.reject(e);
      }
      const entry: (typeof this.keys)[number] = { alg, key };
      key.then((k) => { entry.ready = k; }, () => {}); // a refused key is reported by verify
      this.keys[handle] = entry;
    },
    verify(handle: number, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
      try {
        // Copy out of wasm memory now: the views are only valid during this call.
        const input = data.slice();
        const sig = signature.slice();
        const { alg, key, ready } = this.keys[handle];
        return ready ? crypto.subtle.verify(alg, ready, sig, input) : key.then((k) => crypto.subtle.verify(alg, k, sig, input));
      } catch (e) {
        return Promise.reject(e);
      }
    },

    /** Resolves, once the exclusive lock is granted, to the function that releases it. */
    lock(name: string): Promise<() => void> {
      const locks = globalThis.navigator?.locks;
      const none = () => {};
      if (!locks) return Promise.resolve(none);
      return new Promise((granted) => {
        try {
          // Refused (an opaque origin, a sandboxed frame): the tabs then coordinate by generation only.
          locks.request(name, () => new Promise<void>((release) => granted(() => release()))).catch(() => granted(none));
        } catch {
          granted(none);
        }
      });
    },
    /** The public JWK of the key pair `name`; `create` (a new login) makes it when missing. A pair that is
     * gone (its session ended) is never made again under the old name: that is an error. */
    async dpopPublicJwk(name: string, create: boolean): Promise<string> {
      const pair = await keyOnce<CryptoKeyPair>(name, () => create
        ? crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
        : Promise.reject(new Error('the DPoP key pair is gone')));
      return JSON.stringify(await crypto.subtle.exportKey('jwk', pair.publicKey)); // the public half only
    },
    async dpopSign(name: string, data: Uint8Array): Promise<Uint8Array> {
      const input = data.slice();
      const pair = await keyOnce<CryptoKeyPair>(name, () => Promise.reject(new Error('the DPoP key pair is gone')));
      return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, input));
    },
    async dpopForget(name: string): Promise<void> {
      made.delete(name);
      await idb('keys', 'readwrite', (s) => s.delete(name));
    },
    async seal(name: string, plaintext: string): Promise<boolean> {
      try {
        const key = await keyOnce<CryptoKey>(`${name}|key`, () =>
          crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(plaintext));
        await idb('sealed', 'readwrite', (s) => s.put({ iv, ciphertext }, name));
        return true;
      } catch {
        return false;
      }
    },
    async unseal(name: string): Promise<string | undefined> {
      try {
        const box = await idb<{ iv: Uint8Array<ArrayBuffer>; ciphertext: ArrayBuffer }>('sealed', 'readonly', (s) => s.get(name));
        const key = await idb<CryptoKey>('keys', 'readonly', (s) => s.get(`${name}|key`));
        if (!box || !key) return undefined;
        return new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv }, key, box.ciphertext));
      } catch {
        return undefined; // tampered or from another key: as if nothing were stored
      }
    },
    async unsealClear(name: string): Promise<void> {
      await idb('sealed', 'readwrite', (s) => s.delete(name));
    },
    broadcast(message: string): void {
      try {
        this.channel?.postMessage(message);
      } catch { /* a closed channel (the page is going away): nobody to tell */ }
    },
  };
}
