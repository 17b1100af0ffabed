#!/usr/bin/env node
// `npx oidc-wasm <command>`: the package's command line (package.json "bin").
//
//   npx oidc-wasm dev-provider --origin http://localhost:5173 [--origin http://localhost:4173]
//                              [--port 3001] [--api-port 3002] [--client-id my-app] [--redirect-path /callback]
//
// dev-provider starts a local OpenID Provider and the sample API on 127.0.0.1 for your app's origins and
// prints the config to paste (./dev-provider.mjs). It needs the npm package oidc-provider in the app
// (`npm install --save-dev oidc-provider@9`) and says so when it is missing.

import { pathToFileURL } from 'node:url';
import { parseOrigin } from './origin.mjs';

const USAGE = `Usage: npx oidc-wasm dev-provider --origin <app origin> [--origin <another>] [options]

Starts a local OpenID Provider and a sample API on 127.0.0.1 (loopback only) for your app, registers a
client for each origin (redirect URI <origin>/callback, post-logout <origin>/), and prints the config to
paste into your app. Anyone can sign in with any username and password: for development only.

Options:
  --origin <url>         your app's origin, as in the browser's address bar; repeat for each one you open,
                         e.g. --origin http://localhost:5173 (vite) --origin http://localhost:4173 (vite preview)
  --port <n>             the provider's port (default 3001)
  --api-port <n>         the sample API's port (default 3002)
  --client-id <id>       the client ID to register (default my-app)
  --redirect-path <p>    the redirect URI's path on each origin (default /callback)
  -h, --help             this text

Needs the npm package oidc-provider in your app: npm install --save-dev oidc-provider@9`;

const VALUED = new Set(['origin', 'port', 'api-port', 'client-id', 'redirect-path']);

/** Parses `--name value` and `--name=value`; --origin repeats. Throws with a message for the user. */
export function parseArgs(argv) {
  const out = { origins: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') { out.help = true; continue; }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !VALUED.has(m[1])) throw new Error(`unknown option ${arg}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new Error(`--${m[1]} needs a value`);
    if (m[1] === 'origin') out.origins.push(value);
    else out[m[1]] = value;
  }
  for (const name of ['port', 'api-port']) {
    if (out[name] !== undefined && !/^\d{1,5}$/.test(out[name])) throw new Error(`--${name} ${out[name]}: a port number`);
  }
  return out;
}

async function devProvider(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`oidc-wasm dev-provider: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.origins.length === 0) {
    console.error(`oidc-wasm dev-provider: say which origin your app runs on, e.g.\n\n  npx oidc-wasm dev-provider --origin http://localhost:5173 --origin http://localhost:4173\n\n${USAGE}`);
    return 2;
  }
  try {
    args.origins.forEach(parseOrigin);
  } catch (err) {
    console.error(`oidc-wasm dev-provider: ${err.message}`);
    return 2;
  }
  let mod;
  try {
    mod = await import('./dev-provider.mjs');
  } catch (err) {
    if (err?.code === 'OIDC_WASM_MISSING_DEPENDENCY') {
      console.error(`oidc-wasm dev-provider: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const options = {
    origins: args.origins,
    port: Number(args.port ?? mod.DEFAULTS.port),
    apiPort: Number(args['api-port'] ?? mod.DEFAULTS.apiPort),
    clientId: args['client-id'] ?? mod.DEFAULTS.clientId,
    redirectPath: args['redirect-path'] ?? mod.DEFAULTS.redirectPath,
  };
  let dev;
  try {
    dev = await mod.startDevProvider(options);
  } catch (err) {
    if (err?.code === 'EADDRINUSE') {
      const [flag, port] = err.server === 'API' ? ['--api-port', options.apiPort] : ['--port', options.port];
      console.error(`oidc-wasm dev-provider: port ${port} on 127.0.0.1 (the ${err.server ?? 'server'}) is already in use. Stop what uses it, or choose another port with ${flag} ${port + 10}.`);
      return 1;
    }
    if (err instanceof TypeError) {
      console.error(`oidc-wasm dev-provider: ${err.message}`);
      return 2;
    }
    throw err;
  }
  console.log(mod.describe(dev));
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await dev.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return undefined; // keeps running
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === 'dev-provider') return devProvider(rest);
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(`oidc-wasm commands:\n\n${USAGE}`);
    return command === undefined ? 2 : 0;
  }
  console.error(`oidc-wasm: unknown command ${command}\n\n${USAGE}`);
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}
