/**
 * dcontext/async-context and dcontext/diagnostics-channel next to dcontext/otel: one frame
 * carries typed keys, AsyncContext variables and OpenTelemetry's context, and none of the three
 * loses another.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, initialize, RegistryBuilder } from '../../../src/index.js';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { bindChannel } from '../../../src/integrations/diagnostics-channel/index.js';
import { DContextManager } from '../../../src/integrations/otel/index.js';

const builder = new RegistryBuilder();
const tenant = builder.register<string>('tenant');
initialize(builder);

const otelKey = createContextKey('test value');
const manager = new DContextManager();
beforeAll(() => context.setGlobalContextManager(manager.enable()));
afterAll(() => context.disable());

const otelValue = (): unknown => context.active().getValue(otelKey);

describe('AsyncContext and diagnostics channels with the OpenTelemetry context manager', () => {
  it('keeps the OpenTelemetry context inside a variable run, and a snapshot restores both', async () => {
    const variable = new AsyncContext.Variable<string>();
    const snapshot = context.with(ROOT_CONTEXT.setValue(otelKey, 'span-a'), () =>
      variable.run('v1', async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect([variable.get(), otelValue()]).toEqual(['v1', 'span-a']);
        return new AsyncContext.Snapshot();
      }),
    );
    const captured = await snapshot;
    expect([variable.get(), otelValue()]).toEqual([undefined, undefined]);
    expect(captured.run(() => [variable.get(), otelValue()])).toEqual(['v1', 'span-a']);
  });

  it('keeps variables inside context.with, and the span inside a traced operation', () => {
    const variable = new AsyncContext.Variable<string>();
    const channel = tracingChannel<unknown, { tenant: string }>(`otel-test:${Math.random()}`);
    const unbind = bindChannel(channel, (message) => ({ tenant: message.tenant }), { name: 'op' });
    try {
      const seen = variable.run('v2', () =>
        context.with(ROOT_CONTEXT.setValue(otelKey, 'span-b'), () =>
          channel.traceSync(() => [variable.get(), otelValue(), get(tenant)], { tenant: 'acme' }),
        ),
      );
      expect(seen).toEqual(['v2', 'span-b', 'acme']);
    } finally {
      unbind();
    }
  });
});
