// The glue between the wasm core and the browser, hand-written (no wasm-bindgen): it instantiates the
// module with its imports — the services the core needs at once (clock, random bytes, sessionStorage,
// the tabs' shared generation, history.replaceState, the trace) — and runs a core machine: an event goes
// in (`oidc_handle`), the effects come out as JSON, and each is carried out by the browser host
// (js/host.ts), whose answer is the next event. It knows nothing of OAuth: what to fetch, which key to
// verify with, what to store, when to resolve the app's promise — the core says.

import type { browserHost } from './host.js';

type Host = ReturnType<typeof browserHost>;

interface Exports {
  memory: WebAssembly.Memory;
  oidc_alloc(len: number): number;
  oidc_free(ptr: number, len: number): void;
  oidc_create(ptr: number, len: number): number;
  oidc_handle(machine: number, kind: number, op: number, status: number, ptr: number, len: number): number;
  oidc_query(machine: number, ptr: number, len: number): number;
  oidc_drop(machine: number): void;
  oidc_output(): number;
}

// The machine whose event is being handled: the trace import reports to its app.
let active: Core | undefined;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TX_STORE = () => globalThis.sessionStorage;
// The tabs' shared session generation (one per app: issuer + client): "<newest> <newest end>". localStorage
// because it is synchronous; read and written under the app's Web Lock.
const GENERATION = 'oidc-wasm.generation.';

/** Whether the shared generation can be read here (localStorage may be refused: a sandboxed frame, blocked
 * storage); where it cannot, the core reads it as none. */
export function sharedGenerationReadable(): boolean {
  try {
    localStorage.getItem(GENERATION);
    return true;
  } catch {
    return false;
  }
}

/** One instantiated module: its exports, and reads and writes of its memory. */
export class Module {
  ex!: Exports;
  bytes(ptr: number, len: number) {
    return new Uint8Array(this.ex.memory.buffer, ptr, len);
  }
  str(ptr: number, len: number) {
    return decoder.decode(this.bytes(ptr, len));
  }
  /** Copies `data` into a new buffer of the module (`[u32 length][bytes]` when `prefixed`); its address. */
  put(data: Uint8Array, prefixed: boolean): number {
    const size = data.length + (prefixed ? 4 : 0);
    const ptr = this.ex.oidc_alloc(size);
    if (prefixed) new DataView(this.ex.memory.buffer, ptr, 4).setUint32(0, data.length, true);
    this.bytes(ptr, size).set(data, prefixed ? 4 : 0);
    return ptr;
  }
  putText(text: string | null) {
    return text === null ? 0 : this.put(encoder.encode(text), true);
  }
  /** The module's output buffer: `[u32 length][bytes]`. */
  output(ptr: number): string {
    const len = new DataView(this.ex.memory.buffer, ptr, 4).getUint32(0, true);
    return this.str(ptr + 4, len);
  }

  imports() {
    const str = (p: number, l: number) => this.str(p, l);
    return {
      env: {
        now: () => Date.now() / 1000,
        random: (ptr: number, len: number) => { crypto.getRandomValues(this.bytes(ptr, len)); },
        storage_get: (kp: number, kl: number) => {
          try { return this.putText(TX_STORE().getItem(str(kp, kl))); } catch { return 0; }
        },
        storage_set: (kp: number, kl: number, vp: number, vl: number) => {
          try { TX_STORE().setItem(str(kp, kl), str(vp, vl)); return 1; } catch { return 0; }
        },
        storage_remove: (kp: number, kl: number) => {
          try { TX_STORE().removeItem(str(kp, kl)); } catch { /* nothing stored, nothing to remove */ }
        },
        storage_keys: (pp: number, pl: number) => {
          const prefix = str(pp, pl);
          try { return this.putText(Object.keys(TX_STORE()).filter((k) => k.startsWith(prefix)).join('\n')); } catch { return 0; }
        },
        shared_get: (np: number, nl: number, ended: number) => {
          try {
            const [generation, end] = (localStorage.getItem(GENERATION + str(np, nl)) ?? '').split(' ');
            return Number(ended ? end : generation) || 0;
          } catch {
            return 0; // storage blocked: tabs still coordinate by lock and BroadcastChannel
          }
        },
        shared_set: (np: number, nl: number, generation: number, ended: number) => {
          try {
            const key = GENERATION + str(np, nl);
            const end = ended ? generation : Number((localStorage.getItem(key) ?? '').split(' ')[1]) || 0;
            localStorage.setItem(key, `${generation} ${end}`);
          } catch { /* as above */ }
        },
        // `0` when the browser refused (Safari rate-limits it; a sandboxed frame may forbid it).
        replace_url: (up: number, ul: number) => {
          try { history.replaceState(history.state, '', str(up, ul)); return 1; } catch { return 0; }
        },
        trace: (sp: number, sl: number) => (active?.host.trace(str(sp, sl)) === false ? 0 : 1),
      },
    };
  }
}

