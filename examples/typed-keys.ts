// Typed keys: a ContextKey<T> carries its value type to get/set; validate guards untyped writes.
// Run: node --import tsx examples/typed-keys.ts
import assert from 'node:assert/strict';
import { ContextKey, DContextError, initialize, RegistryBuilder, scope } from 'dcontext';

// Keys defined once, statically, next to the code that owns them.
export const tenant = new ContextKey<string>('tenant', {
  validate: (value) => typeof value === 'string' && value.length > 0,
  metadata: { logField: 'tenant_id' },
});
export const deadline = new ContextKey<number>('deadline_ms');

const builder = new RegistryBuilder();
tenant.registerOn(builder);
deadline.registerOn(builder);
initialize(builder);

scope(() => {
  tenant.set('acme');
  deadline.set(Date.now() + 500);
  const name: string | undefined = tenant.get(); // typed: string | undefined
  console.log('tenant', name, 'ms left', (deadline.get() ?? 0) - Date.now());

  try {
    // Writes by name are checked at run time by `validate`.
    scope(() => tenant.set('' as string));
  } catch (error) {
    assert.ok(error instanceof DContextError);
    console.log('rejected:', error.code, '-', error.message);
  }
  assert.equal(tenant.get(), 'acme');
});
