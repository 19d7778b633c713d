import { Parser } from 'htmlparser2';

/**
 * What a home page says about its company, read from the HTML with htmlparser2 (a forgiving
 * streaming parser: real pages are rarely valid, and regexes over HTML are wrong at the first
 * comment, CDATA or attribute in another order). Pure: a string and the page's URL in, plain values
 * out, so it is tested without a network.
 *
 * - name: og:site_name, else the <title> cleaned of its taglines (cleanTitle);
 * - description: og:description, else <meta name="description">;
 * - logo: og:image, else the largest apple-touch-icon, else the largest <link rel="icon">;
 * - social profiles: from twitter:site, <link rel="me">, JSON-LD `sameAs` (what the site itself
 *   declares), then <a href> in document order; the first profile per network wins. Share buttons,
 *   posts and videos are not profiles and are skipped (socialProfile).
 *
 * Every URL is resolved against <base href> (else the page URL) and kept only when it is http(s)
 * and at most MAX_URL long (a cut URL is a broken one); text is whitespace-collapsed and capped.
 */

export const MAX_TEXT = 500;
export const MAX_URL = 2048;

export type SocialNetwork = 'linkedin' | 'twitter' | 'facebook' | 'instagram' | 'youtube' | 'github';

export interface CompanyMeta {
  name?: string;
  description?: string;
  logoUrl?: string;
  social: Partial<Record<SocialNetwork, string>>;
}

/** Enough links to find a footer's profiles; a page of 100,000 links is not read to its end. */
const MAX_LINKS = 5_000;

interface Icon {
  href: string;
  size: number;
}

export function extractCompanyMeta(html: string, pageUrl: URL): CompanyMeta {
  const meta = new Map<string, string>();
  const appleIcons: Icon[] = [];
  const icons: Icon[] = [];
  const declaredProfiles: string[] = [];
  const anchors: string[] = [];
  const jsonLd: string[] = [];
  let base: string | undefined;
  let title: string | undefined;
  let titleText: string[] | null = null;
  let scriptText: string[] | null = null;
  let svgDepth = 0;

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'svg') svgDepth++;
        // An <svg><title> is a tooltip, not the page's title.
        else if (name === 'title' && svgDepth === 0 && title === undefined) titleText = [];
        else if (name === 'base' && base === undefined && attrs['href']) base = attrs['href'];
        else if (name === 'meta') {
          const key = (attrs['property'] ?? attrs['name'] ?? attrs['itemprop'] ?? '').trim().toLowerCase();
          const content = attrs['content'];
          if (key !== '' && content !== undefined && content.trim() !== '' && !meta.has(key)) meta.set(key, content);
        } else if (name === 'link' && attrs['href']) {
          const rel = (attrs['rel'] ?? '').toLowerCase().split(/\s+/);
          const icon = { href: attrs['href'], size: iconSize(attrs['sizes']) };
          if (rel.includes('apple-touch-icon') || rel.includes('apple-touch-icon-precomposed')) appleIcons.push(icon);
          else if (rel.includes('icon')) icons.push(icon);
          if (rel.includes('me')) declaredProfiles.push(attrs['href']);
        } else if (name === 'a' && attrs['href'] && anchors.length < MAX_LINKS) anchors.push(attrs['href']);
        else if (name === 'script' && (attrs['type'] ?? '').trim().toLowerCase() === 'application/ld+json') {
          scriptText = [];
        }
      },
      ontext(text) {
        titleText?.push(text);
        scriptText?.push(text);
      },
      onclosetag(name) {
        if (name === 'svg' && svgDepth > 0) svgDepth--;
        else if (name === 'title' && titleText) {
          title = titleText.join('');
          titleText = null;
        } else if (name === 'script' && scriptText) {
          jsonLd.push(scriptText.join(''));
          scriptText = null;
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();

  const baseUrl = resolveBase(base, pageUrl);
  const out: CompanyMeta = { social: {} };

  const name =
    cleanText(meta.get('og:site_name') ?? '') ??
    (title !== undefined ? cleanTitle(title, pageUrl.hostname) : undefined);
  if (name) out.name = name;
  const description = cleanText(meta.get('og:description') ?? '') ?? cleanText(meta.get('description') ?? '');
  if (description) out.description = description;

  const logoCandidates = [
    meta.get('og:image'),
    meta.get('og:image:url'),
    meta.get('og:image:secure_url'),
    largest(appleIcons),
    largest(icons),
  ];
  for (const candidate of logoCandidates) {
    const url = candidate === undefined ? undefined : absoluteUrl(candidate, baseUrl);
    if (url) {
      out.logoUrl = url;
      break;
    }
  }

  const twitterHandle = (meta.get('twitter:site') ?? '').trim().replace(/^@/, '');
  const profileLinks = [
    ...(TWITTER_HANDLE.test(twitterHandle) ? [`https://x.com/${twitterHandle}`] : []),
    ...declaredProfiles,
    ...jsonLd.flatMap(sameAsLinks),
    ...anchors,
  ];
  for (const href of profileLinks) {
    const profile = socialProfile(href, baseUrl);
    if (profile && out.social[profile.network] === undefined) out.social[profile.network] = profile.url;
  }
  return out;
}

/** Whitespace collapsed, control characters dropped, at most `max` characters (an ellipsis marks a cut). */
export function cleanText(value: string, max = MAX_TEXT): string | undefined {
  const text = value
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (text === '') return undefined;
  const chars = Array.from(text);
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

const TITLE_SEPARATOR = /\s+[|·•»–—-]\s+|\s+::\s+|:\s+/;
const GENERIC_TITLE = /^(home|home ?page|welcome|start|startseite|accueil|inicio|index|official (web)?site)$/i;

/**
 * A company name from a page title: "Acme | Widgets for everyone", "Home - Acme" and "Widgets for
 * everyone — Acme" all give "Acme". The part that looks like the domain's name wins; else the first
 * part that is not a generic word like "Home"; a title without separators is kept whole.
 */
export function cleanTitle(title: string, hostname: string): string | undefined {
  const text = cleanText(title, 1_000);
  if (!text) return undefined;
  const parts = text
    .split(TITLE_SEPARATOR)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length <= 1) return cleanText(text);
  const label = brandLabel(hostname);
  if (label.length >= 3) {
    const match = parts.find((p) => {
      const squashed = squash(p);
      return squashed.length >= 3 && (squashed.includes(label) || label.includes(squashed));
    });
    if (match) return cleanText(match);
  }
  return cleanText(parts.find((p) => !GENERIC_TITLE.test(p)) ?? parts[0] ?? text);
}

/** "acme" for www.acme.com, acme.co.uk and shop.acme.io: the label a brand is usually named by. */
function brandLabel(hostname: string): string {
  const labels = hostname.toLowerCase().replace(/\.$/, '').split('.');
  const secondLevel = labels.length >= 3 && /^(co|com|org|net|ac|gov|edu|ne|or)$/.test(labels[labels.length - 2] ?? '');
  return squash(labels[labels.length - (secondLevel ? 3 : 2)] ?? '');
}

function squash(s: string): string {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]/g, '');
}

