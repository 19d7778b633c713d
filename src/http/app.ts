import fastifyCookie from '@fastify/cookie';
import { STATUS_CODES } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Engine } from '../engine/engine.js';
import { GroupCommitter } from '../engine/group-commit.js';
import { withTransaction, type Store } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { accessDenial, callerLabel, type Access, type Caller } from './access.js';
import { authenticate, type SessionPolicy } from './authenticate.js';
import { checkCsrf } from './csrf.js';
import { notModified } from './conditional.js';
import { finishIdempotent, startIdempotent } from './idempotency.js';
import { RouteMethods } from './method-not-allowed.js';
import { transform, transformObject, type EtagUse } from './openapi-document.js';
import { handleError, Problem, PROBLEM_BASE, sendProblem, type ProblemType } from './problem.js';
import { problemResponses, problemTypesOf } from './problem-responses.js';
import { ProcessCache } from './process-cache.js';
import { TokenCache } from './token-cache.js';
import { registerRoutes } from './routes/index.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { responseSerializerCompiler } from './serializer.js';
import { setupRoutes } from './setup.js';
import { mailchimpWebhookRoutes } from './mailchimp-webhook.js';
import { publicRouteOptionsFromEnv, type PublicRouteOptions } from './public-routes.js';
import { unsubscribeRoutes } from './unsubscribe.js';

/**
 * buildApp(deps) makes the whole HTTP API without listening, so tests can run it on a loopback
 * port or with inject(). Each request: security headers, authenticate, authorise by the route's
 * declared access, CSRF for cookie writes, validate, idempotency, handler, problem+json on error.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Creating and transitioning routes accept an Idempotency-Key. */
    idempotent?: boolean;
    /** Problems the handler itself answers beyond those its access and schemas imply (problem-responses.ts). */
    problems?: readonly ProblemType[];
    /** The success answer carries the record's version as its ETag (openapi-document.ts, conditional.ts). */
    etag?: EtagUse;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export interface AppDeps {
  store: Store;
  /** The clock, injected so tests can move time. */
  now: () => number;
  session: SessionPolicy;
  trustProxy?: boolean;
  logger?: FastifyServerOptions['logger'];
  /** Unsubscribe links and Mailchimp's webhook; unset, read from the environment. */
  publicRoutes?: PublicRouteOptions;
}

export interface AppContext {
  store: Store;
  engine: Engine;
  /** Every lead event of the API goes through here: concurrent requests share transactions. */
  commits: GroupCommitter;
  now: () => number;
  session: SessionPolicy;
  processes: ProcessCache;
  tokens: TokenCache;
}

export interface RouteInfo {
  method: string;
  url: string;
  access: Access;
  idempotent: boolean;
  /** Every problem type the route can answer, as its OpenAPI operation lists them. */
  problems: ProblemType[];
}

export type App = FastifyInstance & { routeTable: RouteInfo[] };

