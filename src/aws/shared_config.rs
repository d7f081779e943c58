//! The AWS shared `config` and `credentials` files: which files, which
//! profile, and what the profile says, resolved as the Go SDK v2's
//! `LoadDefaultConfig` (Flux's) resolves them (`config/shared_config.go`,
//! `config/resolve_credentials.go`). Pure: the caller reads the files.
//!
//! - Files: `AWS_CONFIG_FILE`, else `$HOME/.aws/config`;
//!   `AWS_SHARED_CREDENTIALS_FILE`, else `$HOME/.aws/credentials`. Without
//!   `HOME` and without the variable, that file is not read. A missing
//!   default file is an empty one, as in the SDK; a file a variable names
//!   that is missing is an error (the SDK would read it as empty: a
//!   configuration mistake should not silently become another identity).
//! - Profile: `AWS_PROFILE`, else `default`. In the config file a profile
//!   is `[profile name]` (or `[default]`; `[profile default]` wins over it),
//!   other sections are ignored; in the credentials file it is `[name]`,
//!   and `[profile name]` is ignored. The credentials file's keys win over
//!   the config file's for the same profile. A profile `AWS_PROFILE` names
//!   that neither file has is an error (`SharedConfigProfileNotExistError`);
//!   a missing `default` means the files configure nothing.
//! - Credentials, in the SDK's order: `source_profile` (the chain below,
//!   then this profile's `role_arn`), static keys, `credential_source`,
//!   `web_identity_token_file` (with `role_arn`), SSO and
//!   `credential_process` (`unsupported`), else none: the default chain goes
//!   on (container credentials, IMDS), and a `role_arn` is assumed with
//!   what it finds. A `source_profile` chain that comes back to a profile
//!   uses that profile's own keys (a profile may name itself); one that comes
//!   back to a profile without keys is an error naming the cycle.
//! - `AssumeRole`: `role_session_name`, else the Go SDK's
//!   `aws-go-sdk-<unix nanos>`; `DurationSeconds` the SDK's 900 unless
//!   `duration_seconds` is over 15 minutes; `external_id`; `mfa_serial` is
//!   `unsupported` (it needs a prompt for a code).
//! - `region`, `use_fips_endpoint`, `use_dualstack_endpoint` of the named
//!   profile (the caller lets the environment win). `sts_regional_endpoints`
//!   is read by neither the Go SDK v2 nor this module: STS is always
//!   regional there.
//!
//! Errors name the profile, the key and the file, never a value that could
//! be a secret.

use std::collections::BTreeMap;

use crate::aws::ini::{self, Value};
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result, quoted};
use crate::secret::Secret;

/// The profile used without `AWS_PROFILE`.
pub const DEFAULT_PROFILE: &str = "default";
/// The most roles a `source_profile` chain may assume in a row.
pub const MAX_ROLE_CHAIN: usize = 10;
/// The Go SDK's session duration when the profile sets none (15 minutes).
pub const DEFAULT_DURATION: u32 = 900;

/// One of the two files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    /// Named by its variable (then it must exist), rather than the default under `HOME`.
    pub variable: Option<&'static str>,
}

/// Where the files are and which profile to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub profile: String,
    /// `AWS_PROFILE` named it (then it must exist).
    pub profile_explicit: bool,
    pub config: Option<File>,
    pub credentials: Option<File>,
}

impl Location {
    /// The files to read, config first.
    pub fn files(&self) -> impl Iterator<Item = &File> {
        self.config.iter().chain(self.credentials.iter())
    }
}

