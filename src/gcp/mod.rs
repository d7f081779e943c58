//! Google Cloud: STS token exchange, IAM Credentials impersonation, the GCE
//! metadata server, and Artifact Registry / GCR docker credentials.
//!
//! The rules shared by these requests live here: what a scope and a service
//! account may look like. Both end up in URLs (the metadata server's query,
//! the IAM Credentials path), so they are checked strictly.

pub mod adc;
pub mod audience;
pub mod iam;
pub mod metadata;
pub mod python_json;
pub mod sts;

pub use audience::{gke_sts_audience, workload_identity_pool_audience, workload_identity_provider_audience};

use crate::credentials::{AccessToken, RegistryCredentials};
use crate::error::{Error, Result, quoted};
use crate::host::check_dns_name;

/// The scopes Flux asks for: cloud-platform and userinfo.email.
pub const DEFAULT_SCOPES: &[&str] =
    &["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"];

/// The docker user name Artifact Registry and GCR take with an access token.
pub const REGISTRY_USERNAME: &str = "oauth2accesstoken";

/// Docker credentials for Artifact Registry and GCR.
pub fn registry_credentials(token: &AccessToken) -> RegistryCredentials {
    RegistryCredentials {
        username: REGISTRY_USERNAME.to_owned(),
        password: token.token.clone(),
        expires_at: Some(token.expires_at),
    }
}

/// Checks a list of OAuth scopes that must not be empty.
pub fn check_scopes(scopes: &[String]) -> Result<()> {
    if scopes.is_empty() {
        return Err(Error::invalid("no scopes given"));
    }
    scopes.iter().try_for_each(|s| check_scope(s))
}

/// A scope is one token: STS joins scopes with spaces and the metadata server
/// with commas, so neither (nor any whitespace or control character) may
/// appear inside one.
pub fn check_scope(scope: &str) -> Result<()> {
    if scope.is_empty() {
        return Err(Error::invalid("a scope is empty"));
    }
    if scope.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',') {
        return Err(Error::invalid(format!(
            "scope {} contains whitespace, a comma or a control character",
            quoted(scope)
        )));
    }
    Ok(())
}

/// Longest service account e-mail accepted (the local part of a Google
/// service account is at most 30 characters, its domain well under 100).
const MAX_SERVICE_ACCOUNT: usize = 254;

/// Checks a Google service account as IAM Credentials and the metadata server
/// take it in a URL path: its e-mail (`name@project.iam.gserviceaccount.com`,
/// `123-compute@developer.gserviceaccount.com`, ...) or its numeric unique ID.
/// Nothing else can reach the path: no `/`, `?`, `#`, `%`, `..`, whitespace.
pub fn check_service_account(account: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("service account {} is not valid: {why}", quoted(account)));
    if account.is_empty() {
        return Err(bad("empty"));
    }
    if account.len() > MAX_SERVICE_ACCOUNT {
        return Err(bad("too long"));
    }
    if account.bytes().all(|b| b.is_ascii_digit()) {
        return if account.len() <= 30 { Ok(()) } else { Err(bad("unique ID too long")) };
    }
    let (local, domain) = account.split_once('@').ok_or_else(|| bad("not an e-mail address or unique ID"))?;
    let local_ok = (1..=64).contains(&local.len())
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Err(bad("invalid name before @"));
    }
    check_dns_name(domain).map_err(bad)?;
    let domain = domain.to_ascii_lowercase();
    if !domain.ends_with(".gserviceaccount.com") {
        return Err(bad("not a gserviceaccount.com address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn registry_credentials_use_the_oauth2_user() {
        let token = AccessToken { token: Secret::new("ya29.token"), expires_at: 1_705_323_599 };
        let creds = registry_credentials(&token);
        assert_eq!(creds.username, "oauth2accesstoken");
        assert_eq!(creds.password.expose(), "ya29.token");
        assert_eq!(creds.expires_at, Some(1_705_323_599));
        assert!(!format!("{creds:?}").contains("ya29"));
    }

    #[test]
    fn service_accounts() {
        for ok in [
            "wirecap-sa@my-project.iam.gserviceaccount.com",
            "123456789012-compute@developer.gserviceaccount.com",
            "my-project@appspot.gserviceaccount.com",
            "service-123@gcp-sa-artifactregistry.iam.gserviceaccount.com",
            "Name.Dots_x@P.IAM.GServiceAccount.com",
            "123456789012345678901",
        ] {
            check_service_account(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "default",
            "a@b.iam.gserviceaccount.com/../../x",
            "a/b@p.iam.gserviceaccount.com",
            "a@p.iam.gserviceaccount.com?x=1",
            "a@p.iam.gserviceaccount.com#x",
            "a%2F@p.iam.gserviceaccount.com",
            "a..b@p.iam.gserviceaccount.com",
            "..@p.iam.gserviceaccount.com",
            "a@p..iam.gserviceaccount.com",
            "a @p.iam.gserviceaccount.com",
            "a@p.iam.gserviceaccount.com\r\nX: y",
            "a@p.iam.gserviceaccount.com\0",
            "a@b@p.iam.gserviceaccount.com",
            "@p.iam.gserviceaccount.com",
            "a@",
            "a@evil.example",
            "a@gserviceaccount.com.evil.example",
            "a@xgserviceaccount.com",
            "1234567890123456789012345678901",
            &format!("{}@p.iam.gserviceaccount.com", "a".repeat(65)),
        ] {
            assert_eq!(check_service_account(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn scopes() {
        check_scopes(&["https://www.googleapis.com/auth/cloud-platform".to_owned()]).unwrap();
        assert!(check_scopes(&[]).is_err());
        for bad in ["", "a b", "a,b", "a\nb", "a\tb", "a\u{85}b"] {
            assert!(check_scope(bad).is_err(), "{bad:?}");
        }
    }
}
