//! AWS CodeCommit Git credentials over HTTPS, as fluxcd/pkg makes them (and
//! git-remote-codecommit before it).
//!
//! CodeCommit takes no bearer token: Git sends Basic credentials whose
//! password is itself a SigV4 signature of a pseudo-request `GIT <path>`,
//! with `host` the only signed header, an empty payload-hash line and a
//! timestamp without the trailing `Z` (the password adds it back). The user
//! name carries the key id and the session token, so the server can check
//! the signature without anything else. The signature binds the repository
//! path and host, so credentials are per URL, and the server accepts them
//! for 15 minutes.

use crate::aws::partition;
use crate::aws::sigv4;
use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::time::DateTime;
use cloudauth_sigv4::signature::sha256_hex;

/// The signing name of the service.
const SERVICE: &str = "codecommit";

/// How long CodeCommit accepts a signed password (its replay window).
const SIGNATURE_VALIDITY: i64 = 15 * 60;

/// The longest repository name CodeCommit allows.
const MAX_REPOSITORY_NAME: usize = 100;

/// The DNS suffixes CodeCommit's Git endpoints live under. Other partitions
/// have no CodeCommit.
const GIT_SUFFIXES: &[&str] = &["amazonaws.com", "amazonaws.com.cn"];

/// A CodeCommit repository URL, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// `git-codecommit[-fips].<region>.<suffix>`, lower case.
    pub host: String,
    pub region: String,
    pub fips: bool,
    /// `/v1/repos/<name>`.
    pub path: String,
}

/// Git credentials for a CodeCommit repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitCredentials {
    /// `<access key id>%<session token>`: the token is part of the secret.
    pub username: Secret,
    /// `<YYYYMMDDTHHMMSS>Z<signature>`.
    pub password: Secret,
    pub expires_at: i64,
}

/// Parses `https://git-codecommit[-fips].<region>.amazonaws.com[.cn]/v1/repos/<name>`.
///
/// fluxcd/pkg accepts any URL whose host starts with `git-codecommit.` and
/// ends with an AWS suffix, and takes the second label as the region. Here
/// the whole host must be the region's own endpoint (the region's partition
/// owns the suffix), so a look-alike such as
/// `git-codecommit.us-east-1.amazonaws.com.evil.example` never receives a
/// signature. The path must be a repository path, the only one CodeCommit
/// serves over Git, so the signature cannot be replayed for anything else.
pub fn parse_url(url: &str) -> Result<Repository> {
    let bad = |why: &str| Error::invalid(format!("CodeCommit Git URL {why}"));
    if url.bytes().any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii()) {
        return Err(bad("contains whitespace, control or non-ASCII characters"));
    }
    let rest = strip_prefix_ignore_case(url, "https://")
        .ok_or_else(|| bad("must be an https:// URL (CodeCommit authentication is over HTTPS only)"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return Err(bad("must not carry user information"));
    }
    let host = authority.strip_suffix(":443").unwrap_or(authority).to_ascii_lowercase();
    let (label, rest) = host.split_once('.').ok_or_else(|| bad("does not name a CodeCommit host"))?;
    let fips = match label {
        "git-codecommit" => false,
        "git-codecommit-fips" => true,
        _ => return Err(bad("does not name a CodeCommit host (git-codecommit[-fips].<region>.amazonaws.com[.cn])")),
    };
    let (region, suffix) = rest.split_once('.').ok_or_else(|| bad("does not name a CodeCommit host"))?;
    let owned = partition::for_region(region).is_some_and(|p| p.dns_suffix == suffix);
    if !owned || !GIT_SUFFIXES.contains(&suffix) {
        return Err(bad(
            "does not name a CodeCommit host of an AWS region (git-codecommit[-fips].<region>.amazonaws.com[.cn])",
        ));
    }
    let name = path
        .strip_prefix("/v1/repos/")
        .ok_or_else(|| bad("must be a repository URL, https://<host>/v1/repos/<name>"))?;
    check_repository_name(name).map_err(bad)?;
    Ok(Repository { host: host.clone(), region: region.to_owned(), fips, path: path.to_owned() })
}

