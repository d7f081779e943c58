//! The JSON credentials document that both the container credentials
//! endpoint (ECS, EKS Pod Identity) and EC2 instance metadata serve:
//! `AccessKeyId`, `SecretAccessKey`, `Token` and an RFC 3339 `Expiration`,
//! all required, as the AWS SDKs read it. IMDS adds `Code`, which its
//! reader checks first.

use serde_json::Value;

use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::response::opt_string;
use crate::secret::Secret;
use crate::time::parse_rfc3339;

/// The credentials of a parsed document; `source` names it in errors
/// ("the container credentials", "IMDS credentials").
pub fn read(doc: &Value, source: &str) -> Result<AwsCredentials> {
    let field = |name: &str| -> Result<String> {
        match opt_string(doc, name)? {
            Some(v) if !v.is_empty() && !crate::http::has_control(&v) => Ok(v),
            _ => Err(Error::malformed(format!("{source} have no valid {name}"))),
        }
    };
    let access_key_id = field("AccessKeyId")?;
    let secret_access_key = Secret::new(field("SecretAccessKey")?);
    let session_token = Some(Secret::new(field("Token")?));
    let expires_at = Some(parse_rfc3339(&field("Expiration")?)?);
    Ok(AwsCredentials { access_key_id, secret_access_key, session_token, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_required_and_single_line() {
        let ok = serde_json::json!({
            "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "Token": "t",
            "Expiration": "2026-01-01T06:00:00Z"
        });
        let c = read(&ok, "the container credentials").unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key.expose(), "s");
        assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("t"));
        assert_eq!(c.expires_at, Some(1_767_247_200));
        for name in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
            for bad in [Value::Null, Value::from(""), Value::from("a\nb"), Value::from(3)] {
                let mut doc = ok.clone();
                doc[name] = bad.clone();
                let err = read(&doc, "IMDS credentials").unwrap_err();
                assert_eq!(err.kind(), "malformed-response", "{name} = {bad}");
            }
            let mut doc = ok.clone();
            doc.as_object_mut().unwrap().remove(name);
            let err = read(&doc, "IMDS credentials").unwrap_err();
            assert_eq!(err.to_string(), format!("malformed response: IMDS credentials have no valid {name}"));
        }
    }
}
