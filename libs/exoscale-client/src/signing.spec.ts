import { parseAuthorization, signatureMessage, signRequest, verifySignedRequest } from './signing';

// Upstream vectors: egoscale v2/api/security_test.go and requests-exoscale-auth tests/test_exoscale_auth.py.
const credentials = { apiKey: 'EXOxxxxxxxxxxxxxxxxxxxxxxxx', apiSecret: 'X'.repeat(43) };
const expires = 3376684800; // 2077-01-01T00:00:00Z

describe('signRequest (upstream test vectors)', () => {
  it('V1: GET without query or body', () => {
    expect(signatureMessage({ method: 'GET', path: '/v2/zone' }, expires)).toBe(
      'GET /v2/zone\n\n\n\n3376684800',
    );
    expect(signRequest({ method: 'GET', path: '/v2/zone' }, credentials, expires)).toBe(
      'EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,expires=3376684800,signature=Ntbq/p0HVmA3Zg1HHY+Lq1vjFGi7HeMrrgXDS5jRNlY=',
    );
  });

  it('V2: GET with query parameters, keys listed in signed-query-args', () => {
    const request = { method: 'GET', path: '/v2/zone', query: { k2: 'v2', k1: 'v1' } };
    expect(signatureMessage(request, expires)).toBe('GET /v2/zone\n\nv1v2\n\n3376684800');
    expect(signRequest(request, credentials, expires)).toBe(
      'EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,signed-query-args=k1;k2,expires=3376684800,signature=iqOBz13+44L5j0uJclE8hmUhQQcvtCSoPEOXYK6liqY=',
    );
  });

  it('V3: POST with a body, signed byte for byte as sent', () => {
    const request = { method: 'POST', path: '/v2/load-balancer', body: '{"name": "foo"}' };
    expect(signatureMessage(request, expires)).toBe(
      'POST /v2/load-balancer\n{"name": "foo"}\n\n\n3376684800',
    );
    expect(signRequest(request, credentials, expires)).toBe(
      'EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,expires=3376684800,signature=duldkM0+pgWRtUznj0rMrZauzsYOtSVLn1LCGcs7CcE=',
    );
  });

  it('upper-cases the method and keeps the colon of a verb path unescaped', () => {
    const message = signatureMessage(
      { method: 'put', path: '/v2/instance-pool/abc:scale', body: '{"size":2}' },
      1,
    );
    expect(message).toBe('PUT /v2/instance-pool/abc:scale\n{"size":2}\n\n\n1');
  });
});

describe('verifySignedRequest', () => {
  const secretFor = (key: string) => (key === credentials.apiKey ? credentials.apiSecret : undefined);
  const now = expires - 60;

  it('accepts what signRequest produced, with query parameters', () => {
    const authorization = signRequest(
      { method: 'GET', path: '/v2/instance', query: { 'manager-id': 'p1' } },
      credentials,
      expires,
    );
    const check = verifySignedRequest(
      { method: 'GET', path: '/v2/instance', rawQuery: 'manager-id=p1', body: '', authorization },
      secretFor,
      now,
    );
    expect(check).toEqual({ ok: true, apiKey: credentials.apiKey });
  });

  it.each([
    ['a changed body', { body: '{"size":3}' }, 'Invalid request signature'],
    ['a changed path', { path: '/v2/instance-pool/other:scale' }, 'Invalid request signature'],
    ['a changed method', { method: 'POST' }, 'Invalid request signature'],
    ['no header', { authorization: undefined }, 'missing or malformed Authorization header'],
    ['another scheme', { authorization: 'Bearer abc' }, 'missing or malformed Authorization header'],
  ])('rejects %s', (_name, change, reason) => {
    const base = { method: 'PUT', path: '/v2/instance-pool/p1:scale', rawQuery: '', body: '{"size":2}' };
    const authorization = signRequest(base, credentials, expires);
    const check = verifySignedRequest({ ...base, authorization, ...change }, secretFor, now);
    expect(check).toEqual({ ok: false, reason });
  });

  it('rejects an unknown key, an expired signature and a repeated signed parameter', () => {
    const base = { method: 'GET', path: '/v2/instance', rawQuery: 'manager-id=p1', body: '' };
    const authorization = signRequest({ ...base, query: { 'manager-id': 'p1' } }, credentials, expires);
    expect(verifySignedRequest({ ...base, authorization }, () => undefined, now)).toEqual({
      ok: false,
      reason: 'unknown API key',
    });
    expect(verifySignedRequest({ ...base, authorization }, secretFor, expires + 1)).toEqual({
      ok: false,
      reason: 'signature expired',
    });
    expect(
      verifySignedRequest(
        { ...base, rawQuery: 'manager-id=p1&manager-id=p2', authorization },
        secretFor,
        now,
      ),
    ).toEqual({ ok: false, reason: 'signed query argument manager-id must occur once' });
  });

  it('parses the header fields', () => {
    expect(
      parseAuthorization('EXO2-HMAC-SHA256 credential=K,signed-query-args=a;b,expires=5,signature=s='),
    ).toEqual({
      credential: 'K',
      signedQueryArgs: ['a', 'b'],
      expires: 5,
      signature: 's=',
    });
  });
});
