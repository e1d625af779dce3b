// The MCP server's entry for the extension: bundled apart into dist/mcp.js (zod, the MCP SDK and
// ajv are most of the code), so activate() does not parse it until the server first starts.
export { createMcpServer } from './server';
export { startHttpHost } from './httpHost';
// The palette commands check their arguments with the tools' input schemas, loaded from here too.
export * as schemas from './schemas';
export { z } from 'zod';
