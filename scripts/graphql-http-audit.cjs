// Runs the graphql-http package's GraphQL-over-HTTP server audit (every
// MUST and SHOULD of the spec) against a running gateway and exits non-zero
// unless every audit passes.
//
// Usage: NODE_PATH=<dir with graphql-http> node scripts/graphql-http-audit.cjs
// Environment: AUDIT_URL (the /graphql endpoint), AUDIT_TOKEN (a JWT).
const { auditServer } = require('graphql-http');

const url = process.env.AUDIT_URL;
const token = process.env.AUDIT_TOKEN;
if (!url || !token) {
  console.error('AUDIT_URL and AUDIT_TOKEN are required');
  process.exit(2);
}
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

auditServer({ url, fetchFn }).then(
  (results) => {
    const failed = results.filter((r) => r.status !== 'ok');
    for (const r of failed) {
      console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
    }
    console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
    process.exit(failed.length === 0 ? 0 : 1);
  },
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
