/**
 * A serverless-style handler (Web-standard `Request` → `Response`: Cloudflare Workers,
 * Vercel/Netlify functions, Deno Deploy, AWS Lambda behind a fetch adapter) that relays
 * a signal to a peer in a Pinhole room with ONE outgoing HTTPS request. It keeps no
 * connection open, so it works where only outbound, short-lived requests are allowed.
 *
 * Configuration (environment): PINHOLE_URL (e.g. https://hub.example.com) and
 * PINHOLE_API_KEY (an API key given to `pinhole serve --api-key`, or the hub secret).
 */
export interface RelayEnv {
  PINHOLE_URL: string;
  PINHOLE_API_KEY: string;
}

/** What the function's own callers POST: which room, optionally which peer, and the payload. */
interface RelayRequest {
  room: string;
  to?: string;
  data: unknown;
  /** Idempotency key: a retried invocation is delivered once. */
  id?: string;
}

export async function handler(request: Request, env: RelayEnv): Promise<Response> {
  if (request.method !== 'POST') return Response.json({ error: 'POST a JSON body {room, to?, data, id?}' }, { status: 405 });
  let body: RelayRequest;
  try {
    body = (await request.json()) as RelayRequest;
  } catch {
    return Response.json({ error: 'body must be JSON' }, { status: 400 });
  }
  if (typeof body.room !== 'string' || !('data' in body)) return Response.json({ error: 'room and data are required' }, { status: 400 });

  const hub = await fetch(`${env.PINHOLE_URL}/v1/rooms/${encodeURIComponent(body.room)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.PINHOLE_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: body.to, data: body.data, id: body.id }),
  });
  // Pass the hub's answer through: {delivered: n} or an error frame {type:'error', code, message}.
  return new Response(await hub.text(), { status: hub.status, headers: { 'content-type': 'application/json' } });
}