const loaded = new Map<unknown, Promise<Module>>();

/** Loads and instantiates a module once per source: a URL, a Response, bytes or a compiled module. */
export function loadCore(source: string | URL | Response | BufferSource | WebAssembly.Module): Promise<Module> {
  const key = source instanceof URL ? source.href : source;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const m = new Module();
      const imports = m.imports();
      let instance: WebAssembly.Instance;
      if (source instanceof WebAssembly.Module) {
        instance = await WebAssembly.instantiate(source, imports);
      } else if (source instanceof Response || typeof source === 'string' || source instanceof URL) {
        const response = source instanceof Response ? source : fetch(source);
        instance = typeof WebAssembly.instantiateStreaming === 'function'
          ? (await WebAssembly.instantiateStreaming(response, imports).catch(async (e) => {
            // A server that sends the wasm without `application/wasm`: compile from the bytes instead.
            if (!(e instanceof TypeError)) throw e;
            return WebAssembly.instantiate(await (await response).clone().arrayBuffer(), imports);
          })).instance
          : (await WebAssembly.instantiate(await (await response).arrayBuffer(), imports)).instance;
      } else {
        instance = (await WebAssembly.instantiate(source, imports)).instance;
      }
      m.ex = instance.exports as unknown as Exports;
      return m;
    })();
    // A failed fetch (offline) may succeed on the next createClient.
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

type Effect = { e: string; op?: number; [member: string]: unknown };
type Waiting = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** One client's machine: app calls and browser answers in, effects out. */
export class Core {
  readonly id: number;
  readonly host: Host;
  private readonly m: Module;
  private calls = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly releases = new Map<number, () => void>();
  private change = '';

  /** A machine for the `createClient` config (JSON text); throws the core's error array when it is refused. */
  constructor(m: Module, config: string, host: Host) {
    this.m = m;
    this.host = host;
    const data = encoder.encode(config);
    const ptr = m.put(data, false);
    this.id = m.ex.oidc_create(ptr, data.length);
    m.ex.oidc_free(ptr, data.length);
    if (this.id === 0) throw JSON.parse(m.output(m.ex.oidc_output()));
  }

