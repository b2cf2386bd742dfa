import { isPublicAddress, parseWebhookUrl, resolveTarget, TargetRefusedError } from './target-policy';

describe('webhook target policy', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.10',
    '169.254.169.254', // cloud metadata
    '100.64.0.1', // carrier-grade NAT
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    // IPv4-compatible ::/96 (ipaddr.js calls these unicast)
    '::127.0.0.1',
    '::7f00:1',
    '::a9fe:a9fe', // 169.254.169.254
    '::a00:1', // 10.0.0.1
    '::8.8.8.8', // not 8.8.8.8: the IPv6 address ::808:808
    '::808:808',
    '::2',
    '0:0:0:0:0:0:ffff:ffff', // the last of ::/96
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it("accepts http and https URLs on the web's ports or unprivileged ones, and refuses others, credentials and non-URLs", () => {
    expect(parseWebhookUrl('https://example.com/hook?x=1').hostname).toBe('example.com');
    for (const raw of ['http://example.com:80/', 'https://example.com:443/', 'https://example.com:8443/', 'http://example.com:65535/']) {
      expect(parseWebhookUrl(raw).hostname).toBe('example.com');
    }
    for (const raw of [
      'http://example.com:0/',
      'http://example.com:22/',
      'http://example.com:25/',
      'https://example.com:1023/',
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://x/',
      'example.com/hook',
      '',
      'https://user:pw@example.com/',
      'https://user@example.com/',
    ]) {
      expect(() => parseWebhookUrl(raw)).toThrow(TargetRefusedError);
    }
  });

  it('resolves names now and refuses one that resolves to loopback unless private targets are allowed', async () => {
    await expect(resolveTarget(new URL('http://localhost:9/'), false)).rejects.toMatchObject({ reason: 'private' });
    const allowed = await resolveTarget(new URL('http://localhost:9/'), true);
    expect(['127.0.0.1', '::1']).toContain(allowed.address);
    await expect(resolveTarget(new URL('http://[::1]/'), false)).rejects.toMatchObject({ reason: 'private' });
    for (const literal of ['[::127.0.0.1]', '[::7f00:1]', '[::a9fe:a9fe]', '[::a00:1]']) {
      await expect(resolveTarget(new URL(`http://${literal}/`), false)).rejects.toMatchObject({ reason: 'private' });
    }
    await expect(resolveTarget(new URL('http://8.8.8.8/'), false)).resolves.toMatchObject({ address: '8.8.8.8', family: 4 });
    await expect(resolveTarget(new URL('http://no-such-host.invalid/'), false)).rejects.toMatchObject({ reason: 'unresolved' });
  });
});
