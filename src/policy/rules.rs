//! The rules document (version 1), read strictly: every key is known, every
//! pattern well formed, and an error names the path of the bad field
//! (`$.allow.hosts[2]`). The reference is `docs/policy.md`; the JSON Schema
//! is `docs/policy.schema.json`.

use crate::error::{Error, Result};
use crate::kubernetes::check_dns1123_label;

use super::json::{self, Json};
use super::pattern::{Glob, HostPattern, principal_char};

/// The only version there is.
pub const VERSION: i64 = 1;

/// Most entries in one list, and namespaces in `namespaces`.
pub const MAX_ENTRIES: usize = 1000;

/// What a list of rules is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Providers,
    Hosts,
    AwsAccounts,
    AwsPartitions,
    AzureTenants,
    GcpProjects,
    Principals,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Providers,
        Category::Hosts,
        Category::AwsAccounts,
        Category::AwsPartitions,
        Category::AzureTenants,
        Category::GcpProjects,
        Category::Principals,
    ];

    /// The key in the document.
    pub fn key(self) -> &'static str {
        match self {
            Category::Providers => "providers",
            Category::Hosts => "hosts",
            Category::AwsAccounts => "awsAccounts",
            Category::AwsPartitions => "awsPartitions",
            Category::AzureTenants => "azureTenants",
            Category::GcpProjects => "gcpProjects",
            Category::Principals => "principals",
        }
    }

    /// What one fact of the category is, for reasons.
    pub fn noun(self) -> &'static str {
        match self {
            Category::Providers => "provider",
            Category::Hosts => "host",
            Category::AwsAccounts => "AWS account",
            Category::AwsPartitions => "AWS partition",
            Category::AzureTenants => "Azure tenant",
            Category::GcpProjects => "Google Cloud project",
            Category::Principals => "principal",
        }
    }

    fn from_key(key: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// One pattern of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    Host(HostPattern),
    Glob(Glob),
}

/// A pattern with its text, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub text: String,
    pub pattern: Pattern,
}

/// An `allow` or `deny` block: a list per category, None when not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lists {
    lists: Vec<(Category, Vec<Entry>)>,
}

impl Lists {
    pub fn get(&self, category: Category) -> Option<&[Entry]> {
        self.lists.iter().find(|(c, _)| *c == category).map(|(_, l)| l.as_slice())
    }
}

/// What one namespace may do with object-level identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceRule {
    pub name: String,
    pub object_level_identity: bool,
    /// The principals its service accounts may use; None: any the other rules allow.
    pub principals: Option<Vec<Entry>>,
}

/// A rules document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub allow: Lists,
    pub deny: Lists,
    /// None when the document has no `namespaces`: then no namespace may
    /// use object-level identity.
    pub namespaces: Option<Vec<NamespaceRule>>,
    pub max_credential_lifetime: Option<i64>,
}

impl Rules {
    /// Reads a rules document.
    pub fn parse(text: &str) -> Result<Rules> {
        let doc = json::parse(text)?;
        read_document(&doc).map_err(|(path, why)| Error::invalid(format!("rules: {path}: {why}")))
    }

    pub fn namespace(&self, name: &str) -> Option<&NamespaceRule> {
        self.namespaces.as_ref()?.iter().find(|n| n.name == name)
    }
}

type ReadResult<T> = std::result::Result<T, (String, String)>;

fn object<'a>(value: &'a Json, path: &str) -> ReadResult<&'a [(String, Json)]> {
    match value {
        Json::Object(entries) => Ok(entries),
        other => Err((path.to_owned(), format!("must be an object, not {}", other.kind()))),
    }
}

