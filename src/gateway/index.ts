// The gateway's entry for the extension: bundled apart into dist/gateway.js, so activate() does not
// parse it; the extension loads it when the gateway starts (after activation).
export { startGateway } from './server';