export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: deps.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    // Task ids embed their lead's id (up to 100 characters, percent-encoded in a path).
    routerOptions: { maxParamLength: 1024 },
    // A request Node cannot even parse (headers too large): answered on the socket, still as a problem.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const status = (err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({
        type: `${PROBLEM_BASE}malformed-request`,
        title: 'The request could not be read',
        status,
        detail: status === 431 ? 'the request headers are too large' : 'the request is not valid HTTP',
      });
      const headers = Object.entries(SECURITY_HEADERS)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\ncontent-type: application/problem+json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n${headers}connection: close\r\n\r\n${body}`,
      );
    },
    // Errors raised before routing (a malformed URL) answer like every other error.
    frameworkErrors: (err, _req, reply) => {
      void reply.headers(SECURITY_HEADERS);
      void sendProblem(reply, new Problem('malformed-request', err.message));
    },
    // Request ids are the server's own (never a client's header) and go to the log with each request.
    requestIdHeader: false,
  }).withTypeProvider<ZodTypeProvider>();
  const engine = new Engine(deps.store);
  const ctx: AppContext = {
    store: deps.store,
    engine,
    commits: new GroupCommitter(engine),
    now: deps.now,
    session: deps.session,
    processes: new ProcessCache(deps.store),
    tokens: new TokenCache(),
  };
  const routeTable: RouteInfo[] = [];

  // JSON only (and the setup page's form): a text/plain body answers 415 rather than being read as
  // a string and failing validation as if it were a wrong JSON value.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  app.setErrorHandler(handleError);
  const methods = new RouteMethods();
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = methods.allowed(path);
    if (allowed.length > 0 && !allowed.includes(req.method))
      return sendProblem(
        reply,
        new Problem('method-not-allowed', `${path} answers ${allowed.join(', ')}, not ${req.method}`, {
          headers: { allow: allowed.join(', ') },
        }),
      );
    return sendProblem(reply, new Problem('not-found', `no route ${req.method} ${path}`));
  });
  app.decorateRequest('caller', null);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) methods.add(method, r.url);
    const access = r.config?.access;
    if (!access || r.url.endsWith('*')) return;
    const idempotent = r.config?.idempotent === true;
    const facts = {
      access,
      idempotent,
      schema: r.schema ?? {},
      problems: r.config?.problems ?? [],
      ifMatchRequired: r.config?.etag === 'if-match-required',
    };
    // Error answers are declared here, from the route's own declarations, before Fastify compiles
    // the serializers: the document lists them and the serializer writes them with one schema.
    for (const method of [r.method].flat()) {
      const problems = problemTypesOf({ ...facts, method });
      if (method !== 'HEAD') routeTable.push({ method, url: r.url, access, idempotent, problems });
      if (r.schema && method !== 'HEAD')
        r.schema.response = { ...problemResponses(problems), ...(r.schema.response as object | undefined) };
    }
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Stageflow API',
        description:
          'The sales-process CRM over HTTP. Errors are RFC 9457 problem details; leads carry an ETag and updates need If-Match; creating and transitioning requests accept an Idempotency-Key.',
        version: '1',
      },
      components: {
        securitySchemes: {
          token: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token (sf_pat_…), created at POST /api/v1/tokens.',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'stageflow_session',
            description: 'Browser session from POST /api/v1/auth/login; writes need X-CSRF-Token.',
          },
        },
      },
      security: [{ token: [] }, { session: [] }],
    },
    transform,
    transformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: false });

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    // API answers are one caller's view, often personal data or a one-time secret: never cached.
    if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    const access = req.routeOptions.config.access;
    if (!access || access.roles === 'public') {
      // A stale cookie must not stop anyone from reaching the login route or the docs.
      req.caller = await authenticate(ctx.store, req, ctx.session, ctx.now(), ctx.tokens).catch(() => null);
      return;
    }
    req.caller = await authenticate(ctx.store, req, ctx.session, ctx.now(), ctx.tokens);
    if (!req.caller) throw new Problem('unauthenticated');
    const denial = accessDenial(req.caller, access);
    if (denial) {
      await withTransaction(ctx.store, (tx) =>
        appendAudit(
          tx,
          {
            actor: callerLabel(req.caller),
            action: 'access.denied',
            target: `${req.method} ${req.routeOptions.url ?? ''}`,
            details: { reason: denial },
          },
          ctx.now(),
        ),
      );
      throw new Problem('forbidden', denial);
    }
    checkCsrf(req);
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.routeOptions.config.idempotent) await startIdempotent(ctx, req, reply);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.routeOptions.config.idempotent) await finishIdempotent(ctx, req, reply, payload);
    return notModified(req, reply) ? null : payload;
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { access: { roles: 'public' } } }, () => app.swagger());
  app.get('/healthz', { schema: { hide: true }, config: { access: { roles: 'public' } } }, () => ({ ok: true }));
  await app.register(async (root) => setupRoutes(root, ctx));
  const links = deps.publicRoutes ?? publicRouteOptionsFromEnv();
  // Each in its own scope: their form parsers apply to them alone.
  await app.register(async (root) =>
    unsubscribeRoutes(root, ctx, links.unsubscribeSecret, links.unsubscribePreviousSecrets ?? []),
  );
  await app.register(async (root) => mailchimpWebhookRoutes(root, ctx, links.mailchimpWebhook));
  await app.register(async (api) => registerRoutes(api, ctx), { prefix: '/api/v1' });
  await app.ready();
  return Object.assign(app, { routeTable }) as unknown as App;
}
