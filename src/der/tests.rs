use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PKCS8_2048: &str = include_str!("../../tests/data/test-rsa-pkcs8.pem");
const PKCS1_2048: &str = include_str!("../../tests/data/test-rsa-pkcs1.pem");
const PKCS8_3072: &str = include_str!("../../tests/data/test-rsa3072-pkcs8.pem");
const PKCS1_3072: &str = include_str!("../../tests/data/test-rsa3072-pkcs1.pem");

/// `openssl pkey -in test-rsa-pkcs8.pem -pubout -outform DER | base64 -w0`.
pub const SPKI_2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsifxiIituXWuZOapF6HoSbHILadccltEHW0XAhUPvAlFxJJNImVUtCNrrknEesaCcrq+erdjfESIyqm1Kg8sPoL3EKV/cyyLV3oa8XaO7ba/L+4py6V7epcROHAG590uIspwDugY5L/afHmzYilsn83SI/zGaQobAu52FyBPoE4fUUQp6xO0hPk7yWvrw7CppZOz81vrm7vtGPgz9uCz6qXxOduQVdNzVmCt9K7aBBYfl19PipaOy8RJGZH+6s+Ii7D9xlGArDOhYTanPs+IPN1ml4iOx7XKuLOnQcof3tBUurMg8cHjVbCdxI75GJehaRlrk6Bgn1BySlhOimnJVwIDAQAB";
/// `openssl pkey -in test-rsa3072-pkcs8.pem -pubout -outform DER | base64 -w0`.
pub const SPKI_3072: &str = "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA1UE3hPzX8tOLFTU2UpZWQMuFLrqtOlw06J3NPPI2sNK5LpC1AK/z3VFFsSuPWPYRgxrss+Ui5RMNFYwcJVZ372HgP0OpPtSo0vVheHPnLUbElCvBspE7U58rVnQstfpy8Bg+KF3M02q7YmkiG1TRQYeeB6MeXoWE7S89Pfz8yD96ho4cvcntiN4cL2LZeLZ11/pRgfW4CjyDtDyGBVcXB5rRouJH7in6RhjMbjnMCjjCls295GTx8pLiBNMEX4gk/qP7kUZJ8QbniedNqf/bOQVpmN5Ivs8esgcNVVp0HC+fk9kWaLPoDhIdYZrn9XlCdy9zrNylQVpfj1AmcMYmPl+/cZTAQiNWTpudMcQr2SKV4p9JnX0+xoN2BhEryY/Qz9YlSFi626jMc5cmfHMGvXa1kNmGFF+5iSWaKDD4Te6TEopKhYtTc1cUuo7UmacmEh9A3LKByQnKyPh0sPIt99hUwrlFPPXzShdGGG4BdB7yQM/RXf4zseaG/qo3tsBLAgMBAAE=";

pub fn spki_2048() -> Vec<u8> {
    STANDARD.decode(SPKI_2048).unwrap()
}

fn der_of(pem: &str) -> Vec<u8> {
    crate::pem::blocks(pem, "test").unwrap().remove(0).der
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, tag, content);
    out
}

fn int(be: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_unsigned(&mut out, be);
    out
}

