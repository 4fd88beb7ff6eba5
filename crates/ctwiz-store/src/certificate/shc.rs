//! SMART Health Cards (HL7 FHIR IG "SMART Health Cards and Links", cards spec): a FHIR R4
//! `collection` bundle of one Patient and its Immunizations (CVX codes), inside a verifiable
//! credential, compressed with raw DEFLATE (`zip: DEF`) and signed as a compact JWS with
//! ES256 on P-256. The `kid` is the RFC 7638 thumbprint of the public key, which verifiers
//! fetch from `{iss}/.well-known/jwks.json`. A card travels as a `shc:/` numeric QR code
//! (each JWS character as two digits, its code minus 45) or as a `.smart-health-card` file.

use super::ShcKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose::Dose;
use ctwiz_core::patient::{Patient, Sex};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// Why a card could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum ShcError {
    #[error("the issuer URL {0:?} must start with https:// (or http:// for a local test server) and not end with /")]
    IssuerUrl(String),
    #[error("stored issuer key {kid} is damaged: {why}")]
    Key { kid: String, why: String },
    #[error("not a SMART Health Card: {0}")]
    Malformed(String),
    #[error("the card's signature does not verify with key {0}")]
    BadSignature(String),
    #[error("the card was signed with key {0:?}, which this registry never published")]
    UnknownKey(String),
}

/// The card's issuer: its base URL, the `iss` claim (keys at `{url}/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerUrl(String);

impl IssuerUrl {
    pub fn new(url: &str) -> Result<Self, ShcError> {
        let u = url.trim();
        let ok = (u.starts_with("https://") || u.starts_with("http://"))
            && !u.ends_with('/')
            && u.len() > "https://".len()
            && !u.contains(char::is_whitespace);
        if ok {
            Ok(IssuerUrl(u.to_string()))
        } else {
            Err(ShcError::IssuerUrl(url.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Where verifiers fetch the keys.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.0)
    }
}

/// RFC 7638 thumbprint and the public JWK of `vk`.
fn public_jwk(vk: &VerifyingKey) -> (String, Value) {
    let point = vk.to_encoded_point(false);
    let x = B64.encode(point.x().expect("an uncompressed point has x"));
    let y = B64.encode(point.y().expect("an uncompressed point has y"));
    // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = B64.encode(Sha256::digest(canonical.as_bytes()));
    let jwk = json!({
        "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": x, "y": y,
    });
    (kid, jwk)
}

/// A new key from 32 random bytes (`secret`), created at `now`. Returns `None` for the
/// (astronomically rare) bytes that are not a valid P-256 scalar: draw again.
pub fn new_key(secret: [u8; 32], now: NaiveDateTime) -> Option<ShcKey> {
    let sk = SigningKey::from_slice(&secret).ok()?;
    let (kid, jwk) = public_jwk(sk.verifying_key());
    Some(ShcKey {
        kid,
        private_key: sk.to_bytes().to_vec(),
        public_jwk: jwk.to_string(),
        created_at: now,
        retired_at: None,
    })
}

fn signing_key(key: &ShcKey) -> Result<SigningKey, ShcError> {
    SigningKey::from_slice(&key.private_key).map_err(|e| ShcError::Key {
        kid: key.kid.clone(),
        why: e.to_string(),
    })
}

/// The JWK Set published at `/.well-known/jwks.json`: every key, retired ones too.
pub fn jwks(keys: &[ShcKey]) -> Result<Value, ShcError> {
    let keys = keys
        .iter()
        .map(|k| {
            serde_json::from_str::<Value>(&k.public_jwk).map_err(|e| ShcError::Key {
                kid: k.kid.clone(),
                why: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "keys": keys }))
}

fn fhir_gender(s: Sex) -> &'static str {
    match s {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Unknown => "unknown",
    }
}

/// The FHIR R4 bundle: the Patient (name as written, birth date) and one Immunization per
/// dose given (CVX, date, lot), minimised as the spec asks (no ids, no narrative, `resource:N`
/// references).
pub fn fhir_bundle(p: &Patient, doses: &[Dose]) -> Value {
    let mut given = vec![p.name.given.clone()];
    given.extend(p.name.middle.iter().filter(|m| !m.is_empty()).cloned());
    let mut entries = vec![json!({
        "fullUrl": "resource:0",
        "resource": {
            "resourceType": "Patient",
            "name": [{ "family": p.name.family, "given": given }],
            "birthDate": p.dob.to_string(),
            "gender": fhir_gender(p.sex),
        }
    })];
    let mut given_doses: Vec<&Dose> = doses.iter().filter(|d| d.was_given()).collect();
    given_doses.sort_by(|a, b| (a.date, &a.cvx).cmp(&(b.date, &b.cvx)));
    for (i, d) in given_doses.into_iter().enumerate() {
        let mut imm = json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": { "coding": [{
                "system": "http://hl7.org/fhir/sid/cvx", "code": d.cvx.as_str(),
            }]},
            "patient": { "reference": "resource:0" },
            "occurrenceDateTime": d.date.to_string(),
        });
        if let Some(lot) = &d.lot {
            imm["lotNumber"] = json!(lot.as_str());
        }
        entries.push(json!({ "fullUrl": format!("resource:{}", i + 1), "resource": imm }));
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