/// The files and profile the environment names; None when no file can be
/// read (no `HOME`, no file variable) and no profile is named.
pub fn locate<'a>(env: impl Fn(&str) -> Result<Option<&'a str>>) -> Result<Option<Location>> {
    let home = env("HOME")?.map(|h| h.trim_end_matches('/').to_owned());
    let file = |variable: &'static str, default: &str| -> Result<Option<File>> {
        Ok(match (env(variable)?, &home) {
            (Some(path), _) => Some(File { path: path.to_owned(), variable: Some(variable) }),
            (None, Some(home)) => Some(File { path: format!("{home}/.aws/{default}"), variable: None }),
            (None, None) => None,
        })
    };
    let config = file("AWS_CONFIG_FILE", "config")?;
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")?;
    let named = env("AWS_PROFILE")?;
    if config.is_none() && credentials.is_none() {
        return match named {
            Some(profile) => Err(Error::invalid(format!(
                "AWS_PROFILE names profile {}, but there is no HOME, AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE to read it from",
                quoted(profile)
            ))),
            None => Ok(None),
        };
    }
    Ok(Some(Location {
        profile: named.unwrap_or(DEFAULT_PROFILE).to_owned(),
        profile_explicit: named.is_some(),
        config,
        credentials,
    }))
}

/// Where the first credentials come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`) of `profile`.
    Static { profile: String, credentials: AwsCredentials },
    /// `role_arn` + `web_identity_token_file` (+ `role_session_name`) of `profile`.
    WebIdentity { profile: String, role_arn: String, token_file: String, session_name: Option<String> },
    /// `credential_source = Environment`: the environment's static keys.
    Environment { profile: String },
    /// `credential_source = Ec2InstanceMetadata`.
    InstanceMetadata { profile: String },
    /// `credential_source = EcsContainer`: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
    EcsContainer { profile: String },
    /// The profile has no credentials: the default chain goes on.
    Chain,
}

/// One `AssumeRole` call, made with the credentials before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRole {
    /// The profile whose `role_arn` this is.
    pub profile: String,
    pub role_arn: String,
    /// `role_session_name`; None: the Go SDK's default.
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: u32,
}

/// A resolved profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub base: Base,
    /// Roles to assume in order, the first with the base credentials.
    pub roles: Vec<AssumeRole>,
    pub region: Option<String>,
    pub use_fips_endpoint: Option<bool>,
    pub use_dualstack_endpoint: Option<bool>,
}

/// The keys merged from the credentials file into a config profile
/// (besides the key pair), as the SDK's `mergeSections` lists them.
const MERGED_KEYS: &[&str] = &[
    "role_arn",
    "source_profile",
    "credential_source",
    "external_id",
    "mfa_serial",
    "role_session_name",
    "region",
    "credential_process",
    "web_identity_token_file",
    "use_dualstack_endpoint",
    "use_fips_endpoint",
    "duration_seconds",
    "sso_session",
    "sso_account_id",
    "sso_region",
    "sso_role_name",
    "sso_start_url",
];

/// A profile's keys after merging, and the file of a partial key pair.
#[derive(Default)]
struct Merged {
    keys: ini::Section,
    /// The file in which only one of the key pair is set.
    partial: Option<String>,
}

/// Resolves the profile from the files' texts (None: the file is missing,
/// or not read because `location` has no path for it). None when the
/// files configure nothing (no `default` profile and none named).
pub fn resolve(location: &Location, config: Option<&str>, credentials: Option<&str>) -> Result<Option<Profile>> {
    let mut profiles = BTreeMap::<String, Merged>::new();
    for (file, text, is_config) in [(&location.config, config, true), (&location.credentials, credentials, false)] {
        let Some(file) = file else { continue };
        let Some(text) = text else {
            if let Some(variable) = file.variable {
                return Err(Error::invalid(format!("{variable} names {}, which does not exist", file.path)));
            }
            continue;
        };
        let sections = ini::parse(text, &file.path)?;
        for (name, keys) in profile_sections(sections, is_config) {
            merge(profiles.entry(name).or_default(), keys, &file.path);
        }
    }
    if !profiles.contains_key(&location.profile) {
        if location.profile_explicit {
            return Err(Error::invalid(format!(
                "AWS_PROFILE names profile {}, which is in neither {}",
                quoted(&location.profile),
                location.files().map(|f| f.path.as_str()).collect::<Vec<_>>().join(" nor ")
            )));
        }
        return Ok(None);
    }
    let mut seen = Vec::new();
    let top = load(&profiles, &location.profile, &mut seen)?;
    let mut roles = Vec::new();
    let base = chain(&top, &mut roles)?;
    Ok(Some(Profile {
        name: location.profile.clone(),
        base,
        roles,
        region: top.region.clone(),
        use_fips_endpoint: top.fips,
        use_dualstack_endpoint: top.dualstack,
    }))
}

