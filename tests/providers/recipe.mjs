// Reading a provider recipe out of README.md, for the provider-profile tests (providers.test.mjs).
//
// The README's "## Providers" section has, per provider, an HTML comment `<!-- provider-config: NAME -->`
// followed by a ```ts block calling `createClient({...})`. extractRecipe() takes that block, cuts out the
// object literal passed to createClient (string-aware brace matching: `{client_id}` inside a string is
// text), evaluates it as a JavaScript expression in an empty context, and checks it is made only of
// plain data (strings, numbers, booleans, arrays, plain objects) — a recipe that computes anything fails.
// mapOrigins() then replaces every `https://<host>` origin in its string values with the local server
// that plays that host, keeping paths and queries; a host no local server plays fails loudly.

import vm from 'node:vm';

/** The index of the `}` closing the `{` at `open`, skipping string and template literals and comments. */
export function matchingBrace(code, open) {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === '\\') i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '/') { i = code.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && code[i + 1] === '*') { i = code.indexOf('*/', i + 2) + 1; if (i <= 0) break; continue; }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces in the createClient call');
}

/** Throws unless `literal` is written with literals only: outside strings and comments, every identifier
 * is a property name (followed by `:`) or true/false/null, and nothing is called, computed or spread. */
export function assertLiteralOnly(literal) {
  const bare = literal
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  if (/[`()=+*/%!?&|<>;]|\.\.\./.test(bare)) throw new Error(`not a plain literal: ${bare.match(/[`()=+*/%!?&|<>;]|\.\.\./)[0]} outside a string`);
  for (const m of bare.matchAll(/[A-Za-z_$][\w$]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    if (!after.startsWith(':') && !['true', 'false', 'null'].includes(m[0])) throw new Error(`not a plain literal: the identifier ${m[0]} is used as a value`);
  }
}

/** Throws unless `value` is plain data; returns it re-created in this realm. */
function plainData(value, path) {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (Array.isArray(value)) return Array.from(value, (v, i) => plainData(v, `${path}[${i}]`));
  if (value && typeof value === 'object' && Object.prototype.toString.call(value) === '[object Object]'
      && Object.getPrototypeOf(Object.getPrototypeOf(value)) === null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainData(v, `${path}.${k}`)]));
  }
  throw new Error(`${path} is not a string, number, boolean, array or object literal`);
}

/**
 * The recipe of `name` in `readme`: { code (the ```ts block), literal (the object's source), config }.
 * Throws with a message naming what is missing.
 */
export function extractRecipe(readme, name) {
  const marker = `<!-- provider-config: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  if (readme.indexOf(marker, at + marker.length) >= 0) throw new Error(`README.md has ${marker} more than once`);
  const fence = /```ts[^\n]*\n([\s\S]*?)\n```/g;
  fence.lastIndex = at + marker.length;
  const m = fence.exec(readme);
  if (!m) throw new Error(`no \`\`\`ts block after ${marker}`);
  if (readme.slice(at + marker.length, m.index).trim() !== '') throw new Error(`the \`\`\`ts block does not follow ${marker} directly`);
  const code = m[1];
  const call = code.indexOf('createClient(');
  if (call < 0) throw new Error(`the recipe of ${name} does not call createClient(`);
  const open = code.indexOf('{', call);
  if (open < 0 || code.slice(call + 'createClient('.length, open).trim() !== '') throw new Error(`createClient( in the recipe of ${name} is not given an object literal`);
  const literal = code.slice(open, matchingBrace(code, open) + 1);
  let value;
  try {
    assertLiteralOnly(literal);
    value = vm.runInNewContext(`(${literal})`, {}, { timeout: 1000 });
  } catch (err) {
    throw new Error(`the recipe of ${name} is not a plain object literal: ${err.message}`);
  }
  return { code, literal, config: plainData(value, 'config') };
}

/**
 * `value` with every `https://<host>` in its strings replaced by `origins[hosts[host]]`.
 * Records each host met in `used`. Throws on a host not in `hosts`, a port, or an `http://` URL.
 */
export function mapOrigins(value, hosts, origins, used = new Set(), path = 'config') {
  if (typeof value === 'string') {
    if (/\bhttp:\/\//i.test(value)) throw new Error(`${path} holds a plain http:// URL`);
    return value.replace(/https:\/\/([^/?#\s'"{}]+)/gi, (whole, authority) => {
      const host = authority.toLowerCase();
      if (!(host in hosts)) throw new Error(`${path} names https://${authority}, which no local server of this profile plays`);
      const origin = origins[hosts[host]];
      if (!origin) throw new Error(`no local origin for the role ${hosts[host]} (host ${host})`);
      used.add(host);
      return origin;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => mapOrigins(v, hosts, origins, used, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapOrigins(v, hosts, origins, used, `${path}.${k}`)]));
  }
  return value;
}
