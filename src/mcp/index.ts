// The MCP server's entry for the extension: bundled apart into dist/mcp.js (zod, the MCP SDK and
// ajv are most of the code), so activate() does not parse it until the server first starts.
export { createMcpServer } from './server';
export { startHttpHost } from './httpHost';
