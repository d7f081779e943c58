// Policy from JavaScript: what would this request do, and do the rules allow it?
//
//   cargo xtask build && (cd host-examples/js && npm ci && npm run transpile && node policy-example.js)
//
// Asks the component, before any token exists, which identity an ECR pull
// from namespace team-a would use and which hosts it would contact, then
// whether team-a may assume arn:aws:iam::999999999999:role/admin.

import { policy } from './generated/cloudauth.js';

export const RULES = {
  version: 1,
  allow: { providers: ['aws'], awsAccounts: ['123456789012'] },
  namespaces: { 'team-a': { objectLevelIdentity: true, principals: ['arn:aws:iam::123456789012:role/team-a-*'] } },
};

/** A session request: an ECR pull with team-a's service account. */
export function pullRequest(roleArn) {
  return {
    target: { tag: 'registry', val: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1' },
    identity: {
      tag: 'service-account',
      val: { namespace: 'team-a', name: 'puller', annotations: [['eks.amazonaws.com/role-arn', roleArn]] },
    },
    options: {
      environment: [],
      objectLevelWorkloadIdentity: true,
      trustedRealmHosts: [],
      skipCache: true,
    },
    now: 1705320000n,
  };
}

export function main() {
  const explanation = policy.explain(pullRequest('arn:aws:iam::123456789012:role/team-a-puller'));
  const lines = [
    `principals: ${explanation.principals.map((p) => `${p.kind}=${p.id}`).join(', ')}`,
    `hosts: ${explanation.hosts.map((h) => h.host).join(', ')}`,
  ];
  for (const role of ['arn:aws:iam::123456789012:role/team-a-puller', 'arn:aws:iam::999999999999:role/admin']) {
    const decision = policy.evaluate(pullRequest(role), JSON.stringify(RULES));
    lines.push(`${role}: ${decision.allowed ? 'allow' : 'deny'}`, ...decision.deniedBy.map((r) => `  ${r}`));
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(main().join('\n'));
}
