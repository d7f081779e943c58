//! The two values of a kubeconfig a REST config needs: the API server of the
//! current context's cluster and that cluster's CA data.
//!
//! client-go's `RESTConfigFromKubeConfig`, which Flux calls on the
//! kubeconfigs AKS hands out, resolves `current-context` to a context, the
//! context to a cluster by name, and reads `server` and
//! `certificate-authority-data` there. The same resolution is done here,
//! strictly: every name must match exactly one entry. The `users` section
//! (an exec plugin, or a token for local accounts) is never read.

use super::yaml::{self, Node};
use crate::error::{Error, Result};

/// What a kubeconfig says about the cluster of its current context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KubeconfigCluster {
    /// `server`, as written.
    pub server: String,
    /// `certificate-authority-data`: base64 of the PEM bundle.
    pub ca_data_base64: Option<String>,
}

/// The root keys resolution reads; all others are skipped unread.
const ROOT_KEYS: &[&str] = &["current-context", "contexts", "clusters"];

/// Resolves the current context's cluster of a kubeconfig (YAML text).
pub(crate) fn current_cluster(text: &str) -> Result<KubeconfigCluster> {
    let root = yaml::parse_root(text, ROOT_KEYS)?;
    let context_name = required_str(&root, "current-context", "current-context")?;
    let context = named_entry(&root, "contexts", "context", context_name)?;
    let cluster_name = required_str(context, "cluster", "the current context's cluster")?;
    let cluster = named_entry(&root, "clusters", "cluster", cluster_name)?;
    let server = required_str(cluster, "server", "the cluster's server")?.to_owned();
    let ca_data_base64 = match cluster.get("certificate-authority-data")? {
        None | Some(Node::Null) => None,
        Some(node) => Some(node.as_str("the cluster's certificate-authority-data")?.to_owned()),
    };
    Ok(KubeconfigCluster { server, ca_data_base64 })
}

/// A non-empty string at `key`.
fn required_str<'a>(map: &'a Node, key: &str, what: &str) -> Result<&'a str> {
    match map.get(key)? {
        None | Some(Node::Null) => Err(Error::malformed(format!("kubeconfig has no {what}"))),
        Some(node) => match node.as_str(what)? {
            "" => Err(Error::malformed(format!("kubeconfig has an empty {what}"))),
            s => Ok(s),
        },
    }
}