  /** Calls `method` on the core; resolves to its result, or rejects with its error array. */
  call(method: string, args: unknown = null): Promise<any> {
    const id = ++this.calls;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send(1, id, 0, [method, JSON.stringify(args)]);
    });
  }

  /** A synchronous read (no effects). */
  query(what: string, arg = ''): any {
    const { m } = this;
    const data = encoder.encode(`${what}\n${arg}`);
    const ptr = m.put(data, false);
    const out = m.output(m.ex.oidc_query(this.id, ptr, data.length));
    m.ex.oidc_free(ptr, data.length);
    return JSON.parse(out);
  }

  /** A message from another tab; returns what it changed: '', 'signedIn', 'refreshed' or 'ended'. */
  message(text: string): string {
    this.change = '';
    this.send(6, 0, 0, [text]);
    return this.change;
  }

  /** Feeds one event and carries out the effects it leads to. */
  private send(kind: number, op: number, status: number, fields: (string | Uint8Array)[]) {
    const { m } = this;
    const parts = fields.map((f) => (typeof f === 'string' ? encoder.encode(f) : f));
    const size = parts.reduce((n, p) => n + 4 + p.length, 0);
    const ptr = size ? m.ex.oidc_alloc(size) : 0;
    let at = ptr;
    for (const p of parts) {
      new DataView(m.ex.memory.buffer, at, 4).setUint32(0, p.length, true);
      m.bytes(at + 4, p.length).set(p);
      at += 4 + p.length;
    }
    const previous = active;
    active = this;
    let effects: Effect[];
    try {
      effects = JSON.parse(m.output(m.ex.oidc_handle(this.id, kind, op, status, ptr, size)));
    } finally {
      active = previous;
      if (size) m.ex.oidc_free(ptr, size);
    }
    // Byte payloads point into the module's memory until the next event: copy them all first.
    for (const e of effects) {
      for (const k of ['d', 's']) {
        const v = e[k];
        if (Array.isArray(v)) e[k] = m.bytes(v[0], v[1]).slice();
      }
    }
    for (const e of effects) this.run(e);
  }

  private answer(op: number, kind: number, status: number, fields: (string | Uint8Array)[] = []) {
    this.send(kind, op, status, fields);
  }

  /** Carries out one effect; an asynchronous one answers with an event when it completes. */
  private run(e: Effect) {
    const h = this.host;
    const op = e.op ?? 0;
    const s = (k: string) => e[k] as string;
    const b = (k: string) => e[k] as Uint8Array;
    const text = (p: Promise<string | undefined>) => p.then(
      (t) => this.answer(op, 5, t === undefined ? 0 : 1, t === undefined ? [] : [t]),
      () => this.answer(op, 5, 0),
    );
    const done = (p: Promise<unknown>, status = 1) => p.then(() => this.answer(op, 3, status), () => this.answer(op, 3, status));
    switch (e.e) {
      case 'http':
        h.http(s('m'), s('u'), e.b as string | undefined, e.a as string | undefined, e.d as string | undefined).then(
          // Status 0: a redirect not followed (a request carrying a token).
          (r) => this.answer(op, 2, r.status === 0 ? -4 : r.status, [r.body, r.dpopNonce ?? '', r.retryAfter ?? '', r.date ?? '']),
          (why) => this.answer(op, 2, why === 'timeout' ? -2 : why === 'too_large' ? -3 : -1),
        );
        break;
      case 'prefetch':
        h.prefetch(s('u'));
        break;
      case 'digest':
        h.digest(s('h'), b('d')).then((v) => this.answer(op, 4, 1, [v]), () => this.answer(op, 4, 0));
        break;
      case 'import':
        h.importKey(e.k as number, s('n'), s('h'), s('c'), e.s as number, s('j'));
        break;
      case 'verify':
        h.verify(e.k as number, b('d'), b('s')).then((ok) => this.answer(op, 3, ok ? 1 : 0), () => this.answer(op, 3, -1));
        break;
      case 'lock':
        h.lock(s('n')).then((release) => {
          this.releases.set(op, release);
          this.answer(op, 3, 1);
        });
        break;
      case 'unlock':
        this.releases.get(op)?.();
        this.releases.delete(op);
        break;
      case 'sleep':
        setTimeout(() => this.answer(op, 3, 1), e.ms as number);
        break;
      case 'bcast':
        h.broadcast(s('m'));
        break;
      case 'djwk':
        text(h.dpopPublicJwk(s('n'), e.c === 1));
        break;
      case 'dsign':
        h.dpopSign(s('n'), b('d')).then((v) => this.answer(op, 4, 1, [v]), () => this.answer(op, 4, 0));
        break;
      case 'dforget':
        done(h.dpopForget(s('n')));
        break;
      case 'seal':
        h.seal(s('n'), s('v')).then((ok) => this.answer(op, 3, ok ? 1 : 0), () => this.answer(op, 3, 0));
        break;
      case 'unseal':
        text(h.unseal(s('n')));
        break;
      case 'unclear':
        done(h.unsealClear(s('n')));
        break;
      case 'change':
        this.change = s('c');
        break;
      case 'done':
      case 'fail': {
        const w = this.waiting.get(e.id as number);
        this.waiting.delete(e.id as number);
        if (e.e === 'done') w?.resolve(e.v);
        else w?.reject(e.x);
        break;
      }
    }
  }

  drop(): void {
    this.m.ex.oidc_drop(this.id);
  }
}
