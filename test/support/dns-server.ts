import { createSocket, type RemoteInfo } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import dnsPacket, { type Answer, type Question } from 'dns-packet';

/**
 * A real authoritative DNS server over UDP on a loopback port, for tests that resolve through a
 * node:dns Resolver (c-ares) exactly as production does: only the server is ours. Packets are
 * encoded and decoded with dns-packet.
 *
 * The zone is a map of names to their records. A name not in it is NXDOMAIN; a name in it without
 * records of the asked type is NOERROR with no answers (NODATA). `fail` makes the server answer
 * SERVFAIL or REFUSED, or not answer at all ('silent'), for one record type or for all ('*').
 */

export type QueryType = 'MX' | 'A' | 'AAAA';
export type Failure = 'SERVFAIL' | 'REFUSED' | 'silent';

export interface RecordSet {
  mx?: { preference: number; exchange: string }[];
  a?: string[];
  aaaa?: string[];
  fail?: Partial<Record<QueryType | '*', Failure>>;
}

export interface DnsServer {
  port: number;
  /** Every question received, as "TYPE name". */
  queries: string[];
  /** A Resolver that asks this server only; short timeout, one try. */
  resolver(opts?: { timeout?: number; tries?: number }): Resolver;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export async function startDnsServer(zone: Record<string, RecordSet>): Promise<DnsServer> {
  const records = new Map(Object.entries(zone).map(([name, set]) => [name.toLowerCase(), set]));
  const queries: string[] = [];
  const socket = createSocket('udp4');

  const answer = (msg: Buffer, from: RemoteInfo): void => {
    let query;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question: Question | undefined = query.questions?.[0];
    if (!question) return;
    queries.push(`${question.type} ${question.name}`);
    const set = records.get(question.name.toLowerCase());
    const type = question.type as QueryType;
    const failure = set?.fail?.[type] ?? set?.fail?.['*'];
    if (failure === 'silent') return;

    let rcode: number = RCODE.NOERROR;
    let answers: Answer[] = [];
    if (failure) rcode = RCODE[failure];
    else if (!set) rcode = RCODE.NXDOMAIN;
    else if (type === 'MX') {
      answers = (set.mx ?? []).map((data) => ({ type: 'MX', name: question.name, ttl: 60, data }));
    } else if (type === 'A') {
      answers = (set.a ?? []).map((data) => ({ type: 'A', name: question.name, ttl: 60, data }));
    } else if (type === 'AAAA') {
      answers = (set.aaaa ?? []).map((data) => ({ type: 'AAAA', name: question.name, ttl: 60, data }));
    }
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      // The low four bits of the flags are the RCODE.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | rcode,
      questions: [question],
      answers,
    });
    socket.send(response, from.port, from.address);
  };
  socket.on('message', answer);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address() as AddressInfo;

  return {
    port,
    queries,
    resolver(opts = {}) {
      const resolver = new Resolver({ timeout: opts.timeout ?? 400, tries: opts.tries ?? 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      return resolver;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
