// dist/mcp.js (the MCP server, zod and the tools' schemas), loaded on first use, never by activate().
// The specifier must stay '../mcp/index': esbuild.mjs turns exactly that into a require of ./mcp.js.
export const loadMcpEntry = (): Promise<typeof import('../mcp/index')> => import('../mcp/index');
