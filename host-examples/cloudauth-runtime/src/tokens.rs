//! Identity tokens, as a session asks for them (`fetch-identity-token`).
//!
//! For the host's own identity the session names the token file of the
//! SDK convention (`AWS_WEB_IDENTITY_TOKEN_FILE`,
//! `AZURE_FEDERATED_TOKEN_FILE`, ...); for a service account the host must
//! get that account's token (the kubelet hands the pod's over; a controller
//! would call the TokenRequest API). [`IdentitySource`] is that step;
//! [`TokenFiles`] is the usual implementation.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use tokio::io::AsyncReadExt;

use crate::bindings::api::session::IdentityTokenRequest;
use crate::secret::Secret;

/// The longest token read from a file; the component refuses tokens over
/// 64 KiB, so one byte more lets a too-long file fail clearly here.
const MAX_TOKEN_BYTES: u64 = 64 * 1024 + 1;

/// Gets the identity tokens a session asks for.
pub trait IdentitySource: Send + Sync {
    /// The token for `request`, or why there is none (a message naming the
    /// file or the account, never a token).
    fn token<'a>(
        &'a self,
        request: &'a IdentityTokenRequest,
    ) -> Pin<Box<dyn Future<Output = Result<Secret<String>, String>> + Send + 'a>>;
}

/// Tokens from files, and a service-account token handed over by a caller.
#[derive(Clone, Debug, Default)]
pub struct TokenFiles {
    /// Read this file for every token of the host's own identity, instead
    /// of the file the session names (`--token-file`).
    pub token_file: Option<PathBuf>,
    /// The token given when the session asks for a service account's token
    /// (the kubelet's `serviceAccountToken`).
    pub service_account_token: Option<Secret<String>>,
}

impl IdentitySource for TokenFiles {
    fn token<'a>(
        &'a self,
        request: &'a IdentityTokenRequest,
    ) -> Pin<Box<dyn Future<Output = Result<Secret<String>, String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some((namespace, name)) = &request.service_account {
                return self.service_account_token.clone().ok_or_else(|| {
                    format!("the flow needs the token of service account {namespace}/{name}, and none was given")
                });
            }
            let file = match (&self.token_file, &request.file) {
                (Some(file), _) => file.clone(),
                (None, Some(file)) => PathBuf::from(file),
                (None, None) => {
                    return Err(format!(
                        "the flow needs an identity token with audience {:?} and names no token file; give one (--token-file)",
                        request.audience
                    ));
                }
            };
            read_token_file(&file).await
        })
    }
}

/// One trimmed line from `file`.
pub async fn read_token_file(file: &std::path::Path) -> Result<Secret<String>, String> {
    let shown = file.display();
    let opened =
        tokio::fs::File::open(file).await.map_err(|e| format!("cannot read the identity token file {shown}: {e}"))?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_TOKEN_BYTES)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| format!("cannot read the identity token file {shown}: {e}"))?;
    if bytes.len() as u64 >= MAX_TOKEN_BYTES {
        return Err(format!("the identity token file {shown} is larger than 64 KiB"));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("the identity token file {shown} is not UTF-8"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the identity token file {shown} is empty"));
    }
    Ok(Secret::new(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn the_token_file_option_wins_over_the_file_the_flow_names() {
        let dir = std::env::temp_dir().join(format!("cloudauth-runtime-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (flow_file, option_file) = (dir.join("flow"), dir.join("option"));
        std::fs::write(&flow_file, "flow-token\n").unwrap();
        std::fs::write(&option_file, "option-token").unwrap();
        let request = IdentityTokenRequest {
            audience: "api://AzureADTokenExchange".into(),
            service_account: None,
            file: Some(flow_file.to_str().unwrap().into()),
        };
        assert_eq!(block_on(TokenFiles::default().token(&request)).unwrap().expose(), "flow-token");
        let with_option = TokenFiles { token_file: Some(option_file), service_account_token: None };
        assert_eq!(block_on(with_option.token(&request)).unwrap().expose(), "option-token");
        let no_file = IdentityTokenRequest { file: None, ..request.clone() };
        assert!(block_on(TokenFiles::default().token(&no_file)).unwrap_err().contains("--token-file"));
        std::fs::write(&flow_file, " \n").unwrap();
        assert!(block_on(TokenFiles::default().token(&request)).unwrap_err().contains("is empty"));
        std::fs::write(&flow_file, "a".repeat(70 * 1024)).unwrap();
        assert!(block_on(TokenFiles::default().token(&request)).unwrap_err().contains("larger than 64 KiB"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn service_account_tokens_come_only_from_the_caller() {
        let request = IdentityTokenRequest {
            audience: "sts.amazonaws.com".into(),
            service_account: Some(("default".into(), "app".into())),
            file: None,
        };
        let missing = block_on(TokenFiles::default().token(&request)).unwrap_err();
        assert!(missing.contains("service account default/app"), "{missing}");
        let given = TokenFiles { token_file: None, service_account_token: Some(Secret::new("pod-token".into())) };
        assert_eq!(block_on(given.token(&request)).unwrap().expose(), "pod-token");
    }
}