/// The profile sections of one file, by profile name.
fn profile_sections(sections: ini::Sections, is_config: bool) -> Vec<(String, ini::Section)> {
    if !is_config {
        return sections.into_iter().filter(|(name, _)| !name.starts_with("profile ")).collect();
    }
    // Config: `[profile x]` is `x` and wins over a `[x]` (only `default` may
    // go without the prefix); any other section is not a profile.
    let mut out = BTreeMap::new();
    for (name, keys) in sections {
        if let Some(profile) = name.strip_prefix("profile ") {
            out.insert(profile.to_owned(), (true, keys));
        } else if name.eq_ignore_ascii_case(DEFAULT_PROFILE) {
            out.entry(name).or_insert((false, keys));
        }
    }
    out.into_iter().map(|(name, (_, keys))| (name, keys)).collect()
}

/// Merges a later file's section into a profile: the key pair (with the
/// session token, when the later file has one), and [`MERGED_KEYS`].
fn merge(into: &mut Merged, keys: ini::Section, path: &str) {
    let has_id = keys.contains_key("aws_access_key_id");
    let has_secret = keys.contains_key("aws_secret_access_key");
    if into.keys.is_empty() && into.partial.is_none() {
        into.partial = (has_id != has_secret).then(|| path.to_owned());
        into.keys = keys;
        return;
    }
    // The later file's partial-pair state replaces the earlier one's.
    into.partial = (has_id != has_secret).then(|| path.to_owned());
    let mut copy = |key: &str| {
        if let Some(value) = keys.get(key) {
            into.keys.insert(key.to_owned(), value.clone());
        }
    };
    if has_id && has_secret {
        for key in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] {
            copy(key);
        }
    }
    for key in MERGED_KEYS {
        copy(key);
    }
}

/// What one profile says (the SDK's `SharedConfig` fields cloudauth reads).
#[derive(Default)]
struct Config {
    name: String,
    role_arn: Option<String>,
    source_profile: Option<String>,
    credential_source: Option<String>,
    web_identity_token_file: Option<String>,
    role_session_name: Option<String>,
    external_id: Option<String>,
    mfa_serial: Option<String>,
    credential_process: bool,
    sso: Vec<&'static str>,
    duration_seconds: Option<i64>,
    credentials: Option<AwsCredentials>,
    region: Option<String>,
    fips: Option<bool>,
    dualstack: Option<bool>,
    /// The profile `source_profile` links to, and whether the link closed a cycle.
    source: Option<(Box<Config>, bool)>,
}

