import { describe, expect, it } from 'vitest';
import {
  cleanText,
  cleanTitle,
  extractCompanyMeta,
  sniffCharset,
  socialProfile,
} from '../../src/integrations/enrichment/html-meta.js';

/** The pure part of the website enrichment: HTML in, company facts out. No network. */

const PAGE = new URL('https://www.acme.test/en/index.html');

describe('extractCompanyMeta', () => {
  it('prefers OpenGraph for the name, description and logo', () => {
    const meta = extractCompanyMeta(
      `<html><head>
        <title>Home | Acme Widgets</title>
        <meta property="og:site_name" content="Acme">
        <meta name="description" content="Meta description">
        <meta property="og:description" content="OpenGraph description">
        <meta property="og:image" content="https://cdn.acme.test/og.png">
        <link rel="apple-touch-icon" href="/touch.png">
      </head></html>`,
      PAGE,
    );
    expect(meta).toEqual({
      name: 'Acme',
      description: 'OpenGraph description',
      logoUrl: 'https://cdn.acme.test/og.png',
      social: {},
    });
  });

  it('falls back to the cleaned title, the meta description and the largest touch icon', () => {
    const meta = extractCompanyMeta(
      `<head><title>
          Welcome  —  Acme   Widgets
        </title>
        <meta name="description" content="  Widgets,
          made well.  ">
        <link rel="icon" sizes="512x512" href="/big-favicon.png">
        <link rel="apple-touch-icon" sizes="120x120" href="touch-120.png">
        <link rel="apple-touch-icon-precomposed" sizes="180x180" href="touch-180.png">
        <link rel="apple-touch-icon" sizes="152x152" href="touch-152.png"></head>`,
      PAGE,
    );
    expect(meta).toEqual({
      name: 'Acme Widgets',
      description: 'Widgets, made well.',
      logoUrl: 'https://www.acme.test/en/touch-180.png',
      social: {},
    });
  });

  it('without a touch icon, the largest link rel icon; "shortcut icon" counts', () => {
    const meta = extractCompanyMeta(
      `<link rel="shortcut icon" href="/favicon.ico"><link rel="icon" sizes="16x16 32x32" href="/f32.png">
       <link rel="icon" sizes="any" href="/logo.svg"><link rel="mask-icon" href="/mask.svg">`,
      PAGE,
    );
    expect(meta.logoUrl).toBe('https://www.acme.test/logo.svg');
    expect(extractCompanyMeta('<link rel="shortcut icon" href="/favicon.ico">', PAGE).logoUrl).toBe(
      'https://www.acme.test/favicon.ico',
    );
  });

  it('resolves relative URLs against <base href>, and skips a logo that is not http(s)', () => {
    const meta = extractCompanyMeta(
      `<base href="https://static.acme.test/assets/">
       <meta property="og:image" content="data:image/png;base64,AAAA">
       <link rel="icon" href="img/icon.png#v2">`,
      PAGE,
    );
    expect(meta.logoUrl).toBe('https://static.acme.test/assets/img/icon.png');
  });

  it('a javascript: <base> is ignored', () => {
    const meta = extractCompanyMeta('<base href="javascript:alert(1)"><link rel="icon" href="i.png">', PAGE);
    expect(meta.logoUrl).toBe('https://www.acme.test/en/i.png');
  });

  it('decodes entities, ignores an <svg> title and tags inside <title>', () => {
    const meta = extractCompanyMeta(
      '<body><svg><title>Close icon</title></svg><title>Smith &amp; Sons <b>Ltd</b></title></body>',
      new URL('https://smithandsons.test/'),
    );
    expect(meta.name).toBe('Smith & Sons <b>Ltd</b>');
  });

  it('the first og:site_name wins; an empty one is skipped', () => {
    const meta = extractCompanyMeta(
      `<meta property="og:site_name" content="  "><meta property="og:site_name" content="First">
       <meta property="og:site_name" content="Second"><title>Title</title>`,
      PAGE,
    );
    expect(meta.name).toBe('First');
  });

  it('caps text at 500 characters and drops a URL too long to keep whole', () => {
    const long = 'word '.repeat(300);
    const meta = extractCompanyMeta(
      `<meta name="description" content="${long}"><meta property="og:image" content="/${'a'.repeat(3000)}.png">`,
      PAGE,
    );
    expect(Array.from(meta.description ?? '')).toHaveLength(500);
    expect(meta.description?.endsWith('…')).toBe(true);
    expect(meta.logoUrl).toBeUndefined();
  });

  it('finds social profiles in links, skipping share buttons, posts and people', () => {
    const meta = extractCompanyMeta(
      `<a href="https://www.linkedin.com/shareArticle?url=x">share</a>
       <a href="https://www.linkedin.com/in/jane">Jane</a>
       <a href="https://uk.linkedin.com/company/acme?trk=footer">LinkedIn</a>
       <a href="https://twitter.com/share?url=x">tweet</a>
       <a href="https://twitter.com/intent/tweet?text=x">tweet</a>
       <a href="https://mobile.twitter.com/AcmeHQ/status/123">a tweet</a>
       <a href="https://www.facebook.com/sharer.php?u=x">share</a>
       <a href="https://m.facebook.com/acme.widgets/?ref=page">facebook</a>
       <a href="https://www.instagram.com/p/Cxyz/">a post</a>
       <a href="https://instagram.com/acmewidgets">instagram</a>
       <a href="https://www.youtube.com/watch?v=abc">a video</a>
       <a href="https://youtube.com/channel/UC123abc">channel</a>
       <a href="https://github.com/features">features</a>
       <a href="https://github.com/orgs/acme/people">github</a>
       <a href="/about">about</a>`,
      PAGE,
    );
    expect(meta.social).toEqual({
      linkedin: 'https://www.linkedin.com/company/acme',
      twitter: 'https://twitter.com/AcmeHQ',
      facebook: 'https://www.facebook.com/acme.widgets',
      instagram: 'https://www.instagram.com/acmewidgets',
      youtube: 'https://www.youtube.com/channel/UC123abc',
      github: 'https://github.com/acme',
    });
  });

  it('what the site declares (twitter:site, rel=me, JSON-LD sameAs) comes before links', () => {
    const meta = extractCompanyMeta(
      `<meta name="twitter:site" content="@AcmeOfficial">
       <link rel="me" href="https://github.com/acme-official">
       <script type="application/ld+json">
         {"@context":"https://schema.org","@graph":[{"@type":"Organization","name":"Acme",
          "sameAs":["https://www.linkedin.com/company/acme-official","https://www.youtube.com/@acme"]}]}
       </script>
       <script type="application/ld+json">{ not json </script>
       <a href="https://twitter.com/acme_old">old</a>
       <a href="https://github.com/acme-old">old</a>
       <a href="https://www.linkedin.com/company/acme-old">old</a>`,
      PAGE,
    );
    expect(meta.social).toEqual({
      twitter: 'https://x.com/AcmeOfficial',
      github: 'https://github.com/acme-official',
      linkedin: 'https://www.linkedin.com/company/acme-official',
      youtube: 'https://www.youtube.com/@acme',
    });
  });

  it('survives broken HTML', () => {
    const meta = extractCompanyMeta('<html><head><title>Acme<meta property="og:site_name" content="x"', PAGE);
    expect(meta.social).toEqual({});
    expect(extractCompanyMeta('', PAGE)).toEqual({ social: {} });
  });
});

