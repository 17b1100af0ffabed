// The browser side of the core's one boundary (src/host.rs): fetch, WebCrypto, randomness, clock,
// the sessionStorage that holds the single-use login transaction, history.replaceState, and the
// cross-tab primitives (Web Locks, a counter in IndexedDB, BroadcastChannel).
// It makes no protocol decision: the Rust core says what to fetch, which key and algorithm to verify
// with, and what to store.

const TX_STORE = () => globalThis.sessionStorage;

// Imported keys, so verifying the next token with the same JWK skips importKey.
const keys = new Map<string, Promise<CryptoKey>>();

export interface HttpResult { status: number; body: string }

// The shared generation counter: one number per app (issuer + client) in IndexedDB, read and written
// only while holding the app's Web Lock, so every tab sees the latest. Never a token.
let db: Promise<IDBDatabase | undefined> | undefined;
function openDb(): Promise<IDBDatabase | undefined> {
  db ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open('oidc-wasm', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('generation');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined); // no IndexedDB: tabs still coordinate by lock and BroadcastChannel alone
    }
  });
  return db;
}
async function generationStore<T>(mode: IDBTransactionMode, use: (s: IDBObjectStore) => IDBRequest | undefined): Promise<T | undefined> {
  const d = await openDb();
  if (!d) return undefined;
  return new Promise((resolve) => {
    const tx = d.transaction('generation', mode);
    const req = use(tx.objectStore('generation'));
    tx.oncomplete = () => resolve(req?.result as T);
    tx.onerror = tx.onabort = () => resolve(undefined);
  });
}

export function browserHost() {
  return {
    /** Set by the wrapper: this tab's BroadcastChannel for the app (it also listens on it). */
    channel: undefined as BroadcastChannel | undefined,

    now: (): number => Date.now() / 1000,

    random: (out: Uint8Array): void => {
      crypto.getRandomValues(out);
    },

    async http(method: string, url: string, body?: string, authorization?: string): Promise<HttpResult> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await fetch(url, {
        method,
        body,
        headers,
        credentials: 'omit', // the OP's cookies have no business on back-channel calls
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        // A token request must not be redirected elsewhere with the code in its body.
        redirect: method === 'POST' ? 'error' : 'follow',
      });
      return { status: res.status, body: await res.text() };
    },

    async digest(hash: string, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.digest(hash, data.slice()));
    },

    async verify(name: string, hash: string, namedCurve: string, saltLength: number, jwk: string,
      data: Uint8Array, signature: Uint8Array): Promise<boolean> {
      // Copy out of wasm memory before the first await: the views are only valid during this call.
      const input = data.slice();
      const sig = signature.slice();
      const alg = { name, hash, namedCurve, saltLength };
      const cacheKey = name + hash + jwk;
      let key = keys.get(cacheKey);
      if (!key) {
        if (keys.size > 32) keys.clear();
        key = crypto.subtle.importKey('jwk', JSON.parse(jwk), alg, false, ['verify']);
        keys.set(cacheKey, key);
        key.catch(() => keys.delete(cacheKey));
      }
      return crypto.subtle.verify(alg, await key, sig, input);
    },

    storageGet: (key: string): string | null => {
      try { return TX_STORE().getItem(key); } catch { return null; }
    },
    storageSet: (key: string, value: string): boolean => {
      try { TX_STORE().setItem(key, value); return true; } catch { return false; }
    },
    storageRemove: (key: string): void => {
      try { TX_STORE().removeItem(key); } catch { /* nothing stored, nothing to remove */ }
    },
    storageKeys: (prefix: string): string[] => {
      try { return Object.keys(TX_STORE()).filter((k) => k.startsWith(prefix)); } catch { return []; }
    },

    replaceUrl: (url: string): void => {
      history.replaceState(history.state, '', url);
    },

    /** Resolves, once the exclusive lock is granted, to the function that releases it. */
    lock(name: string): Promise<() => void> {
      const locks = globalThis.navigator?.locks;
      if (!locks) return Promise.resolve(() => {});
      return new Promise((granted) => {
        locks.request(name, () => new Promise<void>((release) => granted(() => release())));
      });
    },
    async sharedGeneration(name: string): Promise<number> {
      return (await generationStore<number>('readonly', (s) => s.get(name))) ?? 0;
    },
    async setSharedGeneration(name: string, generation: number): Promise<void> {
      await generationStore('readwrite', (s) => s.put(generation, name));
    },
    broadcast(message: string): void {
      this.channel?.postMessage(message);
    },
    sleep: (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)),
  };
}