fn read_document(doc: &Json) -> ReadResult<Rules> {
    let entries = object(doc, "$")?;
    let mut rules = Rules::default();
    let mut version = None;
    for (key, value) in entries {
        let path = format!("$.{key}");
        match key.as_str() {
            "version" => match value {
                Json::Number(n) if n.as_i64() == Some(VERSION) => version = Some(VERSION),
                _ => return Err((path, format!("must be {VERSION} (the only version of this document)"))),
            },
            "allow" => rules.allow = read_lists(value, &path)?,
            "deny" => rules.deny = read_lists(value, &path)?,
            "namespaces" => rules.namespaces = Some(read_namespaces(value, &path)?),
            "maxCredentialLifetimeSeconds" => match value {
                Json::Number(n) if n.as_i64().is_some_and(|s| s > 0) => {
                    rules.max_credential_lifetime = n.as_i64();
                }
                _ => return Err((path, "must be a positive whole number of seconds".into())),
            },
            _ => {
                return Err((
                    path,
                    unknown_key(&["version", "allow", "deny", "namespaces", "maxCredentialLifetimeSeconds"]),
                ));
            }
        }
    }
    if version.is_none() {
        return Err(("$.version".into(), format!("is required and must be {VERSION}")));
    }
    Ok(rules)
}

fn unknown_key(known: &[&str]) -> String {
    format!("unknown key (known: {})", known.join(", "))
}

fn read_lists(value: &Json, path: &str) -> ReadResult<Lists> {
    let mut lists = Lists::default();
    for (key, value) in object(value, path)? {
        let path = format!("{path}.{key}");
        let category =
            Category::from_key(key).ok_or_else(|| (path.clone(), unknown_key(&Category::ALL.map(Category::key))))?;
        lists.lists.push((category, read_list(value, &path, category)?));
    }
    Ok(lists)
}

fn read_list(value: &Json, path: &str, category: Category) -> ReadResult<Vec<Entry>> {
    let Json::Array(items) = value else {
        return Err((path.to_owned(), format!("must be an array of strings, not {}", value.kind())));
    };
    if items.len() > MAX_ENTRIES {
        return Err((path.to_owned(), format!("has {} entries, more than {MAX_ENTRIES}", items.len())));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{path}[{i}]");
            let Json::String(text) = item else {
                return Err((path, format!("must be a string, not {}", item.kind())));
            };
            let pattern =
                read_pattern(text, category).map_err(|why| (path, format!("{text:?} is malformed: {why}")))?;
            Ok(Entry { text: text.clone(), pattern })
        })
        .collect()
}

