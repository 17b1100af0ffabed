// A server component, untouched by the sign-in: rendered once at build time (static).
export default function Home() {
  return (
    <p id="home">
      This page is rendered on the server and is the same for everyone. The session above lives in the
      browser; the protected page signs you in first.
    </p>
  );
}
