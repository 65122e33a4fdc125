// The demo shop on a free loopback port, for tests that drive it from k6.
import { buildDemoApp, type DemoOptions } from '../../demo/app.ts';

export async function startDemo(options: Partial<DemoOptions> = {}) {
  const app = await buildDemoApp({ logger: false, ...options } as DemoOptions);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const admin = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    const res = await app.inject({ method, url: `/__admin/${path}`, payload: body as object | undefined });
    if (res.statusCode >= 300) throw new Error(`demo admin ${method} ${path} answered ${res.statusCode}: ${res.body}`);
    return res.json();
  };
  return { app, url, admin, close: () => app.close() };
}
