import type { TurnAction } from '../actions.js';
import type { RequestContext, TurnContext } from '../context.js';
import { clientAddress } from './allocate.js';

/**
 * RFC 8489 §6.3.1.1: a Binding success response carries XOR-MAPPED-ADDRESS with the source
 * transport address of the request. No authentication (RFC 8489 §9: STUN servers serving
 * only Binding need none).
 */
export function handleBinding(ctx: TurnContext, rc: RequestContext): TurnAction[] {
  return ctx.success(rc, (m) => m.add('XOR-MAPPED-ADDRESS', clientAddress(rc)));
}
