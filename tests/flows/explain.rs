//! `policy.explain` against the hosts the flows really request.

use super::*;

/// The host of a URL as `policy.explain` names it: lower case, port 443 folded.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    authority.strip_suffix(":443").map(str::to_owned).unwrap_or(authority)
}

/// `policy.explain` lists exactly the hosts each flow requests: driving
/// every scenario, the distinct hosts of its requests, in order, are the
/// explained hosts (the optional token realms only when a challenge named
/// them); a scenario that fails part-way requested only explained hosts.
/// The explained cache key is the session's.
#[test]
fn explain_lists_exactly_the_hosts_the_flows_request() {
    use support::api::policy::Contact;
    let distinct = |hosts: Vec<String>| {
        let mut out: Vec<String> = Vec::new();
        for h in hosts {
            if !out.contains(&h) {
                out.push(h);
            }
        }
        out
    };
    let mut compared = 0;
    for scenario in all_scenarios() {
        let mut host = Host::new();
        let explanation = host
            .i
            .api
            .cloudauth_auth_policy()
            .call_explain(&mut host.i.store, &scenario.request)
            .expect("explain trapped")
            .unwrap_or_else(|e| panic!("{}: explain failed: {}", scenario.name, message(&e)));
        let explained: Vec<Contact> = explanation.hosts;
        let s = host.start(&scenario.request).unwrap();
        assert_eq!(explanation.cache_key, host.cache_key(s), "{}: cache key", scenario.name);
        let mut requested = Vec::new();
        for exchange in &scenario.exchanges {
            let result = match (host.next(s), exchange) {
                (Step::SendHttp(r), Exchange::Http { reply, .. }) => {
                    requested.push(url_host(&r.url));
                    host.http(s, reply, scenario.now)
                }
                (Step::FetchIdentityToken(_), Exchange::Token { reply, .. }) => host.token(s, reply, scenario.now),
                (step, _) => panic!("{}: unexpected step {step:?}", scenario.name),
            };
            if result.is_err() {
                break;
            }
        }
        let requested = distinct(requested);
        for h in &requested {
            assert!(explained.iter().any(|c| &c.host == h), "{}: {h} requested but not explained", scenario.name);
        }
        if matches!(scenario.outcome, Outcome::Done(_)) {
            let expected = distinct(
                explained
                    .iter()
                    .filter(|c| !c.optional || requested.contains(&c.host))
                    .map(|c| c.host.clone())
                    .collect(),
            );
            assert_eq!(requested, expected, "{}: requested vs explained hosts", scenario.name);
            compared += 1;
        }
    }
    assert!(compared >= 25, "only {compared} scenarios compared");
}