describe('cleanTitle', () => {
  it.each([
    ['Acme Widgets', 'acme.test', 'Acme Widgets'],
    ['Acme | Widgets for everyone', 'acme.test', 'Acme'],
    ['Widgets for everyone — Acme', 'www.acme.test', 'Acme'],
    ['Home - Acme', 'acme.co.uk', 'Acme'],
    ['Home · Best widgets', 'widgets-r-us.test', 'Best widgets'],
    ['Welcome :: Northwind Traders :: Fine foods', 'northwind.test', 'Northwind Traders'],
    ['Startseite | Müller GmbH', 'mueller.test', 'Müller GmbH'],
    ['Acme: The widget company', 'acme.test', 'Acme'],
    ['Jean-Luc Widgets', 'jl.test', 'Jean-Luc Widgets'],
    ['   ', 'acme.test', undefined],
  ])('%j on %s is %j', (title, host, expected) => {
    expect(cleanTitle(title, host)).toBe(expected);
  });
});

describe('cleanText', () => {
  it('collapses whitespace, drops control characters, trims and caps', () => {
    expect(cleanText('  a\u0000b \n\t c  ')).toBe('a b c');
    expect(cleanText(' \n ')).toBeUndefined();
    expect(cleanText('abcdef', 4)).toBe('abc…');
    // A cut never splits a character made of two UTF-16 units.
    expect(cleanText('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('socialProfile', () => {
  const base = new URL('https://acme.test/');
  it.each([
    ['https://www.linkedin.com/company/acme/about/', 'linkedin', 'https://www.linkedin.com/company/acme'],
    ['https://linkedin.com/school/acme-academy', 'linkedin', 'https://www.linkedin.com/school/acme-academy'],
    ['https://x.com/acme', 'twitter', 'https://x.com/acme'],
    ['https://www.twitter.com/acme', 'twitter', 'https://twitter.com/acme'],
    ['https://twitter.com/intent/follow?screen_name=acme', 'twitter', 'https://twitter.com/acme'],
    ['https://www.facebook.com/profile.php?id=100064', 'facebook', 'https://www.facebook.com/profile.php?id=100064'],
    [
      'https://www.facebook.com/pages/Acme-Widgets/12345',
      'facebook',
      'https://www.facebook.com/pages/Acme-Widgets/12345',
    ],
    ['https://fb.com/acme', 'facebook', 'https://www.facebook.com/acme'],
    ['https://www.youtube.com/user/acmevideos', 'youtube', 'https://www.youtube.com/user/acmevideos'],
    ['https://m.youtube.com/@acme/videos', 'youtube', 'https://www.youtube.com/@acme'],
    ['https://www.github.com/acme', 'github', 'https://github.com/acme'],
  ])('%s is %s %s', (href, network, url) => {
    expect(socialProfile(href, base)).toEqual({ network, url });
  });

  it.each([
    'https://www.linkedin.com/in/jane-doe',
    'https://www.linkedin.com/feed/',
    'https://twitter.com/intent/tweet?text=hi',
    'https://twitter.com/home',
    'https://x.com/',
    'https://twitter.com/this_handle_is_too_long',
    'https://www.facebook.com/dialog/share?app_id=1',
    'https://www.facebook.com/plugins/page.php',
    'https://www.instagram.com/reel/abc/',
    'https://youtu.be/abc',
    'https://www.youtube.com/embed/abc',
    'https://github.com/login',
    'https://gist.github.com/acme',
    'https://notlinkedin.com/company/acme',
    'https://linkedin.com.evil.test/company/acme',
    'javascript:alert(1)',
    'mailto:hello@acme.test',
    'http://[bad',
  ])('%s is not a company profile', (href) => {
    expect(socialProfile(href, base)).toBeNull();
  });
});

describe('sniffCharset', () => {
  it('reads <meta charset> and the http-equiv form', () => {
    expect(sniffCharset('<html><head><meta charset="ISO-8859-1"><title>x</title>')).toBe('iso-8859-1');
    expect(sniffCharset('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">')).toBe(
      'windows-1252',
    );
    expect(sniffCharset('<html><head><title>no charset</title>')).toBeUndefined();
  });
});