/// The (tag, content) elements of a SEQUENCE's content, via the reader.
fn elements(content: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut reader = Reader::new(content);
    let mut out = Vec::new();
    while reader.peek_tag().is_some() {
        let (tag, content) = reader.element().unwrap();
        out.push((tag, content.to_vec()));
    }
    out
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// The nine PKCS#1 elements of the 2048-bit key, re-encoded one by one, so
/// that a test can change one.
fn pkcs1_parts() -> Vec<Vec<u8>> {
    let der = der_of(PKCS1_2048);
    let mut outer = Reader::new(&der);
    let content = outer.expect(SEQUENCE).unwrap();
    elements(content).into_iter().map(|(tag, content)| tlv(tag, &content)).collect()
}

/// A PKCS#8 wrapping of `pkcs1` with the given version, algorithm and tail.
fn pkcs8(version: u8, algorithm: &[u8], pkcs1: &[u8], tail: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![int(&[version]), algorithm.to_vec(), tlv(OCTET_STRING, pkcs1)];
    parts.extend_from_slice(tail);
    sequence(&parts)
}

fn rsa_algorithm() -> Vec<u8> {
    sequence(&[tlv(OID, &RSA_ENCRYPTION), tlv(NULL, &[])])
}

fn err(reason: &'static str) -> std::result::Result<(), DerError> {
    Err(DerError::Malformed(reason))
}

fn pkcs1_result(der: &[u8]) -> std::result::Result<(), DerError> {
    read_pkcs1(der).map(|_| ())
}

fn pkcs8_result(der: &[u8]) -> std::result::Result<(), DerError> {
    read_pkcs8(der).map(|_| ())
}

#[test]
fn reads_both_forms_of_the_same_key_alike() {
    for (p8, p1, bits) in [(PKCS8_2048, PKCS1_2048, 2048), (PKCS8_3072, PKCS1_3072, 3072)] {
        let (d8, d1) = (der_of(p8), der_of(p1));
        let (a, b) = (read_pkcs8(&d8).unwrap(), read_pkcs1(&d1).unwrap());
        assert_eq!((a.n, a.e, a.d, a.p, a.q), (b.n, b.e, b.d, b.p, b.q));
        assert_eq!(bit_len(a.n), bits);
        assert_eq!(a.e, [1, 0, 1]);
        assert_eq!(bit_len(a.p) + bit_len(a.q), bits);
        assert_eq!(format!("{a:?}"), "RsaPrivateKey(<redacted>)");
    }
}

#[test]
fn writes_the_spki_openssl_writes() {
    for (pem, expected) in [(PKCS1_2048, SPKI_2048), (PKCS1_3072, SPKI_3072)] {
        let der = der_of(pem);
        let key = read_pkcs1(&der).unwrap();
        assert_eq!(rsa_spki(key.n, key.e), STANDARD.decode(expected).unwrap());
        // Leading zero bytes (as a fixed-width bigint gives them) change nothing.
        let padded = [&[0u8; 9][..], key.n].concat();
        assert_eq!(rsa_spki(&padded, &[0, 0, 1, 0, 1]), STANDARD.decode(expected).unwrap());
    }
}

#[test]
fn writes_minimal_integers_and_lengths() {
    assert_eq!(int(&[]), [2, 1, 0]);
    assert_eq!(int(&[0, 0]), [2, 1, 0]);
    assert_eq!(int(&[0x7F]), [2, 1, 0x7F]);
    assert_eq!(int(&[0, 0x80]), [2, 2, 0, 0x80]);
    assert_eq!(int(&[1, 0, 1]), [2, 3, 1, 0, 1]);
    assert_eq!(tlv(4, &[0; 0x7F])[..2], [4, 0x7F]);
    assert_eq!(tlv(4, &[0; 0x80])[..3], [4, 0x81, 0x80]);
    assert_eq!(tlv(4, &[0; 0x100])[..4], [4, 0x82, 1, 0]);
    // What it writes, it reads back.
    for be in [&[0x80u8][..], &[0x12, 0x34], &[0xFF; 300]] {
        assert_eq!(Reader::new(&int(be)).positive().unwrap(), be);
    }
}

#[test]
fn accepts_pkcs8_variants_the_rfcs_allow() {
    let pkcs1 = der_of(PKCS1_2048);
    let absent_params = sequence(&[tlv(OID, &RSA_ENCRYPTION)]);
    let attributes = tlv(ATTRIBUTES, &tlv(SEQUENCE, &[]));
    let public_key = tlv(PUBLIC_KEY, &[0, 1, 2, 3]);
    for der in [
        pkcs8(0, &rsa_algorithm(), &pkcs1, &[]),
        pkcs8(0, &absent_params, &pkcs1, &[]),
        pkcs8(0, &rsa_algorithm(), &pkcs1, std::slice::from_ref(&attributes)),
        pkcs8(1, &rsa_algorithm(), &pkcs1, std::slice::from_ref(&public_key)),
        pkcs8(1, &rsa_algorithm(), &pkcs1, &[attributes.clone(), public_key.clone()]),
    ] {
        assert_eq!(pkcs8_result(&der), Ok(()));
    }
    // The openssl file is the first form exactly.
    assert_eq!(pkcs8(0, &rsa_algorithm(), &pkcs1, &[]), der_of(PKCS8_2048));
}

#[test]
fn refuses_pkcs8_that_is_not_a_plain_rsa_key() {
    let pkcs1 = der_of(PKCS1_2048);
    let rsa = rsa_algorithm();
    let public_key = tlv(PUBLIC_KEY, &[0, 1]);
    let attributes = tlv(ATTRIBUTES, &[]);
    // id-ecPublicKey, and RSASSA-PSS (a PSS-only key: not for PKCS#1 v1.5).
    let ec = sequence(&[tlv(OID, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]), tlv(NULL, &[])]);
    let pss = sequence(&[tlv(OID, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A])]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (pkcs8(2, &rsa, &pkcs1, &[]), "unknown PKCS#8 version"),
        (pkcs8(0, &ec, &pkcs1, &[]), "not an rsaEncryption key"),
        (pkcs8(0, &pss, &pkcs1, &[]), "not an rsaEncryption key"),
        (
            pkcs8(0, &sequence(&[tlv(OID, &RSA_ENCRYPTION), tlv(NULL, &[0])]), &pkcs1, &[]),
            "rsaEncryption parameters not NULL",
        ),
        (pkcs8(0, &sequence(&[tlv(OID, &RSA_ENCRYPTION), tlv(SEQUENCE, &[])]), &pkcs1, &[]), "unexpected element"),
        (
            pkcs8(0, &sequence(&[tlv(OID, &RSA_ENCRYPTION), tlv(NULL, &[]), tlv(NULL, &[])]), &pkcs1, &[]),
            "trailing bytes",
        ),
        (pkcs8(0, &rsa, &pkcs1, std::slice::from_ref(&public_key)), "PKCS#8 version does not match its public key"),
        (pkcs8(1, &rsa, &pkcs1, &[]), "PKCS#8 version does not match its public key"),
        (pkcs8(1, &rsa, &pkcs1, &[tlv(PUBLIC_KEY, &[])]), "bad public key bit string"),
        (pkcs8(1, &rsa, &pkcs1, &[tlv(PUBLIC_KEY, &[8])]), "bad public key bit string"),
        (pkcs8(1, &rsa, &pkcs1, &[public_key.clone(), attributes.clone()]), "trailing bytes"),
        (pkcs8(0, &rsa, &pkcs1, &[attributes.clone(), attributes.clone()]), "trailing bytes"),
        (pkcs8(0, &rsa, &pkcs1, &[tlv(NULL, &[])]), "trailing bytes"),
        (pkcs8(0, &rsa, &[&pkcs1[..], &[0]].concat(), &[]), "trailing bytes"),
        (pkcs8(0, &rsa, &pkcs1[..pkcs1.len() - 1], &[]), "truncated"),
        // A PKCS#1 key where PKCS#8 is expected, and the other way round.
        (pkcs1.clone(), "unexpected element"),
    ];
    for (der, reason) in cases {
        assert_eq!(pkcs8_result(&der), err(reason), "{reason}");
    }
    assert_eq!(pkcs1_result(&der_of(PKCS8_2048)), err("unexpected element"));
}

