//! Deciding: the facts of a request against a rules document.
//!
//! Deny wins: a fact matching a `deny` pattern denies. Every `allow` list
//! that is given must match every fact of its category; a fact that is only
//! learned at run time (an instance-metadata role, a GKE pool) cannot be
//! checked before, so it fails an `allow` list of its category. Object-level
//! identity needs its namespace in `namespaces` with `objectLevelIdentity`,
//! and, when the namespace lists principals, one of them. A request that
//! matched no allow rule at all is denied. Every reason is reported.

use crate::host::Authority;

use super::rules::{Category, Entry, Pattern, Rules};

/// What a request involves, in the categories of the rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The facts known before any request, per category.
    pub known: Vec<(Category, String)>,
    /// Categories with a fact only a response reveals, and what it is.
    pub unknown: Vec<(Category, String)>,
    /// The namespace of an object-level identity.
    pub namespace: Option<String>,
    /// The lifetime of the credentials, when the flow fixes it.
    pub lifetime: Option<i64>,
}

impl Facts {
    fn of(&self, category: Category) -> impl Iterator<Item = &str> {
        self.known.iter().filter(move |(c, _)| *c == category).map(|(_, v)| v.as_str())
    }
}

/// The answer, with every reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Why it is denied (empty when allowed).
    pub denied_by: Vec<String>,
    /// The rules that matched in favour.
    pub allowed_by: Vec<String>,
}

impl Decision {
    /// The denial as one message.
    pub fn denial(&self) -> String {
        format!("denied by the rules: {}", self.denied_by.join("; "))
    }
}

fn matches(entry: &Entry, category: Category, fact: &str) -> bool {
    match &entry.pattern {
        Pattern::Host(p) => Authority::parse(fact).is_ok_and(|h| p.matches(&h)),
        Pattern::Glob(g) if category == Category::AzureTenants => {
            g.matches(&fact.to_ascii_lowercase()) || g.matches(fact)
        }
        Pattern::Glob(g) => g.matches(fact),
    }
}

fn first_match<'a>(list: &'a [Entry], category: Category, fact: &str) -> Option<(usize, &'a Entry)> {
    list.iter().enumerate().find(|(_, e)| matches(e, category, fact))
}

/// Decides `facts` under `rules`.
pub fn decide(rules: &Rules, facts: &Facts) -> Decision {
    let mut d = Decision::default();
    for category in Category::ALL {
        let key = category.key();
        let noun = category.noun();
        if let Some(deny) = rules.deny.get(category) {
            for fact in facts.of(category) {
                if let Some((i, e)) = first_match(deny, category, fact) {
                    d.denied_by.push(format!("deny.{key}[{i}] {:?} matches {noun} {fact}", e.text));
                }
            }
        }
        if let Some(allow) = rules.allow.get(category) {
            for (_, what) in facts.unknown.iter().filter(|(c, _)| *c == category) {
                d.denied_by
                    .push(format!("the {noun} is only known at run time ({what}), so allow.{key} cannot admit it"));
            }
            for fact in facts.of(category) {
                match first_match(allow, category, fact) {
                    Some((i, e)) => d.allowed_by.push(format!("allow.{key}[{i}] {:?} matches {noun} {fact}", e.text)),
                    None => d.denied_by.push(format!("{noun} {fact} matches nothing in allow.{key}")),
                }
            }
        }
    }
    if let Some(ns) = &facts.namespace {
        match rules.namespace(ns) {
            None => {
                d.denied_by.push(format!("namespace {ns} may not use object-level identity: it is not in namespaces"))
            }
            Some(rule) if !rule.object_level_identity => d.denied_by.push(format!(
                "namespace {ns} may not use object-level identity: namespaces.{ns}.objectLevelIdentity is false"
            )),
            Some(rule) => {
                d.allowed_by.push(format!("namespaces.{ns}.objectLevelIdentity is true"));
                if let Some(principals) = &rule.principals {
                    for (_, what) in facts.unknown.iter().filter(|(c, _)| *c == Category::Principals) {
                        d.denied_by.push(format!(
                            "the principal is only known at run time ({what}), so namespaces.{ns}.principals cannot admit it"
                        ));
                    }
                    for fact in facts.of(Category::Principals) {
                        match first_match(principals, Category::Principals, fact) {
                            Some((i, e)) => d
                                .allowed_by
                                .push(format!("namespaces.{ns}.principals[{i}] {:?} matches principal {fact}", e.text)),
                            None => d
                                .denied_by
                                .push(format!("principal {fact} matches nothing in namespaces.{ns}.principals")),
                        }
                    }
                }
            }
        }
    }
    if let (Some(max), Some(lifetime)) = (rules.max_credential_lifetime, facts.lifetime) {
        if lifetime > max {
            d.denied_by
                .push(format!("the credentials live {lifetime} s, longer than maxCredentialLifetimeSeconds {max}"));
        } else {
            d.allowed_by.push(format!("the credentials live {lifetime} s, within maxCredentialLifetimeSeconds {max}"));
        }
    }
    if d.allowed_by.is_empty() && d.denied_by.is_empty() {
        d.denied_by.push("no allow rule matches this request".into());
    }
    d.allowed = d.denied_by.is_empty();
    d
}

