//! The little DER (X.690) that RS256 keys need, and nothing more: reading
//! an RSA private key as PKCS#8 `PrivateKeyInfo` (RFC 5208 / RFC 5958) or
//! PKCS#1 `RSAPrivateKey` (RFC 8017 A.1.2), and writing the public key's
//! `SubjectPublicKeyInfo` (RFC 5280 4.1, RFC 8017 A.1.1).
//!
//! Why not the `der`/`pkcs1`/`pkcs8`/`spki` crates: they are general ASN.1
//! machinery and cost ~35 KB of the component (docs/size.md) for three
//! fixed structures. This reader knows only those structures.
//!
//! It is strict: definite lengths in their shortest form, one-byte tags,
//! INTEGERs in their shortest form and non-negative, no bytes after a
//! structure, and integers of at most [`MAX_INT_BYTES`]. It slices the
//! input and never indexes past it, so no input makes it panic. Errors
//! carry a fixed reason and never any of the key's bytes.

/// Universal tags used here.
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// PKCS#8 `[0] IMPLICIT Attributes` (a SET OF, so constructed).
const ATTRIBUTES: u8 = 0xA0;
/// RFC 5958 `[1] IMPLICIT PublicKey` (a BIT STRING, so primitive).
const PUBLIC_KEY: u8 = 0x81;

/// The content of the OID rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: [u8; 9] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// Largest integer magnitude read: 16384 bits. Twice the largest key that
/// is signed with, so that a too-large key is still read and reported by
/// its size; anything bigger is not taken for a key at all.
pub const MAX_INT_BYTES: usize = 2048;

/// Why a key was not read. `reason` is fixed text, never key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerError {
    /// Not the DER of the expected structure.
    Malformed(&'static str),
    /// A PKCS#1 key of version 1 (multi-prime, RFC 8017 A.1.2).
    MultiPrime,
}

impl std::fmt::Display for DerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DerError::Malformed(reason) => f.write_str(reason),
            DerError::MultiPrime => f.write_str("a multi-prime RSA key (PKCS#1 version 1)"),
        }
    }
}

type Result<T> = std::result::Result<T, DerError>;

fn malformed<T>(reason: &'static str) -> Result<T> {
    Err(DerError::Malformed(reason))
}

/// The parts of a two-prime RSA private key that build it: big-endian
/// magnitudes, without a sign byte, never empty and never zero. They
/// borrow the secret DER, so they are not printed.
pub struct RsaPrivateKey<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
    pub d: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
}

impl std::fmt::Debug for RsaPrivateKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateKey(<redacted>)")
    }
}

/// A cursor over DER elements; each read takes one whole element.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(der: &'a [u8]) -> Self {
        Reader { rest: der }
    }

    /// The next element's tag, if any bytes are left.
    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: its tag and content.
    fn element(&mut self) -> Result<(u8, &'a [u8])> {
        let [tag, first, rest @ ..] = self.rest else {
            return malformed("truncated");
        };
        // 0x1F in the low bits is the multi-byte tag form: no key uses it.
        if tag & 0x1F == 0x1F {
            return malformed("multi-byte tag");
        }
        let (len, rest) = match *first {
            short @ 0..=0x7F => (usize::from(short), rest),
            0x80 => return malformed("indefinite length"),
            // Up to three length bytes: far beyond any key, and cannot overflow.
            long @ 0x81..=0x83 => {
                let count = usize::from(long & 0x7F);
                let Some((bytes, rest)) = rest.split_at_checked(count) else {
                    return malformed("truncated");
                };
                if bytes.first() == Some(&0) {
                    return malformed("length not minimal");
                }
                let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                if len < 0x80 {
                    return malformed("length not minimal");
                }
                (len, rest)
            }
            _ => return malformed("length too long"),
        };
        let Some((content, rest)) = rest.split_at_checked(len) else {
            return malformed("truncated");
        };
        self.rest = rest;
        Ok((*tag, content))
    }

    /// The next element, which must have tag `want`.
    fn expect(&mut self, want: u8) -> Result<&'a [u8]> {
        match self.element()? {
            (tag, content) if tag == want => Ok(content),
            _ => malformed("unexpected element"),
        }
    }

    /// A non-negative INTEGER as its magnitude (no sign byte; empty for 0).
    fn unsigned(&mut self) -> Result<&'a [u8]> {
        let content = self.expect(INTEGER)?;
        let magnitude = match content {
            [] => return malformed("empty integer"),
            [first, ..] if first & 0x80 != 0 => return malformed("negative integer"),
            // A 0x00 is only the sign byte in front of a set top bit.
            [0, next, ..] if next & 0x80 == 0 => return malformed("integer not minimal"),
            [0, rest @ ..] => rest,
            _ => content,
        };
        if magnitude.len() > MAX_INT_BYTES {
            return malformed("integer too large");
        }
        Ok(magnitude)
    }

    /// A positive INTEGER's magnitude: what every key component must be.
    fn positive(&mut self) -> Result<&'a [u8]> {
        match self.unsigned()? {
            [] => malformed("zero integer"),
            magnitude => Ok(magnitude),
        }
    }

    /// A small non-negative INTEGER (a version).
    fn small(&mut self) -> Result<u8> {
        match self.unsigned()? {
            [] => Ok(0),
            [value] => Ok(*value),
            _ => malformed("version too large"),
        }
    }

    /// Nothing may follow the last element.
    fn finish(&self) -> Result<()> {
        if self.rest.is_empty() { Ok(()) } else { malformed("trailing bytes") }
    }
}

