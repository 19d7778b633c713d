import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/**
 * A real SMTP server on loopback for tests, as the mail deliverer meets one: plain (no STARTTLS),
 * any login optional, every message it accepts recorded. `options` change how it answers
 * (a refusal at RCPT TO, a login it wants), as smtp-server's own options.
 */

export interface ReceivedMail {
  from: string;
  rcpt: string[];
  raw: string;
}

export interface TestSmtp {
  port: number;
  /** `smtp://127.0.0.1:PORT`, for SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtp(options: SMTPServerOptions = {}): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const env = session.envelope;
        received.push({
          from: env.mailFrom ? env.mailFrom.address : '',
          rcpt: env.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  let closed = false;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () =>
      closed ? Promise.resolve() : new Promise<void>((resolve) => ((closed = true), server.close(() => resolve()))),
  };
}

/** An SMTP answer refusing a command, for smtp-server's callbacks (`onRcptTo`, `onMailFrom`). */
export function smtpRefusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}