/// Repository names: 1 to 100 of letters, digits, `.`, `_` and `-`, not
/// `.git`-suffixed (CodeCommit refuses those names). Anything else would
/// need escaping in the signed path, so it is refused rather than guessed.
fn check_repository_name(name: &str) -> std::result::Result<(), &'static str> {
    let valid = (1..=MAX_REPOSITORY_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && name != "."
        && name != ".."
        && !name.to_ascii_lowercase().ends_with(".git");
    if valid { Ok(()) } else { Err("does not end in a CodeCommit repository name (letters, digits, . _ -)") }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Git credentials for the repository at `url`, signed at `now`.
///
/// The user name carries the session token of temporary credentials, as
/// fluxcd/pkg writes it (raw, not URL-encoded). They expire at the earlier
/// of the signature's 15 minutes and the credentials' own expiry.
pub fn git_credentials(url: &str, credentials: &AwsCredentials, now: i64) -> Result<GitCredentials> {
    let repository = parse_url(url)?;
    if credentials.access_key_id.is_empty() || !credentials.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid("the AWS access key id must be letters and digits"));
    }
    // Long-lived keys have no token: the user name is then the key id alone,
    // as git-remote-codecommit writes it.
    let username = match &credentials.session_token {
        Some(token) if token.expose().bytes().any(|b| !b.is_ascii_graphic()) => {
            return Err(Error::invalid("the AWS session token must be visible ASCII"));
        }
        Some(token) if !token.is_empty() => format!("{}%{}", credentials.access_key_id, token.expose()),
        _ => credentials.access_key_id.clone(),
    };
    let time = DateTime::from_unix(now)?;
    let timestamp = time.amz_date();
    let timestamp = timestamp.strip_suffix('Z').unwrap_or(&timestamp);
    let canonical_request = format!("GIT\n{}\n\nhost:{}\n\nhost\n", repository.path, repository.host);
    let scope = sigv4::scope(&time, &repository.region, SERVICE);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{timestamp}\n{}\n{}",
        scope.credential_scope(),
        sha256_hex(canonical_request.as_bytes())
    );
    let signature = scope.sign(credentials.secret_access_key.expose(), &string_to_sign)?;
    let mut expires_at = now.checked_add(SIGNATURE_VALIDITY).ok_or_else(|| Error::invalid("now is out of range"))?;
    if let Some(own) = credentials.expires_at {
        if own <= now {
            return Err(Error::invalid("the AWS credentials have already expired"));
        }
        expires_at = expires_at.min(own);
    }
    Ok(GitCredentials {
        username: Secret::new(username),
        password: Secret::new(format!("{timestamp}Z{signature}")),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_whole_codecommit_hosts_only() {
        for (url, region, fips) in [
            ("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/my-repo", "us-east-1", false),
            ("https://git-codecommit-fips.us-gov-west-1.amazonaws.com/v1/repos/r", "us-gov-west-1", true),
            ("https://git-codecommit.cn-north-1.amazonaws.com.cn/v1/repos/fleet", "cn-north-1", false),
            ("HTTPS://Git-CodeCommit.eu-west-1.AmazonAWS.com:443/v1/repos/a.b_c-d", "eu-west-1", false),
        ] {
            let repo = parse_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((repo.region.as_str(), repo.fips), (region, fips), "{url}");
        }
        for url in [
            "http://git-codecommit.us-east-1.amazonaws.com/v1/repos/r",
            "https://user@git-codecommit.us-east-1.amazonaws.com/v1/repos/r",
            "https://git-codecommit.us-east-1.amazonaws.com.evil.example/v1/repos/r",
            "https://git-codecommit.us-east-1.amazonaws.com.cn/v1/repos/r",
            "https://git-codecommit.cn-north-1.amazonaws.com/v1/repos/r",
            "https://git-codecommit.us-east-1.api.aws/v1/repos/r",
            "https://codecommit.us-east-1.amazonaws.com/v1/repos/r",
            "https://git-codecommit.not-a-region.amazonaws.com/v1/repos/r",
            "https://git-codecommit.us-east-1.amazonaws.com:8443/v1/repos/r",
            "https://git-codecommit.us-east-1.amazonaws.com/",
            "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/",
            "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/a/b",
            "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/r?x=1",
            "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/..",
            "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/r\n",
        ] {
            assert_eq!(parse_url(url).unwrap_err().kind(), "invalid-input", "{url}");
        }
    }

    #[test]
    fn expiry_is_the_earlier_of_the_window_and_the_credentials() {
        let mut creds = AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Some(Secret::new("token")),
            expires_at: Some(1_000_300),
        };
        let url = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/r";
        assert_eq!(git_credentials(url, &creds, 1_000_000).unwrap().expires_at, 1_000_300);
        creds.expires_at = Some(2_000_000);
        assert_eq!(git_credentials(url, &creds, 1_000_000).unwrap().expires_at, 1_000_900);
        creds.expires_at = Some(1_000_000);
        assert_eq!(git_credentials(url, &creds, 1_000_000).unwrap_err().kind(), "invalid-input");
        creds.session_token = None;
        creds.expires_at = None;
        assert_eq!(git_credentials(url, &creds, 1_000_000).unwrap().username.expose(), "ASIAEXAMPLE");
    }

    #[test]
    fn debug_hides_the_session_token_and_signature() {
        let creds = AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Some(Secret::new("SESSIONTOKENMARKER")),
            expires_at: None,
        };
        let out =
            git_credentials("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/r", &creds, 1_000_000).unwrap();
        let shown = format!("{out:?}");
        assert!(!shown.contains("SESSIONTOKENMARKER") && !shown.contains(out.password.expose()), "{shown}");
    }
}
