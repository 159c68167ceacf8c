/** The client side of mcp-fleet: a Streamable HTTP transport that recovers lost sessions by itself. */
export { RecoveringTransport, type RecoveringTransportOptions, type SessionChange } from './recovering-transport.js';