/// Signs `bundle` as a SMART Health Card issued by `iss` at `now` with `key`: the compact
/// JWS (`header.payload.signature`, payload raw-DEFLATEd).
pub fn sign(
    bundle: Value,
    iss: &IssuerUrl,
    key: &ShcKey,
    now: NaiveDateTime,
) -> Result<String, ShcError> {
    let sk = signing_key(key)?;
    let payload = json!({
        "iss": iss.as_str(),
        "nbf": now.and_utc().timestamp(),
        "vc": {
            "type": ["https://smarthealth.cards#health-card"],
            "credentialSubject": { "fhirVersion": "4.0.1", "fhirBundle": bundle },
        }
    });
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(payload.to_string().as_bytes())
        .and_then(|()| z.flush())
        .expect("compressing into memory cannot fail");
    let compressed = z.finish().expect("compressing into memory cannot fail");
    let header = json!({ "alg": "ES256", "zip": "DEF", "kid": key.kid });
    let signing_input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(compressed)
    );
    let sig: Signature = sk.sign(signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", B64.encode(sig.to_bytes())))
}

/// The `shc:/` QR content of a JWS: numeric mode, each character as `ord - 45` in two
/// digits.
pub fn qr_numeric(jws: &str) -> String {
    let mut s = String::with_capacity(5 + jws.len() * 2);
    s.push_str("shc:/");
    for b in jws.bytes() {
        // Base64url and '.' are all between '-' (45) and 'z' (122).
        let v = b.saturating_sub(45);
        s.push(char::from(b'0' + v / 10));
        s.push(char::from(b'0' + v % 10));
    }
    s
}

/// The contents of a `.smart-health-card` file (`application/smart-health-card`).
pub fn file(jws: &str) -> String {
    json!({ "verifiableCredential": [jws] }).to_string()
}

/// Verifies `jws` against `keys` (by `kid`) and returns the decompressed payload. ctwiz's
/// own check; CI also verifies with an independent implementation (Python jwcrypto).
pub fn verify(jws: &str, keys: &[ShcKey]) -> Result<Value, ShcError> {
    let bad = |w: &str| ShcError::Malformed(w.to_string());
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("a compact JWS has three parts"));
    };
    let header: Value = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the header is not base64url JSON"))?;
    if header["alg"] != "ES256" || header["zip"] != "DEF" {
        return Err(bad("the header must say alg ES256 and zip DEF"));
    }
    let kid = header["kid"].as_str().unwrap_or_default().to_string();
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| ShcError::UnknownKey(kid.clone()))?;
    let vk = *signing_key(key)?.verifying_key();
    let sig = B64
        .decode(s)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| bad("the signature is not a 64-byte ES256 signature"))?;
    vk.verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| ShcError::BadSignature(kid))?;
    let compressed = B64
        .decode(p)
        .map_err(|_| bad("the payload is not base64url"))?;
    let mut text = Vec::new();
    flate2::read::DeflateDecoder::new(&compressed[..])
        .read_to_end(&mut text)
        .map_err(|_| bad("the payload is not raw DEFLATE"))?;
    serde_json::from_slice(&text).map_err(|_| bad("the payload is not JSON"))
}