fn read_pattern(text: &str, category: Category) -> std::result::Result<Pattern, String> {
    let glob = |allowed: fn(u8) -> bool, what| Glob::parse(text, allowed, what).map(Pattern::Glob);
    match category {
        Category::Providers => match text {
            "aws" | "azure" | "gcp" | "generic" => glob(|b| b.is_ascii_lowercase(), "providers"),
            _ => Err("must be one of aws, azure, gcp, generic".into()),
        },
        Category::Hosts => HostPattern::parse(text).map(Pattern::Host),
        Category::AwsAccounts => glob(|b| b.is_ascii_digit(), "AWS account ids (12 digits)"),
        Category::AwsPartitions => {
            if text.contains('*') || crate::aws::partition::by_id(text).is_some() {
                glob(|b| b.is_ascii_lowercase() || b == b'-', "AWS partitions")
            } else {
                Err("not an AWS partition (aws, aws-cn, aws-us-gov, aws-iso, ...)".into())
            }
        }
        Category::AzureTenants => {
            glob(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.', "Azure tenant ids (GUIDs or domains)")
        }
        Category::GcpProjects => {
            glob(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-', "Google Cloud project ids")
        }
        Category::Principals => glob(principal_char, "principals"),
    }
}

fn read_namespaces(value: &Json, path: &str) -> ReadResult<Vec<NamespaceRule>> {
    let entries = object(value, path)?;
    if entries.len() > MAX_ENTRIES {
        return Err((path.to_owned(), format!("has {} namespaces, more than {MAX_ENTRIES}", entries.len())));
    }
    let mut namespaces = Vec::new();
    for (name, value) in entries {
        let path = format!("{path}.{name}");
        if check_dns1123_label("namespace", name).is_err() {
            return Err((path, "is not a namespace name (a DNS-1123 label)".into()));
        }
        let mut rule = NamespaceRule { name: name.clone(), object_level_identity: false, principals: None };
        for (key, value) in object(value, &path)? {
            let path = format!("{path}.{key}");
            match key.as_str() {
                "objectLevelIdentity" => match value {
                    Json::Bool(b) => rule.object_level_identity = *b,
                    other => return Err((path, format!("must be a boolean, not {}", other.kind()))),
                },
                "principals" => rule.principals = Some(read_list(value, &path, Category::Principals)?),
                _ => return Err((path, unknown_key(&["objectLevelIdentity", "principals"]))),
            }
        }
        namespaces.push(rule);
    }
    Ok(namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match Rules::parse(text) {
            Err(Error::InvalidInput(m)) => m,
            other => panic!("expected invalid-input for {text}, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_full_document() {
        let rules = Rules::parse(
            r#"{"version":1,
                "allow":{"providers":["aws","azure"],"hosts":["*.azurecr.io","ghcr.io"],"awsAccounts":["123456789012"],
                         "awsPartitions":["aws"],"azureTenants":["72f988bf-0000-4000-8000-00000000a11e"],
                         "gcpProjects":["my-project"],"principals":["arn:aws:iam::123456789012:role/*"]},
                "deny":{"hosts":["evil.example"]},
                "namespaces":{"team-a":{"objectLevelIdentity":true,"principals":["arn:aws:iam::123456789012:role/team-a-*"]}},
                "maxCredentialLifetimeSeconds":3600}"#,
        )
        .unwrap();
        assert_eq!(rules.allow.get(Category::Hosts).unwrap().len(), 2);
        assert!(rules.deny.get(Category::Providers).is_none());
        assert!(rules.namespace("team-a").unwrap().object_level_identity);
        assert!(rules.namespace("team-b").is_none());
        assert_eq!(rules.max_credential_lifetime, Some(3600));
    }

    #[test]
    fn errors_name_the_path_of_the_bad_field() {
        for (doc, path) in [
            (r#"{"allow":{}}"#, "$.version"),
            (r#"{"version":2}"#, "$.version"),
            (r#"{"version":"1"}"#, "$.version"),
            (r#"{"version":1,"alow":{}}"#, "$.alow"),
            (r#"{"version":1,"allow":{"host":["a.com"]}}"#, "$.allow.host"),
            (r#"{"version":1,"allow":{"hosts":["a.com","b*.com"]}}"#, "$.allow.hosts[1]"),
            (r#"{"version":1,"allow":{"hosts":"a.com"}}"#, "$.allow.hosts"),
            (r#"{"version":1,"deny":{"hosts":[1]}}"#, "$.deny.hosts[0]"),
            (r#"{"version":1,"deny":{"providers":["AWS"]}}"#, "$.deny.providers[0]"),
            (r#"{"version":1,"allow":{"awsAccounts":["12345678901x"]}}"#, "$.allow.awsAccounts[0]"),
            (r#"{"version":1,"allow":{"awsPartitions":["aws-mars"]}}"#, "$.allow.awsPartitions[0]"),
            (r#"{"version":1,"allow":{"principals":["a**"]}}"#, "$.allow.principals[0]"),
            (r#"{"version":1,"allow":{"principals":["rôle"]}}"#, "$.allow.principals[0]"),
            (r#"{"version":1,"namespaces":{"Team_A":{}}}"#, "$.namespaces.Team_A"),
            (r#"{"version":1,"namespaces":{"a":{"objectLevelIdentity":"yes"}}}"#, "$.namespaces.a.objectLevelIdentity"),
            (r#"{"version":1,"namespaces":{"a":{"principal":[]}}}"#, "$.namespaces.a.principal"),
            (r#"{"version":1,"namespaces":{"a":{"principals":["x y"]}}}"#, "$.namespaces.a.principals[0]"),
            (r#"{"version":1,"maxCredentialLifetimeSeconds":0}"#, "$.maxCredentialLifetimeSeconds"),
            (r#"{"version":1,"maxCredentialLifetimeSeconds":1.5}"#, "$.maxCredentialLifetimeSeconds"),
            (r#"[]"#, "$"),
        ] {
            let message = err(doc);
            assert!(message.starts_with(&format!("rules: {path}: ")), "{doc}: {message}");
        }
    }
}
