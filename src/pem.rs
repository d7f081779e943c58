//! PEM (RFC 7468) blocks: the text form of keys and certificates in
//! credential files (Google service-account keys, Azure client
//! certificates, GitHub App keys).
//!
//! Only the strict form is read: `-----BEGIN <label>-----`, base64 lines,
//! `-----END <label>-----`, with anything outside blocks ignored (OpenSSL
//! writes "Bag Attributes" and comments there). Decoding errors never quote
//! the block: it may be a private key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// One decoded block.
pub struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The contents may be a private key.
        write!(f, "Block({}, {} bytes)", self.label, self.der.len())
    }
}

/// Every block of `text`, in order. `what` names the text in errors.
pub fn blocks(text: &str, what: &str) -> Result<Vec<Block>> {
    let bad = |why: &str| Error::invalid(format!("{what} is not valid PEM: {why}"));
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest.strip_suffix("-----").ok_or_else(|| bad("a BEGIN line is malformed"))?;
            if open.is_some() {
                return Err(bad("a block is not closed"));
            }
            open = Some((label.to_owned(), String::new()));
        } else if let Some(rest) = line.strip_prefix("-----END ") {
            let (label, body) = open.take().ok_or_else(|| bad("an END line has no BEGIN"))?;
            if rest.strip_suffix("-----") != Some(label.as_str()) {
                return Err(bad("a block is closed by a different label"));
            }
            let der = STANDARD.decode(body.as_bytes()).map_err(|_| bad("a block is not base64"))?;
            if der.is_empty() {
                return Err(bad("a block is empty"));
            }
            out.push(Block { label, der });
        } else if let Some((_, body)) = open.as_mut() {
            // RFC 1421 headers (Proc-Type, DEK-Info) mark an encrypted key.
            if line.contains(':') {
                return Err(Error::unsupported(format!("{what} holds an encrypted PEM block, which is not supported")));
            }
            body.push_str(line);
        }
    }
    if open.is_some() {
        return Err(bad("a block is not closed"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks_and_skips_text_between() {
        let text = "Bag Attributes\n-----BEGIN A-----\nAQID\n-----END A-----\nx\n-----BEGIN B C-----\nBA==\n-----END B C-----\n";
        let got = blocks(text, "the file").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].label.as_str(), got[0].der.as_slice()), ("A", &[1u8, 2, 3][..]));
        assert_eq!((got[1].label.as_str(), got[1].der.as_slice()), ("B C", &[4u8][..]));
    }

    #[test]
    fn refuses_broken_blocks_without_quoting_them() {
        for text in [
            "-----BEGIN A-----\nAQID\n",
            "-----END A-----\n",
            "-----BEGIN A-----\nAQID\n-----END B-----\n",
            "-----BEGIN A-----\n!!!!\n-----END A-----\n",
            "-----BEGIN A-----\n-----END A-----\n",
            "-----BEGIN A\nAQID\n-----END A-----\n",
        ] {
            let e = blocks(text, "the key").unwrap_err();
            assert_eq!(e.kind(), "invalid-input", "{text}");
            assert!(!e.to_string().contains("AQID"), "{e}");
        }
        let encrypted =
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAQID\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(blocks(encrypted, "the key").unwrap_err().kind(), "unsupported");
    }
}