/// In the list at `list` (`contexts`, `clusters`), the one entry named
/// `name`; returns its body (`context`, `cluster`). Names are compared
/// exactly, as client-go does; no match or two matches is an error.
fn named_entry<'a>(root: &'a Node, list: &str, body: &str, name: &str) -> Result<&'a Node> {
    let entries = match root.get(list)? {
        Some(Node::Seq(entries)) => entries,
        None | Some(Node::Null) => return Err(Error::malformed(format!("kubeconfig has no {list}"))),
        Some(_) => return Err(Error::malformed(format!("kubeconfig {list} is not a list"))),
    };
    let mut found = None;
    for entry in entries {
        if required_str(entry, "name", &format!("{list} entry name"))? != name {
            continue;
        }
        if found.is_some() {
            return Err(Error::malformed(format!("kubeconfig {list} has two entries of the same name")));
        }
        found = Some(entry);
    }
    let entry = found
        .ok_or_else(|| Error::malformed(format!("kubeconfig {list} has no entry named by the current context")))?;
    match entry.get(body)? {
        Some(node @ Node::Map(_)) => Ok(node),
        _ => Err(Error::malformed(format!("kubeconfig {list} entry has no {body} mapping"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An AKS `clusterUser` kubeconfig for an Entra-enabled cluster, in the
    /// shape the service writes it (exec plugin with a block-scalar hint).
    pub(crate) const AKS_KUBECONFIG: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1ERXlNelExTmpjNE9UbzdQRDArUDBCQlFrTkVSVVpIU0VsS1MweE5UazlRVVZKVFZGVldWdz09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
    server: https://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443
  name: myaks
contexts:
- context:
    cluster: myaks
    user: clusterUser_rg1_myaks
  name: myaks
current-context: myaks
kind: Config
preferences: {}
users:
- name: clusterUser_rg1_myaks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |2

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://aka.ms/aks/kubelogin
      interactiveMode: IfAvailable
      provideClusterInfo: false
";

    #[test]
    fn reads_the_aks_kubeconfig() {
        let got = current_cluster(AKS_KUBECONFIG).unwrap();
        assert_eq!(got.server, "https://myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io:443");
        assert!(got.ca_data_base64.unwrap().starts_with("LS0tLS1CRUdJTi"));
    }

    /// No prefix of a real kubeconfig, and no single-character edit of it,
    /// makes the reader panic; every outcome is a value or an error.
    #[test]
    fn truncations_and_edits_never_panic() {
        let doc = AKS_KUBECONFIG;
        for (i, _) in doc.char_indices() {
            let _ = current_cluster(&doc[..i]);
        }
        for (i, _) in doc.char_indices().step_by(3) {
            for c in ["\t", ":", "-", " ", "\"", "'", "#", "|", "{", "&", "\n", "\r", "é", "\u{0}"] {
                let edited = format!("{}{c}{}", &doc[..i], &doc[i..]);
                if let Ok(got) = current_cluster(&edited) {
                    assert!(!got.server.contains('\n'));
                }
            }
        }
    }

    #[test]
    fn follows_the_current_context() {
        let doc = "current-context: b
contexts:
  - name: a
    context: {cluster: one}
  - name: b
    context:
      cluster: two
clusters:
  - name: one
    cluster:
      server: https://one.example
  - name: two
    cluster:
      server: \"https://two.example:6443\"
      certificate-authority-data: null
users:
  - name: x
    user:
      token: very-secret
";
        let got = current_cluster(doc).unwrap();
        assert_eq!(got, KubeconfigCluster { server: "https://two.example:6443".into(), ca_data_base64: None });
    }

    #[test]
    fn resolution_errors() {
        let base = |current: &str, contexts: &str, clusters: &str| {
            format!("current-context: {current}\ncontexts:\n{contexts}clusters:\n{clusters}")
        };
        let ctx = "- name: c\n  context:\n    cluster: k\n";
        let cl = "- name: k\n  cluster:\n    server: https://k.example\n";
        assert!(current_cluster(&base("c", ctx, cl)).is_ok());
        let cases = [
            base("\"\"", ctx, cl),
            base("other", ctx, cl),
            base("c", &format!("{ctx}{ctx}"), cl),
            base("c", ctx, &format!("{cl}{cl}")),
            base("c", "- name: c\n  context:\n    user: u\n", cl),
            base("c", "- name: c\n", cl),
            base("c", "- name: c\n  context: k\n", cl),
            base("c", ctx, "- name: other\n  cluster:\n    server: https://k.example\n"),
            base("c", ctx, "- name: k\n  cluster:\n    insecure-skip-tls-verify: true\n"),
            base("c", ctx, "- name: k\n  cluster:\n    server: |\n      https://k.example\n"),
            base("c", ctx, "- name: k\n  cluster:\n    server: [https://k.example]\n"),
            base("c", ctx, "- cluster:\n    server: https://k.example\n"),
            base("c", ctx, "  name: k\n"),
            format!("contexts:\n{ctx}clusters:\n{cl}"),
            format!("current-context: c\nclusters:\n{cl}"),
            format!("current-context: c\ncontexts:\n{ctx}"),
            format!("current-context: c\ncurrent-context: c\ncontexts:\n{ctx}clusters:\n{cl}"),
            format!("current-context: c\ncontexts: x\nclusters:\n{cl}"),
            base("c", ctx, "- name: k\n  cluster:\n    server: https://a\n    server: https://b\n"),
        ];
        for doc in cases {
            let err = current_cluster(&doc).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{doc}");
        }
    }
}
