/**
 * What a permanent SMTP refusal of a recipient (5xx at RCPT TO) says about the address. Pure.
 *
 * Only some of those refusals mean the address is bad. Servers answer at RCPT TO for the sender's
 * sake too (Postfix's block list and access checks, Microsoft 365's "banned sending IP"), and taking
 * those for bounces would mark every contact mailed while the sending host is listed. The enhanced
 * status code (RFC 3463) tells them apart: X.1.x is the address (bad mailbox, bad domain) and 5.2.1
 * a disabled mailbox; 5.7.x is security or policy, and other subjects (a full mailbox, routing,
 * the mail system) do not say the address is wrong either. A reply without an enhanced code falls
 * back on the basic code and the text.
 */

/** 'address': the address is bad (a hard bounce); 'policy': refused by policy; 'other': neither said. */
export type RecipientRefusal = 'address' | 'policy' | 'other';

export interface EnhancedStatus {
  /** 2, 4 or 5. */
  klass: number;
  subject: number;
  detail: number;
}

/**
 * The enhanced status code of a reply: right after the basic code ("550 5.1.1 …", "550-5.7.1 …"),
 * or as qmail writes it at the end ("… (#5.7.1)"). Null without one, or when its class is not the
 * basic code's (RFC 3463 says they agree; a reply where they do not is not to be trusted).
 */
export function enhancedStatus(reply: string): EnhancedStatus | null {
  const m = /^\s*([245])\d\d[ -]+([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/.exec(reply);
  const q = m ? null : /^\s*([245])\d\d\b.*\(#([245])\.(\d{1,3})\.(\d{1,3})\)/s.exec(reply);
  const found = m ?? q;
  if (!found || found[1] !== found[2]) return null;
  return { klass: Number(found[2]), subject: Number(found[3]), detail: Number(found[4]) };
}

/** Words that say the server refuses the sender or its host, not the address. */
const POLICY_TEXT =
  /\b(block(ed|list(ed)?)?|black ?list(ed)?|deny|denied|banned|spam\w*|policy|reputation|dnsbl|rbl|spamhaus|spamcop|barracuda)\b/i;

/** Words that say the mailbox or its domain does not take mail (the address's fault). */
const ADDRESS_TEXT =
  /\b(user unknown|unknown user|no such (user|mailbox|recipient|address|account)|(recipient|mailbox|address|user) (unknown|not found)|unknown (recipient|mailbox|address)|mailbox (is )?(unavailable|disabled|does not exist|not available)|(does not|doesn't) exist|invalid (recipient|mailbox|address)|no mailbox|(account|mailbox) (has been )?disabled|unrouteable address|(does not|doesn't) have an? \S+ account)\b/i;

/**
 * Whether a permanent refusal at RCPT TO (basic code 5xx and the reply's text) is the address's
 * fault. With an enhanced code: 5.1.x and 5.2.1 are the address, 5.7.x is policy, the rest other.
 * Without one: any text of a block list or denial is policy; the text of a missing mailbox is the
 * address, as are 551 (user not local) and 556 (the domain takes no mail, RFC 7504); anything else
 * (a bare "550 rejected") is other, since marking a good address bounced does more harm than
 * retrying a bad one.
 */
export function recipientRefusal(responseCode: number, reply: string): RecipientRefusal {
  const enhanced = enhancedStatus(reply);
  if (enhanced !== null && enhanced.klass === 5) {
    if (enhanced.subject === 1 || (enhanced.subject === 2 && enhanced.detail === 1)) return 'address';
    return enhanced.subject === 7 ? 'policy' : 'other';
  }
  if (POLICY_TEXT.test(reply)) return 'policy';
  if (ADDRESS_TEXT.test(reply) || responseCode === 551 || responseCode === 556) return 'address';
  return 'other';
}
