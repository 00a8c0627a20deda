import type { TurnAction } from '../actions.js';
import type { RequestContext, TurnServerCore } from '../core.js';
import { clientAddress } from './allocate.js';

/**
 * RFC 8489 §6.3.1.1: a Binding success response carries XOR-MAPPED-ADDRESS with the source
 * transport address of the request. No authentication (RFC 8489 §9: STUN servers serving
 * only Binding need none).
 */
export function handleBinding(core: TurnServerCore, rc: RequestContext): TurnAction[] {
  return core.success(rc, (m) => m.add('XOR-MAPPED-ADDRESS', clientAddress(rc)));
}
