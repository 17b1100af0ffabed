// The route guards' one decision, shared by React's <RequireAuth> and the vue-router guard: show the
// protected content, wait, show an error, or start a login.
//
// Never a login while an error is known. After a failed callback (the user cancelled at the provider,
// a mix-up, a token error) the app is signed out with the error in its state; a guard that logged in
// again would send the user straight back to the provider, and a provider that still has a session would
// send them straight back with the same failure: a redirect loop. The error is shown instead, and a new
// login is the user's choice.

export type GuardStep = 'wait' | 'allow' | 'error' | 'login';

export interface GuardState {
  isLoading: boolean;
  isAuthenticated: boolean;
  error: unknown;
}

export function guardStep(s: GuardState): GuardStep {
  if (s.isLoading) return 'wait'; // the client loads, or the callback is being handled
  if (s.isAuthenticated) return 'allow';
  if (s.error) return 'error';
  return 'login';
}
