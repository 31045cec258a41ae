// A loopback OpenID provider for anyray's SSO tests (tests/it/sso.rs, tests/e2e), built on the certified
// `oidc-provider` package. Never for production: it signs in any user name with any
// password (devInteractions) and keeps everything in memory.
//
//   node provider.mjs [--port N] [--audience URL] [--access-ttl SECS] [--refresh-ttl SECS]
//                     [--device-ttl SECS]
//
// Prints "issuer http://127.0.0.1:PORT" on stdout once it listens (port 0 = any free
// port); devInteractions' warnings go to stderr.
// One public client, `anyray-cli` (no secret, PKCE, loopback redirects on any port):
//   - device authorization grant (RFC 8628): POST /device/auth, approve at /device
//   - authorization code + PKCE (RFC 7636) with http://127.0.0.1:*/callback (RFC 8252)
//   - refresh tokens (rotated on every use, as the provider does for public clients)
//   - revocation (RFC 7009): POST /token/revocation
// Access tokens are JWTs (ES256) for --audience, verifiable against GET /jwks; their
// lifetime is --access-ttl seconds (default 30) so tests can watch them expire.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider, { errors } from 'oidc-provider';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    audience: { type: 'string', default: 'http://127.0.0.1:8787' },
    'access-ttl': { type: 'string', default: '30' },
    'refresh-ttl': { type: 'string', default: '3600' },
    'device-ttl': { type: 'string', default: '600' },
  },
});
const accessTtl = Number(opt['access-ttl']);
const refreshTtl = Number(opt['refresh-ttl']);
const audience = opt.audience;
const resourceScopes = 'gateway';

// A fresh signing key each run: a test gets the keys from /jwks, never from disk.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-es256', use: 'sig', alg: 'ES256' };

const configuration = {
  clients: [
    {
      client_id: 'anyray-cli',
      client_name: 'anyray',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  scopes: ['openid', 'offline_access', 'email', resourceScopes],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount(ctx, sub) {
    return { accountId: sub, claims: () => ({ sub, email: `${sub}@example.test`, email_verified: true }) };
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Every token is for the gateway, whether or not the client names it.
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resource) {
        if (resource !== audience) throw new errors.InvalidTarget();
        return {
          scope: resourceScopes,
          audience,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  pkce: { required: () => true },
  // A refresh token whenever the client may use one (not only with offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: accessTtl,
    RefreshToken: refreshTtl,
    DeviceCode: Number(opt['device-ttl']),
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: refreshTtl,
  },
};

// Listen first, so the issuer can carry the port that was actually bound.
const server = createServer();
server.listen(Number(opt.port), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  // Why a token request failed (error_detail) goes to stderr, for test logs.
  for (const event of ['grant.error', 'revocation.error', 'server_error']) {
    provider.on(event, (ctx, err) => console.error(`${event}: ${err.error ?? err.message}: ${err.error_detail ?? ''}`));
  }
  // Every token issued, by grant type, so a test can count refreshes.
  provider.on('grant.success', (ctx) => console.error(`grant.success: ${ctx.oidc.params.grant_type}`));
  // A grant revoked: by the revocation endpoint, or for a reused refresh token.
  provider.on('grant.revoked', () => console.error('grant.revoked'));
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