impl Config {
    fn read(name: &str, merged: &Merged) -> Result<Config> {
        if let Some(path) = &merged.partial {
            return Err(Error::invalid(format!(
                "AWS profile {}: {path} sets only one of aws_access_key_id and aws_secret_access_key",
                quoted(name)
            )));
        }
        let text = |key: &str| -> Result<Option<String>> {
            match merged.keys.get(key) {
                None => Ok(None),
                Some(Value::Nested) => {
                    Err(Error::invalid(format!("AWS profile {}: {key} is a nested section, not a value", quoted(name))))
                }
                Some(Value::Text(t)) if t.is_empty() => Ok(None),
                Some(Value::Text(t)) => Ok(Some(t.clone())),
            }
        };
        let single_line = |key: &str| -> Result<Option<String>> {
            let value = text(key)?;
            if value.as_deref().is_some_and(crate::http::has_control) {
                return Err(Error::invalid(format!(
                    "AWS profile {}: {key} contains a line break or control character",
                    quoted(name)
                )));
            }
            Ok(value)
        };
        let flag = |key: &str| -> Result<Option<bool>> {
            match text(key)? {
                None => Ok(None),
                Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
                Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
                Some(_) => Err(Error::invalid(format!("AWS profile {}: {key} must be true or false", quoted(name)))),
            }
        };
        let duration_seconds = match text("duration_seconds")? {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                Error::invalid(format!(
                    "AWS profile {}: duration_seconds is not a whole number of seconds",
                    quoted(name)
                ))
            })?),
        };
        let credentials = match (single_line("aws_access_key_id")?, text("aws_secret_access_key")?) {
            (Some(id), Some(secret)) => Some(AwsCredentials {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                session_token: single_line("aws_session_token")?.map(Secret::new),
                expires_at: None,
            }),
            _ => None,
        };
        let sso = ["sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name"]
            .into_iter()
            .filter(|key| matches!(merged.keys.get(*key), Some(Value::Text(t)) if !t.is_empty()))
            .collect();
        Ok(Config {
            name: name.to_owned(),
            role_arn: single_line("role_arn")?,
            source_profile: text("source_profile")?,
            credential_source: text("credential_source")?,
            web_identity_token_file: single_line("web_identity_token_file")?,
            role_session_name: single_line("role_session_name")?,
            external_id: single_line("external_id")?,
            mfa_serial: text("mfa_serial")?,
            credential_process: text("credential_process")?.is_some(),
            sso,
            duration_seconds,
            credentials,
            region: single_line("region")?,
            fips: flag("use_fips_endpoint")?,
            dualstack: flag("use_dualstack_endpoint")?,
            source: None,
        })
    }

    fn has_credentials(&self) -> bool {
        self.source_profile.is_some()
            || self.credential_source.is_some()
            || self.credential_process
            || self.web_identity_token_file.is_some()
            || !self.sso.is_empty()
            || self.credentials.is_some()
    }
}

/// Loads `name` and its `source_profile` links as the SDK's
/// `setFromIniSections` does: a profile seen before keeps only its
/// credentials (no role options), which ends every chain.
fn load(profiles: &BTreeMap<String, Merged>, name: &str, seen: &mut Vec<String>) -> Result<Config> {
    let merged = profiles
        .get(name)
        .ok_or_else(|| Error::invalid(format!("AWS profile {} is in neither shared file", quoted(name))))?;
    let mut config = Config::read(name, merged)?;
    let revisit = seen.iter().any(|s| s == name);
    if revisit {
        config.role_arn = None;
        config.external_id = None;
        config.mfa_serial = None;
        config.role_session_name = None;
        config.source_profile = None;
    } else {
        let kind = if config.source_profile.is_some() {
            Some("source_profile")
        } else if config.credential_source.is_some() {
            Some("credential_source")
        } else if config.web_identity_token_file.is_some() {
            Some("web_identity_token_file")
        } else {
            None
        };
        if let (Some(kind), None) = (kind, &config.role_arn) {
            return Err(Error::invalid(format!("AWS profile {}: {kind} requires role_arn", quoted(name))));
        }
    }
    if !seen.is_empty() && config.credentials.is_some() {
        return Ok(config);
    }
    seen.push(name.to_owned());
    let kinds = [
        config.source_profile.is_some(),
        config.credential_source.is_some(),
        config.credential_process,
        config.web_identity_token_file.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(Error::invalid(format!(
            "AWS profile {}: only one of source_profile, credential_source, credential_process and web_identity_token_file may be set",
            quoted(name)
        )));
    }
    if let Some(source) = config.source_profile.clone() {
        if seen.len() > MAX_ROLE_CHAIN {
            return Err(Error::invalid(format!(
                "AWS profile {}: the source_profile chain is longer than {MAX_ROLE_CHAIN} profiles",
                quoted(name)
            )));
        }
        // A linked profile gets its credentials from the source only.
        config.credential_source = None;
        config.credential_process = false;
        config.web_identity_token_file = None;
        config.credentials = None;
        config.sso.clear();
        let cycle = seen.contains(&source);
        let linked = if profiles.contains_key(&source) {
            load(profiles, &source, seen)?
        } else {
            return Err(Error::invalid(format!(
                "AWS profile {}: its source_profile {} is in neither shared file",
                quoted(name),
                quoted(&source)
            )));
        };
        if !linked.has_credentials() {
            return Err(Error::invalid(if cycle {
                format!(
                    "AWS profile {}: its source_profile chain comes back to {}, which has no aws_access_key_id (a source_profile cycle)",
                    quoted(name),
                    quoted(&source)
                )
            } else {
                format!("AWS profile {}: its source_profile {} has no credentials", quoted(name), quoted(&source))
            }));
        }
        config.source = Some((Box::new(linked), cycle));
    }
    Ok(config)
}