const TWITTER_HANDLE = /^[A-Za-z0-9_]{1,15}$/;
const TWITTER_RESERVED = new Set(
  'home share intent i search hashtag explore settings login logout signup tos privacy notifications messages compose about download account widgets'.split(
    ' ',
  ),
);
const FACEBOOK_RESERVED = new Set(
  'sharer sharer.php share share.php dialog plugins tr login login.php l.php watch hashtag photo photo.php story.php permalink.php help policies privacy legal ads gaming marketplace search home.php settings notifications messages bookmarks events groups'.split(
    ' ',
  ),
);
const INSTAGRAM_RESERVED = new Set(
  'p reel reels tv explore accounts stories direct about developer legal web'.split(' '),
);
const GITHUB_RESERVED = new Set(
  'about features pricing login join signup sponsors marketplace topics apps settings site security enterprise collections trending explore notifications pulls issues search contact customer-stories readme team home new organizations codespaces resources solutions events blog git-guides mobile stars watching dashboard logout password_reset discussions'.split(
    ' ',
  ),
);

/**
 * The company profile a link points to, in a canonical form, or null when it is not one: a share
 * button (facebook.com/sharer.php, twitter.com/intent/tweet), a post, a video, a person's LinkedIn
 * page (/in/...) or any other site.
 */
