// The `policy` interface from JavaScript: explain, evaluate, rules in a session.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { policy, session } from '../generated/cloudauth.js';
import { RULES, pullRequest, main } from '../policy-example.js';

const OWN = 'arn:aws:iam::123456789012:role/team-a-puller';
const ADMIN = 'arn:aws:iam::999999999999:role/admin';

function thrown(call) {
  try {
    call();
  } catch (e) {
    return e.payload;
  }
  assert.fail('expected an error');
}

test('policy: explain names the identity, the hosts and the cache key', () => {
  const e = policy.explain(pullRequest(OWN));
  assert.equal(e.provider, 'aws');
  assert.equal(e.region, 'us-east-1');
  assert.deepEqual(e.identityMode, { tag: 'service-account', val: ['team-a', 'puller'] });
  assert.ok(e.principals.some((p) => p.kind === 'aws-role' && p.id === OWN));
  assert.deepEqual(e.hosts.map((h) => h.host), ['sts.us-east-1.amazonaws.com', 'api.ecr.us-east-1.amazonaws.com']);
  assert.deepEqual(e.audiences, ['sts.amazonaws.com']);
  const s = session.Session.start(pullRequest(OWN));
  assert.equal(s.cacheKey(), e.cacheKey);
});

test('policy: explain fails where start fails, with the same error', () => {
  const bad = pullRequest('arn:aws:iam::1:role/x');
  assert.deepEqual(thrown(() => policy.explain(bad)), thrown(() => session.Session.start(bad)));
});

test('policy: evaluate allows and denies with every reason', () => {
  assert.equal(policy.evaluate(pullRequest(OWN), JSON.stringify(RULES)).allowed, true);
  const d = policy.evaluate(pullRequest(ADMIN), JSON.stringify(RULES));
  assert.equal(d.allowed, false);
  assert.ok(d.deniedBy.includes(`principal ${ADMIN} matches nothing in namespaces.team-a.principals`), d.deniedBy.join('; '));
  const err = thrown(() => policy.evaluate(pullRequest(OWN), '{"version":1,"version":1}'));
  assert.equal(err.tag, 'invalid-input');
  assert.match(err.val, /duplicate key/);
});

test('policy: a session request carrying rules is refused when they deny it', () => {
  const request = pullRequest(ADMIN);
  request.options.rules = JSON.stringify(RULES);
  const err = thrown(() => session.Session.start(request));
  assert.equal(err.tag, 'invalid-input');
  assert.match(err.val, /^denied by the rules: /);
  const own = pullRequest(OWN);
  own.options.rules = JSON.stringify(RULES);
  assert.equal(session.Session.start(own).next().tag, 'fetch-identity-token');
});

test('policy: the example runs', () => {
  const lines = main();
  assert.ok(lines.includes(`${OWN}: allow`) && lines.includes(`${ADMIN}: deny`), lines.join('\n'));
});
