/**
 * connectivityReport against getStats recorded from real runs (test/browser/fixtures):
 * Chromium 156 carrying video and a data channel (its selected pair moved from IPv4 to IPv6
 * between the two samples), and node-datachannel 0.33 carrying a data channel. Re-record
 * with RECORD_STATS=1 (see chromium.test.ts and peer-connection.test.ts). Cases marked
 * "derived" change one field of a recorded sample to reach a branch loopback cannot.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectivityReport } from '../src/peer/report.js';

interface Recording {
  first: Record<string, unknown>[];
  second: Record<string, unknown>[];
  selectedCandidatePair?: { local: { transportType?: string } };
}
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./browser/fixtures/${name}`, import.meta.url), 'utf8')) as Recording;
const chromium = load('chromium-stats.json');
const ndc = load('node-datachannel-stats.json');
const asStats = (entries: Record<string, unknown>[]) => new Map(entries.map((e) => [e.id as string, e]));
const edit = (entries: Record<string, unknown>[], id: string, patch: Record<string, unknown>) =>
  entries.map((e) => (e.id === id ? { ...e, ...patch } : e));

describe('connectivityReport', () => {
  it('reads Chromium: selected pair via the transport, rtt in seconds, rates from transport totals', () => {
    const previous = connectivityReport(asStats(chromium.first), { state: 'connected' });
    const report = connectivityReport(asStats(chromium.second), { state: 'connected', previous, transport: 'ws', gen: 2 });
    expect(report).toEqual({
      state: 'connected',
      gen: 2,
      timestamp: 1795279595482.12,
      candidateType: { local: 'host', remote: 'host' },
      protocol: 'udp',
      relayProtocol: undefined,
      rttMs: 1,
      bytesSent: 121555,
      bytesReceived: 4172,
      // (121555 − 10002) B × 8 / 1.000942 s and (4172 − 2168) B × 8 / 1.000942 s
      bitrate: { out: 891584, in: 16017 },
      transport: 'ws',
    });
  });

  it('reads node-datachannel: rtt in ms, protocol from selectedCandidatePair()', () => {
    const context = { state: 'connected', rttUnit: 'ms', selectedCandidatePair: ndc.selectedCandidatePair } as const;
    const previous = connectivityReport(asStats(ndc.first), context);
    const report = connectivityReport(asStats(ndc.second), { ...context, previous });
    expect(report).toMatchObject({
      candidateType: { local: 'host', remote: 'host' },
      protocol: 'udp',
      rttMs: 0,
      bytesSent: 50007,
      bytesReceived: 50262,
      // 50000 B and 50250 B over 1.002 s
      bitrate: { out: 399202, in: 401198 },
    });
  });

  it.each([
    {
      name: 'node-datachannel stats alone carry no protocol',
      stats: ndc.second,
      expected: { protocol: undefined, candidateType: { local: 'host', remote: 'host' } },
    },
    {
      name: 'no selected pair yet (node-datachannel before connecting returns an empty report)',
      stats: [],
      expected: { candidateType: { local: undefined, remote: undefined }, rttMs: undefined, bytesSent: 0, bitrate: {} },
    },
    {
      name: 'derived: relayed local candidate reports how it reaches TURN',
      stats: edit(chromium.second, 'IFZUtqq+k', { candidateType: 'relay', relayProtocol: 'tls' }),
      expected: { candidateType: { local: 'relay', remote: 'host' }, protocol: 'udp', relayProtocol: 'tls' },
    },
    {
      name: 'derived: a TCP candidate pair',
      stats: edit(chromium.second, 'IFZUtqq+k', { protocol: 'tcp', tcpType: 'active' }),
      expected: { protocol: 'tcp' },
    },
    {
      name: 'derived: without selectedCandidatePairId the pair flagged selected wins (Firefox)',
      stats: edit(
        edit(chromium.second, 'T01', { selectedCandidatePairId: undefined }),
        'CPPwLFYNkI_eL2hPWNA',
        { selected: true, currentRoundTripTime: 0.05 },
      ),
      expected: { protocol: 'udp', candidateType: { local: 'host', remote: 'host' }, rttMs: 50 },
    },
  ])('$name', ({ stats, expected }) => {
    expect(connectivityReport(asStats(stats), { state: 'connected' })).toMatchObject(expected);
  });

  it('gives no rates when counters went backwards (a rebuilt connection starts from zero)', () => {
    const previous = connectivityReport(asStats(chromium.second), { state: 'connected' });
    const report = connectivityReport(asStats(ndc.second), { state: 'connected', previous });
    expect(report.bitrate).toEqual({});
  });
});
