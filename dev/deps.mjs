// The development provider's two npm dependencies, loaded on demand so that a missing one is reported
// with the command that installs it instead of a module-resolution stack trace.
//
//   oidc-provider  the certified OpenID Provider (an optional peer dependency of oidc-wasm: an app that
//                  wants `npx oidc-wasm dev-provider` installs it as a devDependency)
//   jose           JWT/JWK helpers for the sample API; oidc-provider depends on it, so it is looked up
//                  beside the app's packages first and then among oidc-provider's own dependencies.

import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The command that installs what the development provider needs. */
export const INSTALL_COMMAND = 'npm install --save-dev oidc-provider@9';

export class MissingDependency extends Error {
  constructor(name) {
    super(`The development provider needs the npm package ${name}, which is not installed here. Install it in your app with:\n\n  ${INSTALL_COMMAND}\n`);
    this.name = 'MissingDependency';
    this.code = 'OIDC_WASM_MISSING_DEPENDENCY';
    this.dependency = name;
  }
}

function notFound(err, name) {
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND')
    && String(err.message).includes(`'${name}'`);
}

let provider;
let jose;

/** The `oidc-provider` module namespace. Throws MissingDependency when it is not installed. */
export async function importOidcProvider() {
  if (!provider) {
    try {
      provider = await import('oidc-provider');
    } catch (err) {
      if (notFound(err, 'oidc-provider')) throw new MissingDependency('oidc-provider');
      throw err;
    }
  }
  return provider;
}

/** The `jose` module namespace: the app's own, else the one oidc-provider depends on. */
export async function importJose() {
  if (!jose) {
    try {
      jose = await import('jose');
    } catch (err) {
      if (!notFound(err, 'jose')) throw err;
      let providerEntry;
      try {
        providerEntry = fileURLToPath(import.meta.resolve('oidc-provider'));
      } catch {
        throw new MissingDependency('oidc-provider');
      }
      let josePath;
      try {
        josePath = createRequire(providerEntry).resolve('jose');
      } catch {
        throw new MissingDependency('jose');
      }
      jose = await import(pathToFileURL(josePath).href);
    }
  }
  return jose;
}
