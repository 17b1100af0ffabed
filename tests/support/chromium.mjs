// The headless Chromium every browser test drives (tests/e2e, tests/conformance, tests/consumers): one
// executable and one set of flags. Environment: CHROMIUM (browser binary, default /usr/bin/chromium).

import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-sandbox',
  // Nothing outside loopback (the provider's dev pages @import a web font; there is no internet here).
  // `localhost` is loopback too, and what Vite's dev server prints (tests/consumers' quick start opens it).
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Launches headless Chromium with CHROMIUM_ARGS, then `extraArgs`; gives up after `timeout` ms. */
export function launchChromium({ extraArgs = [], timeout = 30_000 } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout,
  });
}