export function socialProfile(href: string, base: URL): { network: SocialNetwork; url: string } | null {
  let url: URL;
  try {
    url = new URL(href.trim(), base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const seg = url.pathname.split('/').filter((s) => s !== '');
  const [first = '', second = ''] = seg;

  if (host === 'linkedin.com' || host.endsWith('.linkedin.com')) {
    if (['company', 'school', 'showcase'].includes(first) && second !== '') {
      return { network: 'linkedin', url: `https://www.linkedin.com/${first}/${second}` };
    }
    return null;
  }
  if (['twitter.com', 'www.twitter.com', 'mobile.twitter.com', 'x.com', 'www.x.com', 'mobile.x.com'].includes(host)) {
    const site = host.endsWith('x.com') ? 'x.com' : 'twitter.com';
    // A follow button names the account: twitter.com/intent/follow?screen_name=acme.
    const handle =
      first === 'intent' && (second === 'follow' || second === 'user')
        ? (url.searchParams.get('screen_name') ?? '')
        : TWITTER_RESERVED.has(first.toLowerCase())
          ? ''
          : first;
    return TWITTER_HANDLE.test(handle) ? { network: 'twitter', url: `https://${site}/${handle}` } : null;
  }
  if (host === 'facebook.com' || host.endsWith('.facebook.com') || host === 'fb.com' || host === 'www.fb.com') {
    if (first === 'profile.php') {
      const id = url.searchParams.get('id') ?? '';
      return /^\d{1,30}$/.test(id)
        ? { network: 'facebook', url: `https://www.facebook.com/profile.php?id=${id}` }
        : null;
    }
    if (first === 'pages' && seg.length >= 2) {
      return { network: 'facebook', url: `https://www.facebook.com/${seg.slice(0, 3).join('/')}` };
    }
    if (FACEBOOK_RESERVED.has(first.toLowerCase()) || !/^[A-Za-z0-9.-]{1,100}$/.test(first)) return null;
    return { network: 'facebook', url: `https://www.facebook.com/${first}` };
  }
  if (host === 'instagram.com' || host === 'www.instagram.com') {
    if (INSTAGRAM_RESERVED.has(first.toLowerCase()) || !/^[A-Za-z0-9._]{1,30}$/.test(first)) return null;
    return { network: 'instagram', url: `https://www.instagram.com/${first}` };
  }
  if (host === 'youtube.com' || host === 'www.youtube.com' || host === 'm.youtube.com') {
    if (/^@[A-Za-z0-9._-]{1,100}$/.test(first)) return { network: 'youtube', url: `https://www.youtube.com/${first}` };
    if (['channel', 'c', 'user'].includes(first) && /^[A-Za-z0-9._-]{1,100}$/.test(second)) {
      return { network: 'youtube', url: `https://www.youtube.com/${first}/${second}` };
    }
    return null;
  }
  if (host === 'github.com' || host === 'www.github.com') {
    const owner = first === 'orgs' ? second : first;
    if (GITHUB_RESERVED.has(owner.toLowerCase()) || !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(owner)) return null;
    return { network: 'github', url: `https://github.com/${owner}` };
  }
  return null;
}

/** The charset a <meta charset> or <meta http-equiv="content-type"> near the start of a page declares. */
export function sniffCharset(prefix: string): string | undefined {
  let found: string | undefined;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (found !== undefined || name !== 'meta') return;
      if (attrs['charset']) found = attrs['charset'].trim().toLowerCase();
      else if ((attrs['http-equiv'] ?? '').toLowerCase() === 'content-type') {
        const m = /charset\s*=\s*["']?([\w.:-]+)/i.exec(attrs['content'] ?? '');
        if (m?.[1]) found = m[1].toLowerCase();
      }
    },
  });
  parser.write(prefix);
  parser.end();
  return found || undefined;
}

/** http(s) only (no data:, javascript:), absolute, and short enough to keep whole. */
function absoluteUrl(href: string, base: URL): string | undefined {
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    const s = url.href;
    return s.length <= MAX_URL ? s : undefined;
  } catch {
    return undefined;
  }
}

function resolveBase(href: string | undefined, pageUrl: URL): URL {
  if (href === undefined) return pageUrl;
  try {
    const url = new URL(href.trim(), pageUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : pageUrl;
  } catch {
    return pageUrl;
  }
}

/** sizes="180x180" is 180; "16x16 32x32" is 32; "any" (an SVG) scales to anything; none is 0. */
function iconSize(sizes: string | undefined): number {
  if (!sizes) return 0;
  let best = 0;
  for (const s of sizes.toLowerCase().split(/\s+/)) {
    if (s === 'any') return 10_000;
    const m = /^(\d+)x(\d+)$/.exec(s);
    if (m) best = Math.max(best, Number(m[1]), Number(m[2]));
  }
  return best;
}

function largest(icons: Icon[]): string | undefined {
  let best: Icon | undefined;
  for (const icon of icons) if (!best || icon.size > best.size) best = icon;
  return best?.href;
}

/** The `sameAs` links of a JSON-LD block (an Organization's profiles), however deeply it nests them. */
function sameAsLinks(json: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  const links: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 8 || links.length >= 100 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'sameAs') {
        for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') links.push(v);
      } else walk(value, depth + 1);
    }
  };
  walk(data, 0);
  return links;
}
