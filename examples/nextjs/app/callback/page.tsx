// The redirect URI. <AuthProvider> (app/auth-provider.tsx) completes the login here, then the router goes
// back to where it started; a failed callback stays here with the error shown in the layout.
export default function Callback() {
  return <p id="callback">Completing the sign-in…</p>;
}