/// Checks a host learned at run time (a token realm, a looked-up cluster
/// address) against the host lists.
pub fn check_host(rules: &Rules, host: &Authority, role: &str) -> std::result::Result<(), String> {
    let fact = host.to_string();
    if let Some(deny) = rules.deny.get(Category::Hosts)
        && let Some((i, e)) = first_match(deny, Category::Hosts, &fact)
    {
        return Err(format!("{role} {fact} matches deny.hosts[{i}] {:?}", e.text));
    }
    if let Some(allow) = rules.allow.get(Category::Hosts)
        && first_match(allow, Category::Hosts, &fact).is_none()
    {
        return Err(format!("{role} {fact} matches nothing in allow.hosts"));
    }
    Ok(())
}

/// Checks the lifetime of credentials that arrived.
pub fn check_lifetime(rules: &Rules, lifetime: i64) -> std::result::Result<(), String> {
    match rules.max_credential_lifetime {
        Some(max) if lifetime > max => {
            Err(format!("the credentials live {lifetime} s, longer than maxCredentialLifetimeSeconds {max}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(known: &[(Category, &str)]) -> Facts {
        Facts { known: known.iter().map(|(c, v)| (*c, (*v).to_owned())).collect(), ..Facts::default() }
    }

    fn rules(doc: &str) -> Rules {
        Rules::parse(doc).unwrap()
    }

    #[test]
    fn deny_wins_and_every_reason_is_given() {
        let r = rules(
            r#"{"version":1,"allow":{"providers":["aws"],"awsAccounts":["*"]},"deny":{"awsAccounts":["999999999999"],"providers":["aws"]}}"#,
        );
        let d = decide(&r, &facts(&[(Category::Providers, "aws"), (Category::AwsAccounts, "999999999999")]));
        assert!(!d.allowed);
        assert_eq!(d.denied_by.len(), 2, "{d:?}");
        assert!(d.denied_by[0].starts_with("deny.providers[0]"), "{d:?}");
        assert_eq!(d.allowed_by.len(), 2);
    }

    #[test]
    fn no_match_means_deny() {
        let d = decide(&rules(r#"{"version":1}"#), &facts(&[(Category::Providers, "aws")]));
        assert_eq!(d.denied_by, vec!["no allow rule matches this request".to_owned()]);
        let d =
            decide(&rules(r#"{"version":1,"allow":{"hosts":["ghcr.io"]}}"#), &facts(&[(Category::Providers, "gcp")]));
        assert!(!d.allowed);
        let d =
            decide(&rules(r#"{"version":1,"allow":{"providers":["gcp"]}}"#), &facts(&[(Category::Providers, "gcp")]));
        assert!(d.allowed, "{d:?}");
    }

    #[test]
    fn unknown_facts_fail_allow_lists_only() {
        let mut f = facts(&[(Category::Providers, "aws")]);
        f.unknown.push((Category::Principals, "the EC2 instance role".into()));
        let open = rules(r#"{"version":1,"allow":{"providers":["aws"]}}"#);
        assert!(decide(&open, &f).allowed);
        let d = decide(&rules(r#"{"version":1,"allow":{"providers":["aws"],"principals":["*"]}}"#), &f);
        assert!(!d.allowed && d.denied_by[0].contains("only known at run time"), "{d:?}");
    }

    #[test]
    fn namespaces_gate_object_level_identity_and_its_principals() {
        let r = rules(
            r#"{"version":1,"allow":{"providers":["aws"]},
                "namespaces":{"team-a":{"objectLevelIdentity":true,"principals":["arn:aws:iam::123456789012:role/team-a-*"]},
                              "team-b":{"objectLevelIdentity":false}}}"#,
        );
        let admin = "arn:aws:iam::999999999999:role/admin";
        let mut f = facts(&[(Category::Providers, "aws"), (Category::Principals, admin)]);
        f.namespace = Some("team-a".into());
        let d = decide(&r, &f);
        assert!(!d.allowed);
        assert_eq!(d.denied_by, vec![format!("principal {admin} matches nothing in namespaces.team-a.principals")]);
        f.known[1].1 = "arn:aws:iam::123456789012:role/team-a-puller".into();
        assert!(decide(&r, &f).allowed);
        for ns in ["team-b", "team-c"] {
            f.namespace = Some(ns.into());
            assert!(!decide(&r, &f).allowed, "{ns}");
        }
    }

    #[test]
    fn lifetimes_and_run_time_hosts() {
        let r = rules(
            r#"{"version":1,"allow":{"hosts":["*.example.com"]},"deny":{"hosts":["bad.example.com"]},"maxCredentialLifetimeSeconds":900}"#,
        );
        let mut f = facts(&[(Category::Hosts, "a.example.com")]);
        f.lifetime = Some(3600);
        let d = decide(&r, &f);
        assert!(!d.allowed && d.denied_by[0].contains("longer than"), "{d:?}");
        assert!(check_lifetime(&r, 900).is_ok() && check_lifetime(&r, 901).is_err());
        let host = |h: &str| Authority::parse(h).unwrap();
        assert!(check_host(&r, &host("x.example.com"), "realm").is_ok());
        assert!(check_host(&r, &host("bad.example.com"), "realm").unwrap_err().contains("deny.hosts[0]"));
        assert!(check_host(&r, &host("x.example.com.evil.example"), "realm").is_err());
        assert!(check_host(&r, &host("a.b.example.com"), "realm").is_err());
    }
}
