//! Git targets: which repository URLs get cloud credentials.
//!
//! Flux hands the Azure DevOps token out for any URL (its Git layer decides
//! where it goes). A session returns the token to the host, which sends it
//! to the URL, so the URL is checked here: only Azure DevOps hosts get a
//! DevOps-scoped Entra token, and only CodeCommit hosts get CodeCommit
//! credentials (`aws::codecommit`).

use crate::error::{Error, Result, quoted};
use crate::github_app::{self, GitHubApp};
use crate::host::Authority;

use super::request::GitHubAppTarget;

/// The Azure DevOps service host.
const DEV_AZURE_COM: &str = "dev.azure.com";
/// The legacy per-organization hosts, `<org>.visualstudio.com`.
const VISUALSTUDIO_COM: &str = "visualstudio.com";

/// Username of the returned Git credentials. Azure DevOps ignores the user
/// name of Basic credentials whose password is a token; Flux itself only
/// returns the bearer token.
pub const AZURE_DEVOPS_USERNAME: &str = "azure-devops";

/// Checks that `url` is an Azure DevOps repository over HTTPS:
/// `https://[user@]dev.azure.com/<org>/...` or
/// `https://[user@]<org>.visualstudio.com/...`. Anything else that is a
/// well-formed `https://` URL is `unsupported`; a malformed one is
/// `invalid-input`.
pub fn check_azure_devops_url(url: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("Git URL {} {why}", quoted(url)));
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("contains whitespace or control characters"));
    }
    let rest = url.strip_prefix("https://").ok_or_else(|| bad("is not an https:// URL"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    // Azure DevOps clone URLs carry the organization as a user name
    // (`https://org@dev.azure.com/org/...`); a password in the URL is refused.
    let authority = match authority.rsplit_once('@') {
        Some((user, _)) if user.contains(':') || user.is_empty() => {
            return Err(bad("carries a password or an empty user"));
        }
        Some((_, host)) => host,
        None => authority,
    };
    let host = Authority::parse(authority).map_err(|_| bad("has no valid host"))?;
    if host.port().is_some_and(|p| p != 443) {
        return Err(not_devops(url));
    }
    let first_segment = path.strip_prefix('/').and_then(|p| p.split(['/', '?', '#']).next()).unwrap_or_default();
    let devops = match host.host() {
        DEV_AZURE_COM => !first_segment.is_empty(),
        h => host.is_under(VISUALSTUDIO_COM) && h.matches('.').count() == 2,
    };
    if devops { Ok(()) } else { Err(not_devops(url)) }
}

/// Whether the URL's host is an AWS CodeCommit Git host by its first label
/// (`git-codecommit`, `git-codecommit-fips`). Such URLs get CodeCommit
/// credentials, and a malformed one fails as a CodeCommit URL
/// (`aws::codecommit::parse_url`) rather than as "not Azure DevOps".
pub fn names_codecommit(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let first = host.split(['.', ':']).next().unwrap_or_default();
    first.eq_ignore_ascii_case("git-codecommit") || first.eq_ignore_ascii_case("git-codecommit-fips")
}

/// A GitHub App target, checked: Flux's input checks
/// (`github_app::GitHubApp::new`), and a Git URL on the host the API serves
/// (`github.com` for `api.github.com`, `<name>.ghe.com` for
/// `api.<name>.ghe.com`, the API host itself for GitHub Enterprise Server).
/// Flux does not compare the two; the session hands the token out for the
/// URL, so a URL elsewhere is refused rather than given a GitHub token.
pub fn github_app(target: &GitHubAppTarget) -> Result<GitHubApp> {
    let app = GitHubApp::new(&github_app::Inputs {
        app_id: &target.app_id,
        installation_id: target.installation_id.as_deref(),
        installation_owner: target.installation_owner.as_deref(),
        private_key: &target.private_key,
        base_url: target.base_url.as_deref(),
    })?;
    let url = &target.url;
    let bad = |why: &str| Error::invalid(format!("Git URL {} {why}", quoted(url)));
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("contains whitespace or control characters"));
    }
    let rest = url.strip_prefix("https://").ok_or_else(|| bad("is not an https:// URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = match authority.rsplit_once('@') {
        Some((user, _)) if user.contains(':') || user.is_empty() => {
            return Err(bad("carries a password or an empty user"));
        }
        Some((_, host)) => host,
        None => authority,
    };
    let host = Authority::parse(authority).map_err(|_| bad("has no valid host"))?;
    let host = match host.port() {
        Some(443) => host.host().to_owned(),
        _ => host.to_string(),
    };
    let expected = github_app::git_host(&app.api);
    if host != expected {
        return Err(Error::invalid(format!(
            "Git URL {} is not on {expected}, the Git host of the GitHub API {} (githubAppBaseURL)",
            quoted(url),
            app.base_url
        )));
    }
    Ok(app)
}

fn not_devops(url: &str) -> Error {
    Error::unsupported(format!(
        "Git URL {} is not an Azure DevOps repository (https://dev.azure.com/<org>/... or https://<org>.visualstudio.com/...)",
        quoted(url)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_devops_urls() {
        for ok in [
            "https://dev.azure.com/org/project/_git/repo",
            "https://org@dev.azure.com/org/project/_git/repo",
            "https://DEV.AZURE.COM/org",
            "https://dev.azure.com:443/org/p/_git/r",
            "https://org.visualstudio.com/project/_git/repo",
            "https://org.visualstudio.com/DefaultCollection/project/_git/repo",
        ] {
            check_azure_devops_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for unsupported in [
            "https://github.com/org/repo",
            "https://dev.azure.com.evil.example/org/p",
            "https://evil.example/dev.azure.com/org",
            "https://dev.azure.com/",
            "https://dev.azure.com",
            "https://dev.azure.com:8443/org",
            "https://visualstudio.com/p",
            "https://a.b.visualstudio.com/p",
            "https://org.visualstudio.com.evil.example/p",
        ] {
            assert_eq!(check_azure_devops_url(unsupported).unwrap_err().kind(), "unsupported", "{unsupported}");
        }
        for invalid in [
            "http://dev.azure.com/org",
            "ssh://git@ssh.dev.azure.com/v3/org/p/r",
            "https://user:pass@dev.azure.com/org",
            "https://@dev.azure.com/org",
            "https://dev.azure.com/org\r\n",
            "https://dev azure.com/org",
            "https://",
        ] {
            assert_eq!(check_azure_devops_url(invalid).unwrap_err().kind(), "invalid-input", "{invalid}");
        }
    }
}
