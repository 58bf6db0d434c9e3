import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { MemoryOS } from '../os/memory-os.js';
import { createMcpServer, type McpOptions } from './tools.js';

/**
 * Answers one MCP streamable-HTTP request, statelessly: a server and transport per request,
 * acting for the caller's handle, so nothing of one key lingers for another.
 */
export async function handleMcpRequest(
  memory: MemoryOS,
  request: Request,
  options: McpOptions,
): Promise<Response> {
  const server = createMcpServer(memory, options);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}
