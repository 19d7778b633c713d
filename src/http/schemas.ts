/**
 * The answers' schemas, one module per resource under schemas/. They document the answers in
 * /openapi.json (shared resources as named components) and the serializer writes every answer
 * through them, so the reference cannot drift from what the server sends.
 */
export * from './schemas/admin.js';
export * from './schemas/common.js';
export * from './schemas/data.js';
export * from './schemas/forecast.js';
export * from './schemas/leads.js';
export * from './schemas/problem.js';
export * from './schemas/process.js';
export * from './schemas/reports.js';
export * from './schemas/users.js';
