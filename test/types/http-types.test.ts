/**
 * The dcontext/http entry points fit the frameworks' own types (checked by tsc; the assertions
 * only make vitest count the file).
 */
import express from 'express';
import Fastify from 'fastify';
import { Agent } from 'undici';
import { expect, it } from 'vitest';
import {
  contextInterceptor,
  expressContext,
  fastifyContext,
} from '../../src/integrations/http/index.js';

it('plugs into express, fastify and undici as their types expect', async () => {
  const app = express();
  app.use(expressContext());
  const fastify = Fastify();
  await fastify.register(fastifyContext);
  await fastify.register(fastifyContext, { accept: 'all' });
  const agent = new Agent().compose(contextInterceptor());
  expect(typeof agent.dispatch).toBe('function');
  await Promise.all([fastify.close(), agent.close()]);
});
