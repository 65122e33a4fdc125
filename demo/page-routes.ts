import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OriginCapacity } from './capacity.ts';
import type { PageCache } from './page-cache.ts';
import type { RenderedPage, ShopPages } from './pages.ts';
import type { Sessions } from './session.ts';

interface PageRouteDeps {
  cache: PageCache;
  capacity: OriginCapacity;
  pages: ShopPages;
  sessions: Sessions;
}

/**
 * The catalogue's pages, shared by every visitor and so cached for everyone. A
 * first visit gets its session cookies on the way out, after the cache, as a
 * shop's edge adds them: the cached page itself holds nothing of the session.
 */
export function registerPageRoutes(app: FastifyInstance, { cache, capacity, pages, sessions }: PageRouteDeps): void {
  async function servePage(request: FastifyRequest, reply: FastifyReply, render: () => RenderedPage): Promise<FastifyReply> {
    sessions.resolve(request, reply);
    const answer = await cache.serve(request.url, request.headers['if-none-match'], () => capacity.run(render));
    reply.code(answer.statusCode).headers(answer.headers);
    return answer.body === undefined ? reply.send() : reply.send(answer.body);
  }

  app.get('/', (request, reply) => servePage(request, reply, () => pages.homepage()));
  app.get<{ Params: { slug: string } }>('/category/:slug', (request, reply) => servePage(request, reply, () => pages.category(request.params.slug)));
  app.get<{ Params: { id: string } }>('/product/:id', (request, reply) => servePage(request, reply, () => pages.product(request.params.id)));
}