/// The base credentials of a loaded profile, with the roles to assume after
/// them appended to `roles` (the SDK's `resolveCredsFromProfile`).
fn chain(config: &Config, roles: &mut Vec<AssumeRole>) -> Result<Base> {
    let name = || quoted(&config.name);
    let base = if let Some((source, _)) = &config.source {
        chain(source, roles)?
    } else if let Some(credentials) = &config.credentials {
        Base::Static { profile: config.name.clone(), credentials: credentials.clone() }
    } else if let Some(source) = &config.credential_source {
        let profile = config.name.clone();
        match source.as_str() {
            "Environment" => Base::Environment { profile },
            "Ec2InstanceMetadata" => Base::InstanceMetadata { profile },
            "EcsContainer" => Base::EcsContainer { profile },
            _ => {
                return Err(Error::invalid(format!(
                    "AWS profile {}: credential_source must be EcsContainer, Ec2InstanceMetadata or Environment",
                    name()
                )));
            }
        }
    } else if let Some(token_file) = &config.web_identity_token_file {
        // The role is the web identity's own: nothing more to assume here.
        return Ok(Base::WebIdentity {
            profile: config.name.clone(),
            role_arn: config.role_arn.clone().unwrap_or_default(),
            token_file: token_file.clone(),
            session_name: config.role_session_name.clone(),
        });
    } else if !config.sso.is_empty() {
        return Err(Error::unsupported(format!(
            "AWS profile {}: AWS IAM Identity Center (SSO) credentials ({}) need a browser login; not supported",
            name(),
            config.sso.join(", ")
        )));
    } else if config.credential_process {
        return Err(Error::unsupported(format!(
            "AWS profile {}: credential_process runs a program; not supported by a component that does no I/O",
            name()
        )));
    } else {
        Base::Chain
    };
    if let Some(role_arn) = &config.role_arn {
        if config.mfa_serial.is_some() {
            return Err(Error::unsupported(format!(
                "AWS profile {}: role_arn with mfa_serial needs an MFA code typed in; not supported",
                name()
            )));
        }
        if roles.len() >= MAX_ROLE_CHAIN {
            return Err(Error::invalid(format!(
                "AWS profile {}: more than {MAX_ROLE_CHAIN} roles to assume in a row",
                name()
            )));
        }
        let duration = match config.duration_seconds {
            // The SDK takes the profile's duration only above 15 minutes.
            Some(d) if d / 60 > 15 => u32::try_from(d)
                .map_err(|_| Error::invalid(format!("AWS profile {}: duration_seconds is out of range", name())))?,
            _ => DEFAULT_DURATION,
        };
        roles.push(AssumeRole {
            profile: config.name.clone(),
            role_arn: role_arn.clone(),
            session_name: config.role_session_name.clone(),
            external_id: config.external_id.clone(),
            duration_seconds: duration,
        });
    }
    Ok(base)
}

#[cfg(test)]
mod tests;
