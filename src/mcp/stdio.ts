import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MemoryOS } from '../os/memory-os.js';
import { createMcpServer, type McpOptions } from './tools.js';

/** Serves MCP over stdin/stdout until the client disconnects; then closes the memory. */
export async function runStdioMcp(memory: MemoryOS, options: McpOptions): Promise<void> {
  const server = createMcpServer(memory, options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  await Promise.race([closed, new Promise<void>((resolve) => process.stdin.once('end', resolve))]);
  await server.close();
  await memory.close();
}
