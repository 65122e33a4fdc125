import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OriginCapacity } from './capacity.ts';
import type { CartRules } from './cart.ts';
import type { PageCache } from './page-cache.ts';
import { renderCategory, renderHomepage, renderProduct, type RenderedPage } from './pages.ts';

interface PageRouteDeps {
  cache: PageCache;
  capacity: OriginCapacity;
  rules: CartRules;
}

export function registerPageRoutes(app: FastifyInstance, { cache, capacity, rules }: PageRouteDeps): void {
  async function servePage(request: FastifyRequest, reply: FastifyReply, render: () => RenderedPage): Promise<FastifyReply> {
    const answer = await cache.serve(request.url, request.headers['if-none-match'], () => capacity.run(render));
    reply.code(answer.statusCode).headers(answer.headers);
    return answer.body === undefined ? reply.send() : reply.send(answer.body);
  }

  app.get('/', (request, reply) => servePage(request, reply, () => renderHomepage(rules)));
  app.get<{ Params: { slug: string } }>('/category/:slug', (request, reply) =>
    servePage(request, reply, () => renderCategory(request.params.slug, rules)),
  );
  app.get<{ Params: { id: string } }>('/product/:id', (request, reply) =>
    servePage(request, reply, () => renderProduct(request.params.id, rules)),
  );
}