#[test]
fn refuses_malformed_pkcs1() {
    let parts = pkcs1_parts();
    assert_eq!(parts.len(), 9);
    let with = |i: usize, part: Vec<u8>| {
        let mut parts = parts.clone();
        parts[i] = part;
        sequence(&parts)
    };
    let good = sequence(&parts);
    assert_eq!(good, der_of(PKCS1_2048));
    let n = parts[1].clone();
    let cases: Vec<(Vec<u8>, std::result::Result<(), DerError>)> = vec![
        (with(0, int(&[1])), Err(DerError::MultiPrime)),
        (with(0, int(&[2])), err("unknown PKCS#1 version")),
        (with(0, int(&[1, 0])), err("version too large")),
        (with(0, tlv(INTEGER, &[0, 0])), err("integer not minimal")),
        (with(0, tlv(INTEGER, &[])), err("empty integer")),
        (with(2, tlv(INTEGER, &[0xFF, 0xFF])), err("negative integer")),
        (with(2, tlv(INTEGER, &[0x80])), err("negative integer")),
        (with(2, tlv(INTEGER, &[0, 1, 0, 1])), err("integer not minimal")),
        (with(3, int(&[0])), err("zero integer")),
        (with(8, tlv(OCTET_STRING, &[1])), err("unexpected element")),
        (with(8, tlv(INTEGER | 0x20, &[1])), err("unexpected element")),
        (with(1, tlv(INTEGER, &[0x7F; MAX_INT_BYTES + 1])), err("integer too large")),
        (sequence(&parts[..8]), err("truncated")),
        (sequence(&[parts.clone(), vec![int(&[1])]].concat()), err("trailing bytes")),
        (sequence(&[parts.clone(), vec![sequence(&[])]].concat()), err("trailing bytes")),
        ([&good[..], &[0]].concat(), err("trailing bytes")),
        ([&good[..], &good[..]].concat(), err("trailing bytes")),
        (good[..good.len() - 1].to_vec(), err("truncated")),
        (tlv(OCTET_STRING, &parts.concat()), err("unexpected element")),
        (n, err("unexpected element")),
        (vec![], err("truncated")),
        (vec![0x30], err("truncated")),
        (vec![1, 2, 3], err("truncated")),
        (vec![1, 1, 3], err("unexpected element")),
        (vec![0x30, 0x00], err("truncated")),
        (vec![0x30, 0x03, 0x02, 0x01], err("truncated")),
    ];
    for (i, (der, expected)) in cases.into_iter().enumerate() {
        assert_eq!(pkcs1_result(&der), expected, "case {i}");
    }
}