/// The issue date a verifier reads from a payload's `nbf`.
pub fn issued_on(payload: &Value) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(payload["nbf"].as_i64()?, 0).map(|t| t.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctwiz_core::dose::InformationSource;
    use ctwiz_core::ids::Cvx;
    use ctwiz_core::patient::PersonName;

    fn at() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("valid time")
    }

    fn key(seed: u8) -> ShcKey {
        new_key([seed; 32], at()).expect("valid scalar")
    }

    fn card(k: &ShcKey) -> String {
        let p = Patient::new(
            PersonName::new("Ελευθερίου", "Νίκη").expect("name"),
            NaiveDate::from_ymd_opt(2020, 2, 3).expect("date"),
            Sex::Female,
        )
        .expect("patient");
        let d = Dose::new(
            Cvx::new("20").expect("cvx"),
            NaiveDate::from_ymd_opt(2020, 4, 3).expect("date"),
            InformationSource::NewRecord,
        );
        let iss = IssuerUrl::new("https://iis.example.org").expect("url");
        sign(fhir_bundle(&p, &[d]), &iss, k, at()).expect("signs")
    }

    #[test]
    fn a_signed_card_verifies_and_carries_the_bundle() {
        let k = key(7);
        let jws = card(&k);
        let payload = verify(&jws, std::slice::from_ref(&k)).expect("verifies");
        let bundle = &payload["vc"]["credentialSubject"]["fhirBundle"];
        assert_eq!(
            bundle["entry"][0]["resource"]["name"][0]["family"],
            "Ελευθερίου"
        );
        assert_eq!(
            bundle["entry"][1]["resource"]["vaccineCode"]["coding"][0]["code"],
            "20"
        );
        assert_eq!(payload["iss"], "https://iis.example.org");
        assert_eq!(issued_on(&payload), Some(at().date()));
    }

    #[test]
    fn tampering_or_a_foreign_key_is_refused() {
        let k = key(7);
        let jws = card(&k);
        let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
        let mut payload = B64.decode(&parts[1]).expect("b64");
        payload[3] ^= 1;
        parts[1] = B64.encode(payload);
        assert!(matches!(
            verify(&parts.join("."), std::slice::from_ref(&k)),
            Err(ShcError::BadSignature(_))
        ));
        assert!(matches!(
            verify(&jws, &[key(9)]),
            Err(ShcError::UnknownKey(_))
        ));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_and_jwks_lists_every_key() {
        let (a, b) = (key(7), key(9));
        let set = jwks(&[a.clone(), b.clone()]).expect("jwks");
        assert_eq!(set["keys"].as_array().map(Vec::len), Some(2));
        assert_eq!(set["keys"][0]["kid"], a.kid.as_str());
        assert_eq!(set["keys"][0]["alg"], "ES256");
        assert_eq!(a.kid.len(), 43, "base64url of 32 bytes");
        assert_ne!(a.kid, b.kid);
    }

    #[test]
    fn qr_numeric_encodes_two_digits_per_character() {
        assert_eq!(qr_numeric("-.z"), "shc:/000177");
        assert_eq!(qr_numeric("ey"), "shc:/5676");
    }

    #[test]
    fn issuer_urls_are_checked() {
        assert!(IssuerUrl::new("https://iis.example.org").is_ok());
        assert!(IssuerUrl::new("https://iis.example.org/").is_err());
        assert!(IssuerUrl::new("ftp://x").is_err());
    }
}