/// Reads a DER PKCS#8 `PrivateKeyInfo` that holds an RSA key:
///
/// ```text
/// PrivateKeyInfo ::= SEQUENCE {
///   version             INTEGER (0 | 1),
///   privateKeyAlgorithm SEQUENCE { OID rsaEncryption, NULL or absent },
///   privateKey          OCTET STRING (a PKCS#1 RSAPrivateKey),
///   attributes          [0] IMPLICIT SET OF ... OPTIONAL,   -- skipped
///   publicKey           [1] IMPLICIT BIT STRING OPTIONAL }  -- only with version 1
/// ```
pub fn read_pkcs8(der: &[u8]) -> Result<RsaPrivateKey<'_>> {
    let mut outer = Reader::new(der);
    let mut info = Reader::new(outer.expect(SEQUENCE)?);
    outer.finish()?;
    let version = info.small()?;
    if version > 1 {
        return malformed("unknown PKCS#8 version");
    }
    let mut algorithm = Reader::new(info.expect(SEQUENCE)?);
    if algorithm.expect(OID)? != RSA_ENCRYPTION {
        return malformed("not an rsaEncryption key");
    }
    if algorithm.peek_tag().is_some() && !algorithm.expect(NULL)?.is_empty() {
        return malformed("rsaEncryption parameters not NULL");
    }
    algorithm.finish()?;
    let private_key = info.expect(OCTET_STRING)?;
    if info.peek_tag() == Some(ATTRIBUTES) {
        info.element()?;
    }
    // RFC 5958: the public key is present exactly when the version is 1.
    let has_public_key = info.peek_tag() == Some(PUBLIC_KEY);
    if has_public_key {
        match info.expect(PUBLIC_KEY)? {
            [unused, ..] if *unused <= 7 => {}
            _ => return malformed("bad public key bit string"),
        }
    }
    if has_public_key != (version == 1) {
        return malformed("PKCS#8 version does not match its public key");
    }
    info.finish()?;
    read_pkcs1(private_key)
}

/// Reads a DER PKCS#1 `RSAPrivateKey` of version 0 (two primes):
///
/// ```text
/// RSAPrivateKey ::= SEQUENCE {
///   version INTEGER (0), modulus n, publicExponent e, privateExponent d,
///   prime1 p, prime2 q, exponent1 d mod (p-1), exponent2 d mod (q-1),
///   coefficient (inverse of q) mod p }
/// ```
///
/// The CRT values are checked to be well-formed but not used: the key is
/// rebuilt from n, e, d, p and q, which `rsa` validates.
pub fn read_pkcs1(der: &[u8]) -> Result<RsaPrivateKey<'_>> {
    let mut outer = Reader::new(der);
    let mut key = Reader::new(outer.expect(SEQUENCE)?);
    outer.finish()?;
    match key.small()? {
        0 => {}
        1 => return Err(DerError::MultiPrime),
        _ => return malformed("unknown PKCS#1 version"),
    }
    let parts = RsaPrivateKey {
        n: key.positive()?,
        e: key.positive()?,
        d: key.positive()?,
        p: key.positive()?,
        q: key.positive()?,
    };
    for _crt in 0..3 {
        key.positive()?;
    }
    key.finish()?;
    Ok(parts)
}

/// The bit length of a magnitude as read above (first byte non-zero).
pub fn bit_len(magnitude: &[u8]) -> u32 {
    match magnitude.split_first() {
        // Lengths are bounded by MAX_INT_BYTES, so this fits.
        Some((first, rest)) => (rest.len() as u32) * 8 + (8 - first.leading_zeros()),
        None => 0,
    }
}

/// Appends one element: tag, shortest definite length, content.
fn write(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let bytes = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(content);
}

/// Appends a non-negative INTEGER from big-endian bytes (leading zeros
/// allowed): shortest form, with a 0x00 sign byte before a set top bit.
fn write_unsigned(out: &mut Vec<u8>, be: &[u8]) {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let magnitude = be.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    write(out, INTEGER, &content);
}

/// The DER `SubjectPublicKeyInfo` of the RSA public key (n, e), as
/// certificates and `openssl pkey -pubout -outform DER` hold it:
///
/// ```text
/// SEQUENCE { SEQUENCE { OID rsaEncryption, NULL },
///            BIT STRING { 0 unused bits, SEQUENCE { INTEGER n, INTEGER e } } }
/// ```
///
/// `n` and `e` are big-endian and may have leading zeros.
pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut rsa_public_key = Vec::new();
    write_unsigned(&mut rsa_public_key, n);
    write_unsigned(&mut rsa_public_key, e);
    let mut bits = vec![0u8];
    write(&mut bits, SEQUENCE, &rsa_public_key);

    let mut algorithm = Vec::new();
    write(&mut algorithm, OID, &RSA_ENCRYPTION);
    write(&mut algorithm, NULL, &[]);

    let mut info = Vec::new();
    write(&mut info, SEQUENCE, &algorithm);
    write(&mut info, BIT_STRING, &bits);
    let mut out = Vec::with_capacity(info.len() + 4);
    write(&mut out, SEQUENCE, &info);
    out
}

#[cfg(test)]
pub(crate) mod tests;