#[test]
fn refuses_bad_lengths_and_tags() {
    let good = der_of(PKCS1_2048);
    let content = &good[4..];
    assert_eq!(good[..4], [0x30, 0x82, 0x04, 0xA2], "the 2048-bit key's header");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Indefinite length, with and without its end-of-contents octets.
        ([&[0x30, 0x80][..], content, &[0, 0]].concat(), "indefinite length"),
        ([&[0x30, 0x80][..], content].concat(), "indefinite length"),
        // The same length in a longer form than needed.
        ([&[0x30, 0x83, 0x00, 0x04, 0xA2][..], content].concat(), "length not minimal"),
        ([&[0x30, 0x84, 0x00, 0x00, 0x04, 0xA2][..], content].concat(), "length too long"),
        (vec![0x30, 0x81, 0x05, 1, 2, 3, 4, 5], "length not minimal"),
        (vec![0x30, 0x81, 0x00], "length not minimal"),
        (vec![0x30, 0x89, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "length too long"),
        (vec![0x30, 0xFF], "length too long"),
        // Lengths past the end of the input.
        ([&[0x30, 0x82, 0x04, 0xA3][..], content].concat(), "truncated"),
        (vec![0x30, 0x83, 0xFF, 0xFF, 0xFF], "truncated"),
        (vec![0x30, 0x82, 0x01], "truncated"),
        (vec![0x30, 0x7F], "truncated"),
        (vec![0x1F, 0x01, 0x00], "multi-byte tag"),
        (vec![0x3F, 0x81, 0x01, 0x00], "multi-byte tag"),
    ];
    for (der, reason) in cases {
        assert_eq!(pkcs1_result(&der), err(reason), "{reason}: {:02x?}", &der[..der.len().min(6)]);
        assert_eq!(pkcs8_result(&der), err(reason), "{reason}");
    }
    // An INTEGER whose own length is not minimal, inside a good sequence.
    let parts = pkcs1_parts();
    let mut long_version = vec![vec![0x02, 0x81, 0x01, 0x00]];
    long_version.extend_from_slice(&parts[1..]);
    assert_eq!(pkcs1_result(&sequence(&long_version)), err("length not minimal"));
}

/// A small deterministic generator for the fuzz-style loops.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn never_panics_on_truncations_flips_and_junk() {
    let mut rng = Lcg(11);
    for pem in [PKCS8_2048, PKCS1_2048, PKCS8_3072, PKCS1_3072] {
        let der = der_of(pem);
        let read = |bytes: &[u8]| (pkcs8_result(bytes), pkcs1_result(bytes));
        // Every proper prefix is refused by both readers.
        for len in 0..der.len() {
            let (a, b) = read(&der[..len]);
            assert!(a.is_err() && b.is_err(), "prefix {len}");
        }
        // Every byte flipped a few ways, and a byte appended or removed anywhere.
        for i in 0..der.len() {
            for mask in [0x01, 0x80, 0xFF] {
                let mut bytes = der.clone();
                bytes[i] ^= mask;
                let _ = read(&bytes);
            }
            let mut shorter = der.clone();
            shorter.remove(i);
            let _ = read(&shorter);
            let mut longer = der.clone();
            longer.insert(i, rng.next() as u8);
            let _ = read(&longer);
        }
        // Random splices and overwrites.
        for _ in 0..2000 {
            let mut bytes = der.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] = rng.next() as u8,
                    1 => bytes.truncate(at),
                    _ => {
                        let from = rng.below(der.len());
                        let len = rng.below(8).min(der.len() - from);
                        bytes.splice(at..at, der[from..from + len].iter().copied());
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = read(&bytes);
        }
    }
    // Short random junk, biased to DER-looking bytes.
    for _ in 0..20000 {
        let len = rng.below(24);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.below(4) {
                0 => [0x30, 0x02, 0x04, 0x06, 0x05, 0x80, 0x81, 0x82, 0xA0, 0x00][rng.below(10)],
                _ => rng.next() as u8,
            })
            .collect();
        let _ = (pkcs8_result(&bytes), pkcs1_result(&bytes));
    }
}
