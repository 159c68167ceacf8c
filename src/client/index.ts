/**
 * The client side of mcp-fleet, for both eras: a Streamable HTTP transport that recovers lost
 * sessions (2025) and re-issues requests whose response stream broke (2026-07-28), and a
 * `subscriptions/listen` that re-opens itself.
 */
export { RecoveringTransport, type RecoveringTransportOptions, type SessionChange } from './recovering-transport.js';
export type { Reissue } from './reissuing-requests.js';
export { DurableSubscription, type DurableSubscriptionOptions, type ListenBackoff, type SubscriptionReopen } from './durable-subscription.js';
export { ERAS, MODERN_REVISION, versionNegotiation, type Era } from './era.js';
