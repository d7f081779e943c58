//! Placeholders: how a plan shows requests without any secret in them.
//!
//! The plan calls the real request builders, which validate their inputs (a
//! tenant must be a GUID or a domain, a role ARN must be an ARN). So it
//! passes stand-in values the builders accept, such as
//! `placeholder-tenant-id`, and replaces them by `<tenant-id>` when printing.
//! The stand-ins use only URL-unreserved characters, so they read the same
//! percent-encoded or not. Authorization-like headers are redacted on top:
//! whatever is not a placeholder in them is replaced.

/// Stand-in values the plan passes to the builders.
pub mod stand_in {
    pub const TENANT_ID: &str = "placeholder-tenant-id";
    pub const CLIENT_ID: &str = "PLACEHOLDER-CLIENT-ID";
    pub const SERVICE_ACCOUNT_TOKEN: &str = "PLACEHOLDER-SERVICE-ACCOUNT-TOKEN";
    pub const ENTRA_ACCESS_TOKEN: &str = "PLACEHOLDER-ENTRA-ACCESS-TOKEN";
    pub const SCOPE: &str = "PLACEHOLDER-SCOPE";
    pub const ROLE_NAME: &str = "PLACEHOLDER-ROLE-NAME";
    /// A syntactically valid account for an ARN when the target names none.
    pub const ACCOUNT_ID: &str = "999999999999";
    pub const SESSION_NAME: &str = "PLACEHOLDER-SESSION-NAME";
    pub const AWS_SESSION_TOKEN: &str = "PLACEHOLDER-AWS-SESSION-TOKEN";
    /// The public example keys of the AWS documentation: not a secret.
    pub const AWS_ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
    pub const AWS_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    pub const GCP_PROVIDER_AUDIENCE: &str = "//iam.googleapis.com/projects/PLACEHOLDER-PROJECT-NUMBER/locations/global/workloadIdentityPools/PLACEHOLDER-POOL-ID/providers/PLACEHOLDER-PROVIDER-ID";
    pub const GCP_SERVICE_ACCOUNT: &str = "placeholder-gsa-name@placeholder-project-id.iam.gserviceaccount.com";
    pub const FEDERATED_ACCESS_TOKEN: &str = "PLACEHOLDER-FEDERATED-ACCESS-TOKEN";
}

/// Each stand-in (or a distinctive part of one) and what to print instead.
/// Longer entries first, so that a whole value wins over its parts.
const SHOWN_AS: &[(&str, &str)] = &[
    ("arn:aws:iam::999999999999:", "arn:aws:iam::<account-id>:"),
    ("PLACEHOLDER-PROJECT-NUMBER", "<project-number>"),
    ("PLACEHOLDER-POOL-ID", "<pool-id>"),
    ("PLACEHOLDER-PROVIDER-ID", "<provider-id>"),
    ("placeholder-gsa-name", "<gsa-name>"),
    ("placeholder-project-id", "<project-id>"),
    ("PLACEHOLDER-FEDERATED-ACCESS-TOKEN", "<federated-access-token>"),
    ("placeholder-tenant-id", "<tenant-id>"),
    ("PLACEHOLDER-CLIENT-ID", "<client-id>"),
    ("PLACEHOLDER-SERVICE-ACCOUNT-TOKEN", "<service-account-token>"),
    ("PLACEHOLDER-ENTRA-ACCESS-TOKEN", "<entra-access-token>"),
    ("PLACEHOLDER-SCOPE", "<scope>"),
    ("PLACEHOLDER-ROLE-NAME", "<role-name>"),
    ("PLACEHOLDER-SESSION-NAME", "<session-name>"),
    ("PLACEHOLDER-AWS-SESSION-TOKEN", "<aws-session-token>"),
];

/// `text` with every stand-in replaced by its placeholder.
pub fn show(text: &str) -> String {
    SHOWN_AS.iter().fold(text.to_string(), |t, (stand_in, shown)| t.replace(stand_in, shown))
}

/// Headers whose values carry credentials.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "x-amz-security-token", "cookie"];

/// A header value for printing: placeholders shown, and for a credential
/// header everything that is not a placeholder redacted. The scheme
/// (`Bearer`, `Basic`) stays; a SigV4 header keeps its credential scope and
/// signed headers (the key id is the public example key) but not its
/// signature.
pub fn header_value(name: &str, value: &str) -> String {
    let value = show(value);
    if !CREDENTIAL_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        return value;
    }
    if let Some(sigv4) = value.strip_prefix("AWS4-HMAC-SHA256 ") {
        let parts: Vec<String> = sigv4
            .split(", ")
            .map(|part| match part.split_once('=') {
                Some(("Signature", _)) => "Signature=<signature>".to_string(),
                _ => part.to_string(),
            })
            .collect();
        return format!("AWS4-HMAC-SHA256 {}", parts.join(", "));
    }
    let (scheme, credential) = match value.split_once(' ') {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, value.as_str()),
    };
    let credential = if is_placeholder(credential) {
        credential.to_string()
    } else {
        match scheme {
            Some(s) if s.eq_ignore_ascii_case("basic") => "<base64 user:password>".to_string(),
            _ => "<redacted>".to_string(),
        }
    };
    match scheme {
        Some(scheme) => format!("{scheme} {credential}"),
        None => credential,
    }
}

fn is_placeholder(text: &str) -> bool {
    text.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .is_some_and(|inner| !inner.is_empty() && !inner.contains(['<', '>']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_shown_as_placeholders() {
        assert_eq!(
            show("https://login.microsoftonline.com/placeholder-tenant-id/oauth2/v2.0/token"),
            "https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token"
        );
        assert_eq!(
            show("arn:aws:iam::999999999999:role/PLACEHOLDER-ROLE-NAME"),
            "arn:aws:iam::<account-id>:role/<role-name>"
        );
        assert_eq!(show(stand_in::GCP_SERVICE_ACCOUNT), "<gsa-name>@<project-id>.iam.gserviceaccount.com");
    }

    #[test]
    fn every_stand_in_is_url_unreserved() {
        for (stand_in, _) in SHOWN_AS.iter().filter(|(s, _)| !s.starts_with("arn:")) {
            assert!(stand_in.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)), "{stand_in}");
        }
    }

    #[test]
    fn credential_headers_are_redacted() {
        assert_eq!(
            header_value("Authorization", "Bearer PLACEHOLDER-ENTRA-ACCESS-TOKEN"),
            "Bearer <entra-access-token>"
        );
        assert_eq!(header_value("authorization", "Bearer ya29.real"), "Bearer <redacted>");
        assert_eq!(header_value("Authorization", "Basic dTpw"), "Basic <base64 user:password>");
        assert_eq!(header_value("X-Amz-Security-Token", "FwoGZX"), "<redacted>");
        assert_eq!(header_value("X-Amz-Security-Token", "PLACEHOLDER-AWS-SESSION-TOKEN"), "<aws-session-token>");
        assert_eq!(
            header_value(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123"
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=<signature>"
        );
        assert_eq!(header_value("Content-Type", "application/json"), "application/json");
    }
}
