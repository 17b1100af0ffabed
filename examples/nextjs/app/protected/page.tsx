// A server component: its frame renders on the server; what needs the user is the client component below,
// behind <RequireAuth> (signed out, the browser goes to the provider and comes back here).
import { OrdersPanel } from './orders-panel';

export default function ProtectedPage() {
  return (
    <>
      <h2>Protected</h2>
      <OrdersPanel />
    </>
  );
}
