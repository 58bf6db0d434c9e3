import { problemSchema } from '../schemas.js';

/** The problem responses every authenticated route can answer with, for the OpenAPI document. */
export const problemResponses = Object.fromEntries(
  (
    [
      [400, 'Invalid input or JSON'],
      [401, 'Missing, unknown, expired or revoked key'],
      [403, 'The key lacks the permission'],
      [404, 'Unknown (or another tenant’s) cube or item'],
      [409, 'Conflict'],
      [413, 'Body over the size limit'],
      [415, 'Body is not application/json'],
      [429, 'Rate limited; see Retry-After'],
      [502, 'The embedding provider failed'],
      [503, 'Shutting down or not ready'],
    ] as const
  ).map(([status, description]) => [
    status,
    { description, content: { 'application/problem+json': { schema: problemSchema } } },
  ]),
) as Record<
  400 | 401 | 403 | 404 | 409 | 413 | 429,
  { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }
>;

export const security = [{ bearer: [] as string[] }];

export function jsonContent<S>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<S>(schema: S) {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}
